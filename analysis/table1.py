"""Table 1: RMSE (mean ± std) of SR (BO), SR (Random), SR (BO-GP), the GP and linear regression.

Usage::

    python -m analysis.table1 [--store results/store] [--out results/analysis]
                              [--experiment table1] [--n-samples N] [--parsimony P] [KEY=VALUE ...]

Reads the records of the ``table1`` preset's view (its n and parsimony come from
``conf/experiment/table1.yaml``: n = 140, parsimony 1e-4) with status ``ok``. Fits stopped by the
900 s SR time limit are left out, as the authors did (they interrupted such a fit and dropped it);
their number is shown beside each cell, and ``--include-timed-out`` puts them back. For each
protocol found it writes ``<out>/table1/<protocol>/``:

- ``table1.csv`` / ``table1.md`` / ``table1.tex``: one row per model x dataset (paper order)
  plus an ``Average`` row (mean of the row means); best / second-best SR mean per row in bold /
  underline (LaTeX) or ``**`` / ``_`` (Markdown), as in the paper (SR columns only, compared on
  unrounded means; ties for best are all bold, as in the authors' ``latex_utils.py``; the
  Average row is not marked). CSV columns: ``<method>_mean``, ``<method>_std``, ``<method>_n``
  (runs; in the Average row: rows averaged), ``best``, ``second_best`` (method keys).
- ``comparison.csv`` / ``comparison.md``: each of the 200 published cells (40 rows x 5 columns)
  beside the reproduced one, the difference, and whether the reproduced mean lies inside the
  published mean ± std; a summary (cells that agree, the ordering of the column averages) and
  the list of missing cells.

Statistics. The mean and standard deviation are taken over all runs of a cell (5 sampling
seeds x 3 SR seeds for SR, 5 sampling seeds for the baselines, whose ``sr_seed`` is null). The
standard deviation is the *sample* standard deviation (``ddof=1``): the authors' table script
(automl/symbolic-explanations-hpo, ``metrics_hpobench.py``, which feeds
``utils.latex_utils.generate_result_table``) computes ``df_error_metrics["rmse_test"].mean()``
and ``.std(axis=0)`` on a pandas Series over all runs at that sample size, and pandas' default is
``ddof=1``; the paper (Appendix D) says standard deviations are "computed across the 5 x 3 = 15
repetitions". A cell with a single run has no std (shown as –).

Agreement. The published figures are rounded to 3 decimals, so a reproduced mean counts as
inside when, rounded to 3 decimals like the paper, it lies in ``[pub_mean - pub_std,
pub_mean + pub_std]`` (a printed std of 0.000 then means "the same printed mean").
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cli import make_parser, run_cli
from analysis.names import (
    DATASET_NAMES, DATASET_ORDER, MODEL_HPS, MODEL_NAMES, MODEL_ORDER, dataset_name, method_label,
    model_dataset_cells, model_name,
)
from analysis.output import fmt, latex_escape, markdown_table, Report, write_csv, write_text
from symexp.textsafe import markdown
from analysis.views import (
    select_records,
    PUBLISHED_TABLE1, check_experiment, check_store, is_close, load_ok, the_one, view_of, view_setting, ViewRef,
)
from symexp.store.records import METHODS, SR_METHODS
from symexp.errors import SymexpError

DEFAULT_EXPERIMENT = "table1"
DDOF = 1  # sample standard deviation, as pandas' default used by the authors
PUBLISHED_AVERAGES = {
    "sr_bo": 0.0412, "sr_random": 0.0306, "sr_bo_gp": 0.0274,
    "gp_baseline": 0.0200, "linear_regression": 0.0503,
}
PUBLISHED_DECIMALS = 3
AVERAGE = "Average"


# -- statistics ----------------------------------------------------------------------------
def cell_stats(sel: pd.DataFrame) -> pd.DataFrame:
    """Long table: protocol, model, dataset, method, mean, std (ddof=1), n."""
    cols = ["protocol", "model", "dataset", "method", "mean", "std", "n"]
    if len(sel) == 0:
        return pd.DataFrame(columns=cols)
    g = sel.groupby(["protocol", "model", "dataset", "method"], sort=False)["test_rmse"]
    out = g.agg(mean="mean", std=lambda s: s.std(ddof=DDOF), n="count").reset_index()
    return out[cols]


def mark_best(means: dict[str, float]) -> tuple[list[str], list[str]]:
    """Best and second-best SR methods of one row (smallest mean RMSE), like the paper.

    As in the authors' ``bold_extreme_values``: every method equal to the minimum is best; the
    second-best value is the second-smallest entry (``np.partition(values, 1)[1]``), underlined
    only if it differs from the best.
    """
    vals = {m: v for m, v in means.items() if m in SR_METHODS and v is not None and math.isfinite(v)}
    if not vals:
        return [], []
    arr = np.array(list(vals.values()))
    best_v = arr.min()
    best = [m for m in SR_METHODS if m in vals and vals[m] == best_v]
    if len(arr) < 2:
        return best, []
    second_v = np.partition(arr, 1)[1]
    second = [m for m in SR_METHODS if m in vals and vals[m] == second_v and second_v != best_v]
    return best, second


def build_table(stats: pd.DataFrame, cells: list[tuple[str, str]], timed_out: pd.DataFrame | None = None) -> pd.DataFrame:
    """Wide table of one protocol: rows = ``cells`` + Average; per method mean, std, n, and the
    number of SR fits stopped by the time limit (``<method>_timed_out``)."""
    idx = {(r.model, r.dataset, r.method): r for r in stats.itertuples(index=False)}
    late = {} if timed_out is None else {(r.model, r.dataset, r.method): int(r.timed_out)
                                         for r in timed_out.itertuples(index=False)}
    rows = []
    for model, dataset in cells:
        row: dict[str, object] = {
            "model": model_name(model), "hyperparameters": ", ".join(MODEL_HPS.get(model, ())),
            "dataset": dataset_name(dataset), "model_key": model, "dataset_key": dataset,
        }
        means = {}
        for m in METHODS:
            r = idx.get((model, dataset, m))
            row[f"{m}_mean"] = float(r.mean) if r is not None else np.nan
            row[f"{m}_std"] = float(r.std) if r is not None else np.nan
            row[f"{m}_n"] = int(r.n) if r is not None else 0
            row[f"{m}_timed_out"] = late.get((model, dataset, m), 0)
            means[m] = row[f"{m}_mean"]
        best, second = mark_best(means)
        row["best"] = ",".join(best)
        row["second_best"] = ",".join(second)
        rows.append(row)
    table = pd.DataFrame(rows)
    avg: dict[str, object] = {"model": AVERAGE, "hyperparameters": "", "dataset": "",
                              "model_key": "", "dataset_key": "", "best": "", "second_best": ""}
    for m in METHODS:
        col = table[f"{m}_mean"] if len(table) else pd.Series(dtype=float)
        avg[f"{m}_mean"] = float(col.mean()) if col.notna().any() else np.nan
        avg[f"{m}_std"] = np.nan
        avg[f"{m}_n"] = int(col.notna().sum())  # rows that enter the average
        avg[f"{m}_timed_out"] = int(table[f"{m}_timed_out"].sum()) if len(table) else 0
    table = pd.concat([table, pd.DataFrame([avg])], ignore_index=True)
    ordered = ["model", "hyperparameters", "dataset"]
    ordered += [f"{m}_{s}" for m in METHODS for s in ("mean", "std", "n", "timed_out")]
    ordered += ["best", "second_best", "model_key", "dataset_key"]
    return table[ordered]


# -- rendering -----------------------------------------------------------------------------
def _cell_text(row: pd.Series, m: str, style: str) -> str:
    mean, std = row[f"{m}_mean"], row[f"{m}_std"]
    if row["model"] == AVERAGE:
        return fmt(mean, 4)
    if not np.isfinite(mean):
        return "–"
    mean_s = fmt(mean, PUBLISHED_DECIMALS)
    best = m in str(row["best"]).split(",")
    second = m in str(row["second_best"]).split(",")
    late = int(row.get(f"{m}_timed_out", 0) or 0)
    if style == "md":
        mean_s = f"**{mean_s}**" if best else f"_{mean_s}_" if second else mean_s
        pm, mark = " ± ", (f" ({late}⏱)" if late else "")
    else:
        mean_s = rf"\textbf{{{mean_s}}}" if best else rf"\underline{{{mean_s}}}" if second else mean_s
        pm, mark = r" $\pm$ ", (rf"$^{{{late}\dagger}}$" if late else "")
    return mean_s + (pm + fmt(std, PUBLISHED_DECIMALS) if np.isfinite(std) else "") + mark


def to_markdown(table: pd.DataFrame, title: str) -> str:
    header = ["Model", "Hyperparameters", "Dataset"] + [method_label(m) for m in METHODS]
    rows, prev = [], None
    for _, r in table.iterrows():
        first = r["model"] != prev
        prev = r["model"]
        rows.append([markdown(r["model"]) if first else "", markdown(r["hyperparameters"]) if first else "",
                     markdown(r["dataset"])]
                    + [_cell_text(r, m, "md") for m in METHODS])
    legend = ("RMSE between predicted and true cost, mean ± std (ddof=1) over sampling seeds x SR "
              "seeds; **best** / _second best_ SR mean per row. Average: mean of the row means. "
              "(k⏱): k SR fits of that cell stopped by the time limit (see the CSV's `_timed_out` columns).")
    return f"# {title}\n\n{legend}\n\n" + markdown_table(header, rows, ["l", "l", "l"] + ["r"] * 5) + "\n"


def to_latex(table: pd.DataFrame, caption: str) -> str:
    cols = "lll" + "r" * len(METHODS)
    head = " & ".join(["Model", "Hyperparameters", "Dataset"] + [method_label(m) for m in METHODS])
    lines = [r"% Requires \usepackage{booktabs}", r"\begin{table}[t]", r"\centering", r"\small",
             rf"\begin{{tabular}}{{{cols}}}", r"\toprule", head + r" \\", r"\midrule"]
    prev = None
    for _, r in table.iterrows():
        if r["model"] == AVERAGE:
            lines.append(r"\midrule")
            cells = [AVERAGE, "", ""]
        else:
            first = r["model"] != prev
            if first and prev is not None:
                lines.append(r"\midrule")
            cells = [latex_escape(r["model"]) if first else "",
                     latex_escape(r["hyperparameters"]) if first else "", latex_escape(r["dataset"])]
        prev = r["model"]
        cells += [_cell_text(r, m, "tex") for m in METHODS]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{caption}}}", r"\label{tab:rmse}",
              r"\end{table}"]
    return "\n".join(lines) + "\n"


# -- comparison with the paper -------------------------------------------------------------
def load_published(path: Path = PUBLISHED_TABLE1) -> pd.DataFrame:
    """The published table with our model/dataset keys added (``model_key``, ``dataset_key``)."""
    pub = pd.read_csv(path)
    inv_model = {v: k for k, v in MODEL_NAMES.items()}
    inv_data = {v: k for k, v in DATASET_NAMES.items()}
    pub["model_key"] = pub["model"].map(inv_model)
    pub["dataset_key"] = pub["dataset"].map(inv_data)
    if pub["model_key"].isna().any() or pub["dataset_key"].isna().any():
        raise SymexpError(f"{path}: unrecognised model or dataset names")
    return pub


def inside_published(ours_mean: float, pub_mean: float, pub_std: float) -> bool:
    """Reproduced mean, rounded like the paper, inside published mean ± std."""
    r = round(float(ours_mean), PUBLISHED_DECIMALS)
    return bool(abs(r - pub_mean) <= pub_std + 1e-9)


def compare(stats: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """One row per published cell: published and reproduced mean/std, difference, agreement."""
    idx = {(r.model, r.dataset, r.method): r for r in stats.itertuples(index=False)}
    rows = []
    for _, p in published.iterrows():
        for m in METHODS:
            r = idx.get((p["model_key"], p["dataset_key"], m))
            pm, ps = float(p[f"{m}_mean"]), float(p[f"{m}_std"])
            row = {"model": p["model"], "dataset": p["dataset"], "method": m, "column": method_label(m),
                   "published_mean": pm, "published_std": ps,
                   "reproduced_mean": np.nan, "reproduced_std": np.nan, "reproduced_n": 0,
                   "difference": np.nan, "inside": None, "status": "missing"}
            if r is not None and np.isfinite(r.mean):
                row.update(reproduced_mean=float(r.mean), reproduced_std=float(r.std), reproduced_n=int(r.n),
                           difference=float(r.mean) - pm, inside=inside_published(r.mean, pm, ps),
                           status="agree" if inside_published(r.mean, pm, ps) else "differs")
            rows.append(row)
    return pd.DataFrame(rows)


def ordering_summary(cmp: pd.DataFrame) -> dict[str, object]:
    """Column-average ordering, published vs reproduced (over the rows complete in all columns)."""
    pub_order = sorted(METHODS, key=lambda m: PUBLISHED_AVERAGES[m])
    keyed = cmp.set_index(["model", "dataset", "method"])
    wide = keyed["reproduced_mean"].unstack("method").reindex(columns=list(METHODS))
    complete = wide.dropna()
    out: dict[str, object] = {"published_order": pub_order, "n_complete_rows": len(complete)}
    if len(complete) == 0:
        out.update(reproduced_order=None, holds=None, reproduced_averages=None, published_averages_same_rows=None)
        return out
    avgs = complete.mean()
    pubwide = keyed["published_mean"].unstack("method").reindex(columns=list(METHODS))
    pub_same = pubwide.loc[complete.index].mean()
    rep_order = sorted(METHODS, key=lambda m: avgs[m])
    # On a sub-grid the published averages over the same rows can order differently from the
    # full table's: report that ordering too, and whether ours matches it.
    pub_same_order = sorted(METHODS, key=lambda m: pub_same[m])
    out.update(published_order_same_rows=pub_same_order, holds_same_rows=rep_order == pub_same_order)
    out.update(reproduced_order=rep_order, holds=rep_order == pub_order,
               reproduced_averages={m: float(avgs[m]) for m in METHODS},
               published_averages_same_rows={m: float(pub_same[m]) for m in METHODS})
    return out


def comparison_markdown(cmp: pd.DataFrame, order: dict[str, object], title: str) -> tuple[str, list[str]]:
    n_total = len(cmp)
    n_agree = int((cmp["status"] == "agree").sum())
    n_diff = int((cmp["status"] == "differs").sum())
    missing = [f"{r.model} / {r.dataset} / {r.column}" for r in cmp.itertuples() if r.status == "missing"]
    lines = [f"# {title}", "",
             f"**Cells that agree: {n_agree} of {n_total}** (reproduced mean, rounded to 3 decimals, inside "
             f"published mean ± std); differ: {n_diff}; missing: {len(missing)}.", ""]
    po = " < ".join(method_label(m) for m in order["published_order"])
    lines.append(f"Published ordering of the column averages (all 40 rows): {po} "
                 f"({', '.join(f'{method_label(m)} {PUBLISHED_AVERAGES[m]:.4f}' for m in METHODS)}).")
    if order["reproduced_order"] is None:
        lines.append("Reproduced ordering: cannot be assessed (no row has all five columns).")
    else:
        ro = " < ".join(method_label(m) for m in order["reproduced_order"])
        ra, pa = order["reproduced_averages"], order["published_averages_same_rows"]
        lines.append(f"Reproduced ordering over the {order['n_complete_rows']} row(s) complete in all five columns: "
                     f"{ro} ({', '.join(f'{method_label(m)} {ra[m]:.4f}' for m in METHODS)}; published over "
                     f"the same rows: {', '.join(f'{pa[m]:.4f}' for m in METHODS)}).")
        lines.append(f"**Paper's ordering holds: {'yes' if order['holds'] else 'no'}.**")
        if order["n_complete_rows"] < 40:
            ps = " < ".join(method_label(m) for m in order["published_order_same_rows"])
            lines.append(f"Published ordering over the same {order['n_complete_rows']} row(s): {ps}; "
                         f"reproduced matches it: {'yes' if order['holds_same_rows'] else 'no'}.")
    lines.append("")
    header = ["Model", "Dataset"] + [method_label(m) for m in METHODS]
    rows, prev = [], None
    for (model, dataset), grp in cmp.groupby(["model", "dataset"], sort=False):
        cells = []
        for m in METHODS:
            r = grp[grp["method"] == m].iloc[0]
            pub = f"{r.published_mean:.3f} ± {r.published_std:.3f}"
            if r.status == "missing":
                cells.append(f"{pub} / – (missing)")
            else:
                mark = "✓" if r.status == "agree" else "✗"
                cells.append(f"{pub} / {r.reproduced_mean:.3f} ({r.difference:+.3f}) {mark}")
        rows.append([model if model != prev else "", dataset] + cells)
        prev = model
    lines += ["Each cell: published mean ± std / reproduced mean (reproduced − published) ✓ inside, ✗ outside.", "",
              markdown_table(header, rows, ["l", "l"] + ["r"] * 5), ""]
    if missing:
        lines += [f"## Missing cells ({len(missing)})", ""] + [f"- {m}" for m in missing] + [""]
    return "\n".join(lines), missing


# -- builder -------------------------------------------------------------------------------
def timed_out_counts(all_df: pd.DataFrame, n_samples: int, parsimony: float) -> pd.DataFrame:
    """Per (protocol, model, dataset, method): SR fits of the table's n and parsimony stopped by the time limit."""
    cols = ["protocol", "model", "dataset", "method", "timed_out"]
    if len(all_df) == 0:
        return pd.DataFrame(columns=cols)
    t = all_df[(all_df["status"] == "ok") & all_df["sr_timed_out"].fillna(False).astype(bool)
               & (all_df["n_samples"] == n_samples) & is_close(all_df["parsimony"], parsimony)]
    return t.groupby(["protocol", "model", "dataset", "method"]).size().rename("timed_out").reset_index()


def build(store: Path, out: Path, experiment: str = DEFAULT_EXPERIMENT, n_samples: int | None = None,
          parsimony: float | None = None, published_path: Path = PUBLISHED_TABLE1,
          include_timed_out: bool = False) -> Report:
    """Build Table 1 and its comparison for every protocol in ``experiment``; never raises on missing data.

    ``n_samples`` / ``parsimony``: default the preset's own (its single value)."""
    rep = Report("table1")
    setting = view_setting(experiment)
    n_samples = n_samples or the_one(setting["n_samples"], "n_samples", experiment)
    parsimony = parsimony or the_one(setting["parsimony"], "parsimony", experiment)
    all_df, ok = load_ok(store, experiment, include_timed_out)
    sel = select_records(ok, METHODS, n_samples, parsimony)
    timed_out = timed_out_counts(all_df, n_samples, parsimony)
    if len(timed_out):
        verb = "included" if include_timed_out else "left out (--include-timed-out keeps them)"
        rep.notes.append(f"{int(timed_out['timed_out'].sum())} SR fit(s) stopped by the time limit: {verb}")
    # Compare only the published rows the view asks for (a sub-grid such as the paper subset is
    # not "missing" the 30 rows it never meant to run).
    in_view = {(c.spec.model, c.spec.dataset) for c in view_of(experiment).cells}
    published = load_published(published_path)
    published = published[[(m, d) in in_view for m, d in zip(published["model_key"], published["dataset_key"])]]
    n_pub = len(published) * len(METHODS)
    if len(all_df) == 0:
        rep.missing.append(f"no records for experiment {experiment!r} in {store} (all {n_pub} cells missing)")
        return rep
    n_failed = int((all_df["status"] != "ok").sum())
    if n_failed:
        rep.notes.append(f"{n_failed} record(s) with status != ok ignored")
    if len(sel) == 0:
        rep.missing.append(f"no ok records with n_samples={n_samples} (SR: parsimony={parsimony:g}) "
                           f"in experiment {experiment!r} (all {n_pub} cells missing)")
        return rep
    stats = cell_stats(sel)
    for protocol in sorted(stats["protocol"].unique()):
        st = stats[stats["protocol"] == protocol]
        cells = model_dataset_cells(st)
        table = build_table(st, cells, timed_out[timed_out["protocol"] == protocol])
        d = out / "table1" / protocol
        title = f"Table 1 — RMSE (experiment {experiment}, protocol {protocol}, n={n_samples}, parsimony={parsimony:g})"
        rep.add(write_csv(d / "table1.csv", table),
                write_text(d / "table1.md", to_markdown(table, title)),
                write_text(d / "table1.tex", to_latex(table, latex_escape(title.replace("—", "--")))))
        if len(published) == 0:  # e.g. the smoke preset's benchmarks: nothing published to compare with
            rep.notes.append(f"[{protocol}] no published row among this view's (model, dataset) pairs: "
                             "no comparison with the paper")
            continue
        cmp = compare(st, published)
        order = ordering_summary(cmp)
        md, missing = comparison_markdown(cmp, order, f"Table 1 vs the paper (protocol {protocol})")
        rep.add(write_csv(d / "comparison.csv", cmp), write_text(d / "comparison.md", md))
        n_agree = int((cmp["status"] == "agree").sum())
        holds = order["holds"]
        rep.notes.append(f"[{protocol}] {n_agree} of {len(cmp)} published cells agree; {len(missing)} missing; "
                         f"paper's column-average ordering holds: "
                         f"{'n/a' if holds is None else 'yes' if holds else 'no'}")
        rep.missing += [f"[{protocol}] {m}" for m in missing]
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.table1", "Table 1 (RMSE of SR variants and baselines) and its comparison with the paper.",
                    DEFAULT_EXPERIMENT)
    p.add_argument("--n-samples", type=int, default=None, help="sample size n (default: the preset's)")
    p.add_argument("--parsimony", type=float, default=None, help="SR parsimony (default: the preset's)")
    args = p.parse_args(argv)
    store = check_store(args.store)
    check_experiment(store, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), explicit=args.experiment is not None)
    rep = build(store, args.out, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), args.n_samples, args.parsimony,
                include_timed_out=args.include_timed_out)
    print(rep.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.table1"))
