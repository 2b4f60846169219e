"""Faithfulness vs interpretability: RMSE and operation count vs parsimony (paper Fig. 5 and 8).

Usage::

    python -m analysis.parsimony [--store results/store] [--out results/analysis]
                                 [--experiment parsimony] [--min-ops 2] [--min-rel-improvement 0.1]

Reads the ok SR records of experiment ``parsimony``. A *sweep* is one protocol x model x dataset
x method x n; each parsimony value of a sweep becomes one point: mean test RMSE and mean
operation count over its runs (:func:`symexp.symbolic.elbow.aggregate_sweep`, as the authors' sweep
script). The elbow rule of Appendix A (:func:`symexp.symbolic.elbow.elbow_point`) picks the stop point.
Written per protocol and method, in ``<out>/parsimony/<protocol>/``:

- ``parsimony_<method>_complexity_rmse.png/.pdf`` (Fig. 8): per model x dataset, mean RMSE vs
  mean operation count, one point per parsimony value (colour), the elbow point circled in red;
- ``parsimony_<method>_vs_parsimony.png/.pdf`` (Fig. 5): RMSE (mean ± std over runs, left axis)
  and operation count (right axis) against the parsimony coefficient (log axis), elbow marked;
- ``parsimony_summary.csv``: the points of every sweep with an ``elbow`` column;
- ``elbow.md``: the chosen parsimony per sweep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cli import make_parser, run_cli
from analysis.figures import facet_axes, save_figure, set_style
from analysis.names import DATASET_ORDER, MODEL_ORDER, dataset_name, method_label, model_name, order_keys, panel_title
from analysis.output import fmt, markdown_table, Report, write_csv, write_text
from analysis.views import check_experiment, check_store, load_ok, ViewRef
from symexp.textsafe import safe_component
from symexp.symbolic.elbow import MIN_OPS, MIN_REL_IMPROVEMENT, elbow_of_sweep

DEFAULT_EXPERIMENT = "parsimony"
SWEEP_KEYS = ["protocol", "model", "dataset", "method", "n_samples"]


def sweep_points(ok: pd.DataFrame, min_ops: float = MIN_OPS,
                 min_rel_improvement: float = MIN_REL_IMPROVEMENT) -> pd.DataFrame:
    """All sweeps' points (one per parsimony value) with the elbow flagged."""
    sr = ok[ok["method"].astype(str).str.startswith("sr_") & np.isfinite(ok["parsimony"].astype(float))] if len(ok) else ok
    frames = []
    if len(sr):
        for key, grp in sr.groupby(SWEEP_KEYS):
            pts, _ = elbow_of_sweep(grp, min_ops, min_rel_improvement)
            for k, v in zip(SWEEP_KEYS, key):
                pts.insert(SWEEP_KEYS.index(k), k, v)
            frames.append(pts)
    if not frames:
        return pd.DataFrame(columns=SWEEP_KEYS + ["parsimony", "rmse_mean", "rmse_std", "complexity_mean",
                                                  "complexity_std", "n_runs", "n_complexity", "elbow"])
    return pd.concat(frames, ignore_index=True)


def _cells(points: pd.DataFrame) -> list[tuple[str, str, int]]:
    out = []
    for m in order_keys(points["model"].unique(), MODEL_ORDER):
        pm = points[points["model"] == m]
        for d in order_keys(pm["dataset"].unique(), DATASET_ORDER):
            for n in sorted(pm[pm["dataset"] == d]["n_samples"].unique()):
                out.append((m, d, n))
    return out


def plot_complexity_rmse(points: pd.DataFrame, base: Path, title: str) -> list[Path]:
    """Fig. 8: RMSE vs operation count, coloured by parsimony, elbow circled."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    cells = _cells(points)
    fig, axes = facet_axes(len(cells), ncols=3, panel=(4.0, 3.2), layout="constrained")
    ps = points["parsimony"].astype(float)
    norm = LogNorm(vmin=ps.min(), vmax=ps.max() if ps.max() > ps.min() else ps.min() * 10)
    sc = None
    for ax, (m, d, n) in zip(axes, cells):
        c = points[(points["model"] == m) & (points["dataset"] == d) & (points["n_samples"] == n)]
        c = c.sort_values("parsimony", ascending=False)
        ax.plot(c["complexity_mean"], c["rmse_mean"], color="0.75", linewidth=0.8, zorder=1)
        sc = ax.scatter(c["complexity_mean"], c["rmse_mean"], c=c["parsimony"], cmap="viridis", norm=norm,
                        s=28, zorder=2, edgecolors="0.2", linewidths=0.4)
        e = c[c["elbow"]]
        if len(e):
            ax.scatter(e["complexity_mean"], e["rmse_mean"], s=180, facecolors="none", edgecolors="red",
                       linewidths=1.6, zorder=3, label=f"elbow: ζ = {e['parsimony'].iloc[0]:g}")
            ax.legend(loc="upper right", fontsize=8, frameon=False)
        ax.set_title(panel_title(m, d) + (f", n={n}" if len(points["n_samples"].unique()) > 1 else ""), fontsize=9)
        ax.set_xlabel("Operation count (mean)")
        ax.set_ylabel("RMSE (test, mean)")
    if sc is not None:
        cb = fig.colorbar(sc, ax=axes, shrink=0.8, pad=0.02)
        cb.set_label("Parsimony coefficient ζ")
    fig.suptitle(title, fontsize=11)
    return save_figure(fig, base)


def plot_vs_parsimony(points: pd.DataFrame, base: Path, title: str) -> list[Path]:
    """Fig. 5: RMSE (left) and operation count (right) vs parsimony (log scale)."""
    cells = _cells(points)
    fig, axes = facet_axes(len(cells), ncols=3, panel=(4.2, 3.2))
    rmse_c, ops_c = "#4C72B0", "#DD8452"
    for ax, (m, d, n) in zip(axes, cells):
        c = points[(points["model"] == m) & (points["dataset"] == d) & (points["n_samples"] == n)]
        c = c.sort_values("parsimony")
        ax.errorbar(c["parsimony"], c["rmse_mean"], yerr=c["rmse_std"].fillna(0), color=rmse_c, marker="o",
                    markersize=3.5, linewidth=1, capsize=2)
        ax.set_xscale("log")
        ax.set_xlabel("Parsimony coefficient ζ")
        ax.set_ylabel("RMSE (test)", color=rmse_c)
        ax.tick_params(axis="y", colors=rmse_c)
        ax2 = ax.twinx()
        ax2.plot(c["parsimony"], c["complexity_mean"], color=ops_c, marker="s", markersize=3.5, linewidth=1)
        ax2.set_ylabel("Operation count", color=ops_c)
        ax2.tick_params(axis="y", colors=ops_c)
        ax2.grid(False)
        e = c[c["elbow"]]
        if len(e):
            ax.axvline(e["parsimony"].iloc[0], color="red", linestyle="--", linewidth=1)
            ax.scatter(e["parsimony"], e["rmse_mean"], s=150, facecolors="none", edgecolors="red", linewidths=1.5,
                       zorder=3)
        ax.set_title(panel_title(m, d) + (f", n={n}" if len(points["n_samples"].unique()) > 1 else ""), fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, base)


def elbow_markdown(points: pd.DataFrame, protocol: str) -> str:
    rows = []
    for (m, d, meth, n), grp in points.groupby(["model", "dataset", "method", "n_samples"], sort=False):
        e = grp[grp["elbow"]]
        if len(e):
            r = e.iloc[0]
            rows.append([model_name(m), dataset_name(d), method_label(meth), str(n), f"{r['parsimony']:g}",
                         fmt(r["rmse_mean"], 4), fmt(r["complexity_mean"], 1), str(len(grp))])
        else:
            rows.append([model_name(m), dataset_name(d), method_label(meth), str(n), "–", "–", "–", str(len(grp))])
    head = ["Model", "Dataset", "Method", "n", "Elbow ζ", "RMSE (mean)", "Operations (mean)", "ζ values"]
    return (f"# Elbow points (protocol {protocol})\n\nRule (Appendix A): from high to low parsimony, stop when the "
            "next value adds >= 2 operations while reducing the mean RMSE by < 10 %.\n\n"
            + markdown_table(head, rows, ["l", "l", "l", "r", "r", "r", "r", "r"]) + "\n")


def build(store: Path, out: Path, experiment: str = DEFAULT_EXPERIMENT, min_ops: float = MIN_OPS,
          min_rel_improvement: float = MIN_REL_IMPROVEMENT, include_timed_out: bool = False) -> Report:
    rep = Report("parsimony")
    all_df, ok = load_ok(store, experiment, include_timed_out)
    if len(all_df) == 0:
        rep.missing.append(f"no records for experiment {experiment!r} in {store}")
        return rep
    points = sweep_points(ok, min_ops, min_rel_improvement)
    if len(points) == 0:
        rep.missing.append(f"no ok SR records with a parsimony in experiment {experiment!r}")
        return rep
    set_style()
    for protocol in sorted(points["protocol"].unique()):
        pp = points[points["protocol"] == protocol]
        d = out / "parsimony" / protocol
        rep.add(write_csv(d / "parsimony_summary.csv", pp), write_text(d / "elbow.md", elbow_markdown(pp, protocol)))
        for method in order_keys(pp["method"].unique(), ("sr_bo_gp", "sr_random", "sr_bo")):
            pm = pp[pp["method"] == method]
            t = f"{method_label(method)}, protocol {protocol}"
            rep.add(plot_complexity_rmse(pm, d / safe_component(f"parsimony_{method}_complexity_rmse"), t))
            rep.add(plot_vs_parsimony(pm, d / safe_component(f"parsimony_{method}_vs_parsimony"), t))
        for (m, ds, meth, n), grp in pp.groupby(["model", "dataset", "method", "n_samples"], sort=False):
            if len(grp) < 2:
                rep.missing.append(f"[{protocol}] {model_name(m)} / {dataset_name(ds)} / {method_label(meth)} / n={n}: "
                                   f"only {len(grp)} parsimony value(s)")
            if grp["complexity_mean"].isna().any():
                rep.missing.append(f"[{protocol}] {model_name(m)} / {dataset_name(ds)} / {method_label(meth)} / n={n}: "
                                   "parsimony value(s) without any complexity")
        rep.notes.append(f"[{protocol}] {pp.groupby(['model', 'dataset', 'method', 'n_samples']).ngroups} sweep(s)")
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.parsimony", "RMSE and operation count vs parsimony with the elbow point (Fig. 5, 8).",
                    DEFAULT_EXPERIMENT)
    p.add_argument("--min-ops", type=float, default=MIN_OPS, help="elbow: operations added (default: 2)")
    p.add_argument("--min-rel-improvement", type=float, default=MIN_REL_IMPROVEMENT,
                   help="elbow: relative RMSE reduction (default: 0.1)")
    args = p.parse_args(argv)
    store = check_store(args.store)
    check_experiment(store, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), explicit=args.experiment is not None)
    print(build(store, args.out, ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides), args.min_ops, args.min_rel_improvement,
                include_timed_out=args.include_timed_out).text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.parsimony"))
