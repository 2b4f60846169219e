"""The paper's claims, one row each, against what the committed records measure.

Usage::

    python -m analysis.claims --store results/paper_subset/store --out results/paper_subset \
        [KEY=VALUE ...]          # view overrides applied to every preset, e.g. dataset=... sampling_seed=0

Every claim reads the records of one preset's view (``table1``, ``sample_size``, ``parsimony``,
``pdp``, built from ``conf/`` with the given overrides) and states: the paper's words (short),
where they are, what was measured, on which rows and seeds, and a verdict with its criterion:
``holds``, ``partly``, ``does not hold`` or ``not measured`` (no records yet: the make target
that computes them is named). Written: ``<out>/claims.md`` and ``<out>/claims.csv``; both are a
pure function of the records, so a rebuild from the same store is byte for byte the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cli import make_parser, run_cli
from analysis.names import METHODS as METHOD_ORDER
from analysis.names import dataset_name, method_label, model_name
from analysis.output import fmt, markdown_table, write_csv, write_text
from analysis.views import ViewRef, check_store, is_close, load_ok, the_one, view_setting
from analysis.table1 import load_published
from symexp.symbolic.elbow import elbow_of_sweep

HOLDS, PARTLY, FAILS, NOT_MEASURED = "holds", "partly", "does not hold", "not measured"


@dataclass
class Claim:
    """One row of the claims table."""

    key: str
    where: str
    paper: str
    measured: str = ""
    rows: str = ""
    verdict: str = NOT_MEASURED
    criterion: str = ""
    notes: list[str] = field(default_factory=list)


def _rows_label(df: pd.DataFrame) -> str:
    if len(df) == 0:
        return "-"
    cells = {(m, d) for m, d in zip(df["model"], df["dataset"])}
    models = sorted({m for m, _ in cells})
    datasets = sorted({d for _, d in cells})
    seeds = sorted({int(s) for s in df["sampling_seed"].dropna()})
    sr = sorted({int(s) for s in df["sr_seed"].dropna()}) if "sr_seed" in df else []
    shape = (f"{', '.join(models)} x {', '.join(dataset_name(d) for d in datasets)}"
             if len(cells) == len(models) * len(datasets)
             else ", ".join(f"{m} / {dataset_name(d)}" for m, d in sorted(cells)))
    return f"{len(cells)} rows ({shape}); sampling seeds {seeds}" + (f"; SR seeds {sr}" if sr else "")


def _not_measured(claim: Claim, preset: str, target: str) -> Claim:
    claim.verdict = NOT_MEASURED
    claim.measured = f"no usable records of the {preset} view in this store"
    claim.criterion = f"computed by `{target}`"
    return claim


# -- Table 1 -------------------------------------------------------------------------------------

def _table1_means(ok: pd.DataFrame, view: ViewRef) -> pd.DataFrame:
    """Mean test RMSE per (model, dataset) x method over the rows that have all five columns."""
    setting = view_setting(view)
    n = the_one(setting["n_samples"], "n_samples", view)
    p = the_one(setting["parsimony"], "parsimony", view)
    sel = ok[ok["method"].isin(METHOD_ORDER) & (ok["n_samples"] == n)]
    sel = sel[~sel["method"].str.startswith("sr_") | is_close(sel["parsimony"], p)]
    means = sel.groupby(["model", "dataset", "method"])["test_rmse"].mean().unstack("method")
    return means.dropna(subset=[m for m in METHOD_ORDER if m in means.columns]).reindex(columns=list(METHOD_ORDER))


def table1_claims(ok: pd.DataFrame, view: ViewRef) -> list[Claim]:
    order = Claim("table1-ordering", "Table 1, Sec. 5.1",
                  "Column averages over the 40 rows: GP < SR (BO-GP) < SR (Random) < SR (BO) < linear regression")
    bias = Claim("bias-bo-highest", "Sec. 5.1",
                 "Fitted on the BO samples directly, the RMSE is highest for most models and datasets")
    random_low = Claim("random-lowest", "Sec. 5.1",
                       "Fitting on random samples results in the lowest error in most cases")
    close = Claim("bo-gp-near-random", "Sec. 5.1",
                  "SR (BO-GP) gives errors close to SR (Random) and an even lower average error")
    means = _table1_means(ok, view) if len(ok) else pd.DataFrame()
    if len(means) == 0 or means.isna().all().all():
        return [_not_measured(c, "table1", "make paper-subset") for c in (order, bias, random_low, close)]
    rows = _rows_label(ok[ok.set_index(["model", "dataset"]).index.isin(means.index)])
    avg = means.mean()
    ours = sorted(METHOD_ORDER, key=lambda m: avg[m])
    pub = load_published()
    rows_here = set(means.index)
    sub = pub[[(m, d) in rows_here for m, d in zip(pub["model_key"], pub["dataset_key"])]]
    pub_avg = {m: float(sub[f"{m}_mean"].mean()) for m in METHOD_ORDER} if len(sub) else {}
    # the published order over all 40 rows (Table 1's Average row)
    paper_order = sorted(METHOD_ORDER, key=lambda m: float(pub[f"{m}_mean"].mean()))
    order.rows = rows
    order.measured = ("averages " + ", ".join(f"{method_label(m)} {fmt(avg[m], 4)}" for m in METHOD_ORDER)
                      + "; ours: " + " < ".join(method_label(m) for m in ours)
                      + ("; published on the same rows: " + " < ".join(
                          method_label(m) for m in sorted(pub_avg, key=pub_avg.get)) if pub_avg else ""))
    same = ours == paper_order
    ends = ours[0] == paper_order[0] and set(ours[-2:]) == set(paper_order[-2:])
    order.verdict = HOLDS if same else (PARTLY if ends else FAILS)
    order.criterion = "holds: the same order; partly: GP first and SR (BO), linear regression last"

    sr_cols = ["sr_bo", "sr_random", "sr_bo_gp"]
    highest, lowest = means[sr_cols].idxmax(axis=1), means[sr_cols].idxmin(axis=1)
    for claim, hits, method in ((bias, highest == "sr_bo", "SR (BO) highest"),
                                (random_low, lowest == "sr_random", "SR (Random) lowest")):
        claim.rows = rows
        claim.measured = (f"{method} of the three SR columns on {int(hits.sum())} of {len(means)} rows "
                          f"(row means over SR seeds)")
        claim.verdict = HOLDS if hits.mean() > 0.5 else (PARTLY if hits.any() else FAILS)
        claim.criterion = "holds: on more than half of the rows (\"most\"); partly: on some"

    rel = (means["sr_bo_gp"] - means["sr_random"]) / means["sr_random"]
    close.rows = rows
    close.measured = (f"averages SR (BO-GP) {fmt(avg['sr_bo_gp'], 4)} vs SR (Random) {fmt(avg['sr_random'], 4)}; "
                      f"per row (BO-GP - Random) / Random: median {100 * rel.median():+.0f} %, "
                      f"within ±25 % on {int((rel.abs() <= 0.25).sum())} of {len(rel)} rows")
    lower = avg["sr_bo_gp"] <= avg["sr_random"]
    near = abs(avg["sr_bo_gp"] - avg["sr_random"]) <= 0.1 * avg["sr_random"]
    close.verdict = HOLDS if lower else (PARTLY if near else FAILS)
    close.criterion = "holds: BO-GP's average at or below Random's; partly: above, but within 10 %"
    return [order, bias, random_low, close]


# -- sample size ------------------------------------------------------------------------------------

def sample_size_claims(ok: pd.DataFrame, view: ViewRef) -> list[Claim]:
    early = Claim("sample-size-20-60", "Sec. 5.1, Fig. 4, 9-11",
                  "The error decreases slightly between 20 and 60 samples")
    late = Claim("sample-size-60-200", "Sec. 5.1, Fig. 4, 9-11",
                 "Adding more samples (beyond 60) does not have a large effect")
    if len(ok) == 0:
        return [_not_measured(c, "sample_size", "make paper-sample-size") for c in (early, late)]
    p = the_one(view_setting(view)["parsimony"], "parsimony", view)
    sel = ok[~ok["method"].str.startswith("sr_") | is_close(ok["parsimony"], p)]
    mean = sel.groupby(["method", "model", "dataset", "n_samples"])["test_rmse"].mean()
    rel = {"20-60": {}, "60-200": {}}
    for method in [m for m in METHOD_ORDER if m in set(sel["method"]) and m != "linear_regression"]:
        per_row = mean.loc[method].unstack("n_samples")
        for a, b in ((20, 60), (60, 200)):
            if a in per_row and b in per_row:
                change = ((per_row[b] - per_row[a]) / per_row[a]).dropna()
                if len(change):
                    rel[f"{a}-{b}"][method] = float(change.mean())
    rows = _rows_label(sel)
    for claim, span in ((early, "20-60"), (late, "60-200")):
        changes = rel[span]
        claim.rows = rows
        if not changes:
            claim.measured = f"no rows with records at both ends of {span}"
            claim.criterion = "computed by `make paper-sample-size`"
            continue
        claim.measured = "mean relative RMSE change per row, " + span + ": " + ", ".join(
            f"{method_label(m)} {100 * v:+.0f} %" for m, v in changes.items())
    if rel["20-60"]:
        dec = [v < 0 for v in rel["20-60"].values()]
        early.verdict = HOLDS if all(dec) else (PARTLY if any(dec) else FAILS)
        early.criterion = "holds: the mean change 20 -> 60 is a decrease for every method"
    if rel["60-200"]:
        small = [abs(v) < 0.25 for v in rel["60-200"].values()]
        late.verdict = HOLDS if all(small) else (PARTLY if any(small) else FAILS)
        late.criterion = "holds: |mean change 60 -> 200| < 25 % for every method"
    return [early, late]


# -- parsimony ---------------------------------------------------------------------------------------

def parsimony_claims(ok: pd.DataFrame, view: ViewRef) -> list[Claim]:
    trade = Claim("parsimony-tradeoff", "Sec. 5.2, Fig. 5, 8",
                  "Lower parsimony gives more complex formulas with lower error")
    elbow = Claim("parsimony-elbow", "Sec. 4.1.2, App. A, Fig. 5, 8",
                  "The elbow rule picks a parsimony where more operations stop paying off")
    sr = ok[ok["method"].str.startswith("sr_")] if len(ok) else ok
    if len(sr) == 0:
        return [_not_measured(c, "parsimony", "make paper-parsimony") for c in (trade, elbow)]
    rhos, stops = [], []
    for (model, dataset, method), runs in sr.groupby(["model", "dataset", "method"]):
        pts = runs.groupby("parsimony").agg(rmse=("test_rmse", "mean"), ops=("complexity", "mean"))
        if len(pts) >= 3:
            rhos.append(float(pts["ops"].rank().corr(pts["rmse"].rank())))
        pts, chosen = elbow_of_sweep(runs)
        if chosen is not None:
            at = pts[pts["elbow"]].iloc[0]
            stops.append(f"{model_name(model)} / {dataset_name(dataset)} ({method_label(method)}): p = {chosen:g} "
                         f"({fmt(at['complexity_mean'], 1)} ops, RMSE {fmt(at['rmse_mean'], 4)})")
    trade.rows = elbow.rows = _rows_label(sr)
    if rhos:
        trade.measured = (f"Spearman correlation of mean operations and mean RMSE over the sweep: "
                          + ", ".join(f"{r:+.2f}" for r in rhos))
        neg = [r < 0 for r in rhos]
        trade.verdict = HOLDS if all(neg) else (PARTLY if any(neg) else FAILS)
        trade.criterion = "holds: negative on every row"
    elbow.measured = "; ".join(stops)
    elbow.verdict = HOLDS if stops else NOT_MEASURED
    elbow.criterion = "reported per row (App. A rule: stop when >= 2 more operations buy < 10 % lower RMSE)"
    return [trade, elbow]


# -- partial dependence ----------------------------------------------------------------------------------

def pdp_claims(ok: pd.DataFrame, view: ViewRef) -> list[Claim]:
    top = Claim("pdp-top-two", "Sec. 5.3, Fig. 6b, 7",
                "Five-hyperparameter MLP on blood-transfusion after 100 BO samples: fANOVA ranks the "
                "learning rate and the width highest")
    if len(ok) == 0:
        return [_not_measured(top, "pdp", "make paper-pdp")]
    explained = sorted({tuple(h) for h in ok["hyperparameters"]})
    top.rows = _rows_label(ok)
    top.measured = "explained (top two by fANOVA on the GP): " + "; ".join(", ".join(h) for h in explained)
    paper = {"learning_rate_init", "width"}
    hits = [len(paper & set(h)) for h in explained]
    top.verdict = HOLDS if all(x == 2 for x in hits) else (PARTLY if any(hits) else FAILS)
    top.criterion = "holds: the same two hyperparameters"
    return [top]


BUILDERS: dict[str, Callable[[pd.DataFrame, ViewRef], list[Claim]]] = {
    "table1": table1_claims, "sample_size": sample_size_claims, "parsimony": parsimony_claims, "pdp": pdp_claims,
}


def build_claims(store: Path, overrides: tuple[str, ...] = ()) -> list[Claim]:
    claims: list[Claim] = []
    for preset, builder in BUILDERS.items():
        view = ViewRef(preset, overrides)
        _, ok = load_ok(store, view)
        claims += builder(ok, view)
    return claims


def to_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([{"claim": c.key, "where": c.where, "paper": c.paper, "measured": c.measured,
                          "rows": c.rows, "verdict": c.verdict, "criterion": c.criterion} for c in claims])


def to_markdown(claims: list[Claim], store: Path, overrides: tuple[str, ...]) -> str:
    counts = {v: sum(c.verdict == v for c in claims) for v in (HOLDS, PARTLY, FAILS, NOT_MEASURED)}
    head = ["# The paper's claims against the records", "",
            f"Records: `{store.name}` store; views built from `conf/` with overrides "
            f"`{' '.join(overrides) or '(none)'}`. Rebuilt by `python -m analysis.claims`.", "",
            "Verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), ""]
    table = markdown_table(["claim", "paper (where)", "measured", "rows and seeds", "verdict", "criterion"],
                           [[c.key, f"{c.paper} ({c.where})", c.measured or "-", c.rows or "-", f"**{c.verdict}**",
                             c.criterion or "-"] for c in claims])
    return "\n".join(head) + table + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = make_parser("analysis.claims", "The paper's claims, one row each, against the records.", None)
    args = parser.parse_args(argv)
    store = check_store(Path(args.store))
    overrides = tuple(args.overrides)
    claims = build_claims(store, overrides)
    out = Path(args.out)
    write_text(out / "claims.md", to_markdown(claims, store, overrides))
    write_csv(out / "claims.csv", to_frame(claims))
    for c in claims:
        print(f"  {c.key}: {c.verdict}")
    print(f"claims: {len(claims)} rows in {out / 'claims.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.claims"))
