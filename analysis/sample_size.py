"""RMSE vs number of samples (paper Fig. 4 and Appendix E, Fig. 9-11).

Usage::

    python -m analysis.sample_size [--store results/store] [--out results/analysis]
                                   [--experiment sample_size] [--parsimony P]

Reads the ok records of the ``sample_size`` preset's view for SR (BO), SR (Random), SR (BO-GP)
(at the preset's parsimony) and the GP baseline, and writes per protocol, in
``<out>/sample_size/<protocol>/``:

- ``sample_size_<model>.png/.pdf``: one panel per dataset, box plots of the test RMSE over the
  runs (sampling seeds x SR seeds) at each sample size, one box per method;
- ``sample_size_summary.csv``: mean, std (ddof=1), median and number of runs per model x
  dataset x method x n;
- ``missing.md``: (model, dataset, method, n) combinations without records, taking every n and
  method seen in the protocol as expected for every model x dataset present.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from analysis.cli import make_parser, run_cli
from analysis.figures import METHOD_COLORS, facet_axes, save_figure, set_style
from analysis.names import (
    DATASET_ORDER, MODEL_ORDER, dataset_name, method_label, model_dataset_cells, model_name, order_keys,
    panel_title,
)
from analysis.output import Report, write_csv, write_text
from analysis.views import ViewRef, check_experiment, check_store, load_ok, select_records, the_one, view_setting
from symexp.store.records import METHODS
from symexp.textsafe import markdown, safe_component

DEFAULT_EXPERIMENT = "sample_size"
# Fig. 4, 9-11: the three SR training sets and the GP baseline (no linear regression).
PLOTTED_METHODS = tuple(m for m in METHODS if m != "linear_regression")


def select_sample_size_records(ok: pd.DataFrame, parsimony: float) -> pd.DataFrame:
    """The usable records of the figures' methods at every n (SR at ``parsimony``), n as integers."""
    sel = select_records(ok, PLOTTED_METHODS, parsimony=parsimony)
    if len(sel) == 0:
        return sel
    sel = sel[sel["n_samples"].notna()].copy()
    sel["n_samples"] = sel["n_samples"].astype(int)
    return sel


def summarise(sel: pd.DataFrame) -> pd.DataFrame:
    cols = ["protocol", "model", "dataset", "method", "n_samples", "mean", "std", "median", "n_runs"]
    if len(sel) == 0:
        return pd.DataFrame(columns=cols)
    g = sel.groupby(["protocol", "model", "dataset", "method", "n_samples"])["test_rmse"]
    out = g.agg(mean="mean", std=lambda s: s.std(ddof=1), median="median", n_runs="count").reset_index()
    out["_m"] = out["method"].map({m: i for i, m in enumerate(PLOTTED_METHODS)})
    return out.sort_values(["protocol", "model", "dataset", "_m", "n_samples"]).drop(columns="_m")[cols]


def find_missing(sel: pd.DataFrame) -> list[str]:
    """(model, dataset, method, n) without records, within the models/datasets/methods/n present."""
    ns = sorted(sel["n_samples"].unique())
    methods = [m for m in PLOTTED_METHODS if m in set(sel["method"])]
    have = set(zip(sel["model"], sel["dataset"], sel["method"], sel["n_samples"]))
    out = []
    for model, dataset in model_dataset_cells(sel):
        if not ((sel["model"] == model) & (sel["dataset"] == dataset)).any():
            out.append(f"{model_name(model)} / {dataset_name(dataset)}: no records")
            continue
        for m in methods:
            lacking = [str(n) for n in ns if (model, dataset, m, n) not in have]
            if lacking:
                out.append(f"{model_name(model)} / {dataset_name(dataset)} / {method_label(m)}: n = {', '.join(lacking)}")
    return out


def plot_model(sel: pd.DataFrame, model: str, base: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import seaborn as sns

    datasets = order_keys(sel["dataset"].unique(), DATASET_ORDER)
    ns = sorted(sel["n_samples"].unique())
    methods = [m for m in PLOTTED_METHODS if m in set(sel["method"])]
    labels = [method_label(m) for m in methods]
    palette = {method_label(m): METHOD_COLORS[m] for m in methods}
    data = sel.assign(Method=sel["method"].map(method_label))
    fig, axes = facet_axes(len(datasets), ncols=4, panel=(4.2, 3.2))
    for ax, dataset in zip(axes, datasets):
        d = data[data["dataset"] == dataset]
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib's deprecated ``vert``
            warnings.simplefilter("ignore", DeprecationWarning)
            sns.boxplot(data=d, x="n_samples", y="test_rmse", hue="Method", order=ns, hue_order=labels,
                        palette=palette, ax=ax, fliersize=1.5, linewidth=0.7, legend=False)
        ax.set_title(panel_title(model, dataset), fontsize=9)
        ax.set_xlabel("Number of samples")
        ax.set_ylabel("RMSE (test)")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=palette[lab], edgecolor="0.3", linewidth=0.7) for lab in labels]
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return save_figure(fig, base)


def build(store: Path, out: Path, experiment: str = DEFAULT_EXPERIMENT,
          parsimony: float | None = None, include_timed_out: bool = False) -> Report:
    """Fig. 4, 9-11; ``parsimony`` defaults to the preset's."""
    rep = Report("sample_size")
    parsimony = parsimony or the_one(view_setting(experiment)["parsimony"], "parsimony", experiment)
    all_df, ok = load_ok(store, experiment, include_timed_out)
    if len(all_df) == 0:
        rep.missing.append(f"no records for experiment {experiment!r} in {store}")
        return rep
    sel = select_sample_size_records(ok, parsimony)
    if len(sel) == 0:
        rep.missing.append(f"no ok SR (parsimony={parsimony:g}) or GP-baseline records in experiment {experiment!r}")
        return rep
    set_style()
    for protocol in sorted(sel["protocol"].unique()):
        sp = sel[sel["protocol"] == protocol]
        d = out / "sample_size" / protocol
        rep.add(write_csv(d / "sample_size_summary.csv", summarise(sp)))
        for model in order_keys(sp["model"].unique(), MODEL_ORDER):
            rep.add(plot_model(sp[sp["model"] == model], model, d / safe_component(f"sample_size_{model}")))
        missing = find_missing(sp)
        text = f"# Sample-size experiment: missing combinations (protocol {protocol})\n\n"
        text += "\n".join(f"- {markdown(m)}" for m in missing) if missing else "None."
        rep.add(write_text(d / "missing.md", text))
        rep.notes.append(f"[{protocol}] {sp.groupby(['model', 'dataset']).ngroups} model x dataset cell(s), "
                         f"n = {', '.join(map(str, sorted(sp['n_samples'].unique())))}")
        rep.missing += [f"[{protocol}] {m}" for m in missing]
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.sample_size", "RMSE vs number of samples (Fig. 4, 9-11).", DEFAULT_EXPERIMENT)
    p.add_argument("--parsimony", type=float, default=None, help="SR parsimony (default: the preset's)")
    args = p.parse_args(argv)
    store = check_store(args.store)
    check_experiment(store, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), explicit=args.experiment is not None)
    print(build(store, args.out, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), args.parsimony,
                include_timed_out=args.include_timed_out).text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.sample_size"))
