"""Hyperparameter importance and partial dependence of the five-hyperparameter MLP (paper Fig. 6b, 7).

Usage::

    python -m analysis.pdp_figures [--store results/store] [--cache results/cache] [--out results/analysis]
                                   [--experiment pdp] [--parsimony P] [KEY=VALUE ...]

Experiment ``pdp`` writes, per (model, dataset, protocol, sampling seed, n), a PD artefact
``<cache>/pdp/<slug(bench key)>/seed<S>-n<N>-<hash>.json`` with ``benchmark``, ``model``,
``dataset``, ``protocol``, ``sampling_seed``, ``n_samples``, ``hyperparameters`` (all names),
``importances`` ({name: variance share of the main effect}, fANOVA on the GP mean), ``top`` (the
top-k names, most important first), ``grid`` (points of the top-k grid, raw units), ``pd`` (the
GP's partial dependence there), ``train_X`` / ``train_y`` (random points in the top-k subspace
and their PD labels: the SR's training set). Its records have method ``sr_bo_gp``,
``hyperparameters`` = the top-k names and ``test_rmse`` against the PD on the grid.

For every artefact, in ``<out>/pdp_figures/<protocol>/``:

- ``importance_<model>_<dataset>_seed<S>_n<N>.png/.pdf`` (Fig. 6b): the main-effect variance
  share of every hyperparameter, most important first, the top-k highlighted; what the main
  effects leave is interactions (shown in the title);
- ``pdp_<model>_<dataset>_seed<S>_n<N>.png/.pdf`` (Fig. 7): left, the PD over the top two
  hyperparameters (heat map on the artefact's grid, log axes for log hyperparameters); right, the
  formula of the median-RMSE ``sr_bo_gp`` record (lower median over SR seeds) on the same grid,
  with the SR's training points; one colour scale. One top hyperparameter gives curves; more than
  two are listed as missing;
- ``pdp_figures.md``: importances, formulas, RMSE as recorded and recomputed from the (rounded)
  formula against the PD, the artefact files used, what is missing.

When several artefacts exist for one (model, dataset, protocol, seed, n) (different settings),
the one whose PD reproduces the records' test RMSE best is used (the newest if no record). No
artefact at all is reported as missing; nothing fails.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.cli import add_cache_arg, make_parser, run_cli
from analysis.figures import METHOD_COLORS, save_figure, set_style
from analysis.names import dataset_name, model_name
from analysis.output import fmt, markdown_table, Report, write_text
from analysis.views import (
    check_experiment, check_store, is_close, load_ok, readable_formula_of, search_space, the_one, view_setting,
    ViewRef,
)
from analysis.formulas import median_run
from analysis.landscapes import (
    FINE_GRID, color_norm, draw_field, draw_points, missing_panel, pretty_name, short_formula,
)
from symexp.symbolic.display import box_grid
from symexp.errors import SymexpError
from symexp.textsafe import markdown, md_code, safe_component
from symexp.pipeline.training import pdp_artefact_files
from symexp.symbolic.convert import formula_predict, rmse

DEFAULT_EXPERIMENT = "pdp"
PRESET = "preset"  # parsimony: the preset's own single value (None: any)
METHOD = "sr_bo_gp"
REQUIRED = ("model", "dataset", "protocol", "sampling_seed", "n_samples", "hyperparameters", "importances", "top",
            "grid", "pd", "train_X", "train_y")


@dataclass
class PDArtefact:
    path: Path
    benchmark: str
    model: str
    dataset: str
    protocol: str
    seed: int
    n: int
    hyperparameters: list[str]
    importances: dict[str, float]
    top: list[str]
    grid: np.ndarray
    pd: np.ndarray
    train_X: np.ndarray
    train_y: np.ndarray

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.model, self.dataset, self.protocol, self.seed, self.n)

    @property
    def stem(self) -> str:
        return safe_component(f"{self.model}_{self.dataset}_seed{self.seed}_n{self.n}")


@dataclass
class PDFigureData:
    art: PDArtefact
    log: list[bool]
    bounds: list[tuple[float, float]]
    record: pd.Series | None = None
    n_runs: int = 0
    sr_values: np.ndarray | None = None   # the formula on art.grid
    fine_X: np.ndarray | None = None      # a fine grid over the box, where the formula is drawn
    fine_values: np.ndarray | None = None  # the formula on fine_X
    readable: Any = None                  # symexp.symbolic.display.ReadableFormula of the formula
    rmse_recomputed: float | None = None  # formula vs PD on the grid
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_artefact(path: Path) -> PDArtefact:
    data = json.loads(path.read_text(encoding="utf-8"))
    absent = [k for k in REQUIRED if k not in data]
    if absent:
        raise ValueError(f"keys missing: {', '.join(absent)}")
    top = [str(t) for t in data["top"]]
    k = len(top)
    grid = np.asarray(data["grid"], dtype=float).reshape(-1, k)
    pdv = np.asarray(data["pd"], dtype=float).reshape(-1)
    if len(grid) != len(pdv):
        raise ValueError(f"{len(grid)} grid points but {len(pdv)} PD values")
    train_X = np.asarray(data["train_X"], dtype=float).reshape(-1, k)
    train_y = np.asarray(data["train_y"], dtype=float).reshape(-1)
    names = [str(h) for h in data["hyperparameters"]]
    if not set(top) <= set(names):
        raise ValueError(f"top {top} not among the hyperparameters {names}")
    return PDArtefact(path, str(data.get("benchmark", "")), str(data["model"]), str(data["dataset"]),
                      str(data["protocol"]), int(data["sampling_seed"]), int(data["n_samples"]), names,
                      {str(a): float(b) for a, b in dict(data["importances"]).items()}, top, grid, pdv,
                      train_X, train_y)


def load_artefacts(cache: Path) -> tuple[list[PDArtefact], list[str]]:
    """Every readable PD artefact under ``<cache>/pdp`` (and notes on unreadable files)."""
    out, notes = [], []
    for path in pdp_artefact_files(cache):
        try:
            out.append(read_artefact(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"unreadable PD artefact {path}: {type(exc).__name__}: {exc}")
    return out, notes


def matching_records(ok: pd.DataFrame, art: PDArtefact, parsimony: float | None) -> pd.DataFrame:
    if len(ok) == 0:
        return ok
    sel = ok[(ok["method"] == METHOD) & (ok["model"] == art.model) & (ok["dataset"] == art.dataset)
             & (ok["protocol"] == art.protocol)
             & (pd.to_numeric(ok["sampling_seed"], errors="coerce") == art.seed)
             & (pd.to_numeric(ok["n_samples"], errors="coerce") == art.n)
             & ok["formula"].notna()]
    sel = sel[sel["hyperparameters"].map(lambda h: isinstance(h, list | tuple) and list(h) == art.top)]
    if parsimony is not None and len(sel):
        sel = sel[is_close(sel["parsimony"], parsimony)]
    return sel


def choose_artefact(arts: list[PDArtefact], recs: pd.DataFrame) -> tuple[PDArtefact, list[str]]:
    """Of several artefacts for one key, the one whose PD reproduces the records' RMSE best."""
    if len(arts) == 1:
        return arts[0], []

    def score(a: PDArtefact) -> float | None:
        diffs = []
        for _, r in recs.iterrows():
            try:
                v = rmse(a.pd, formula_predict(str(r["formula"]), a.top, a.grid))
                diffs.append(abs(v - float(r["test_rmse"])) / max(abs(float(r["test_rmse"])), 1e-12))
            except (SymexpError, ValueError, TypeError):
                continue
        diffs = [d for d in diffs if math.isfinite(d)]
        return float(np.mean(diffs)) if diffs else None

    scored = [(score(a), a) for a in arts]
    if all(s is None for s, _ in scored):
        best = max(arts, key=lambda a: a.path.stat().st_mtime)
        return best, [f"{len(arts)} artefacts for this cell and no record to tell them apart: took the newest "
                      f"({best.path.name})"]
    s, best = min(((s, a) for s, a in scored if s is not None), key=lambda x: x[0])
    return best, [f"{len(arts)} artefacts for this cell: took {best.path.name}, which reproduces the records "
                  f"best (mean relative RMSE difference {s:.2g})"]


def pdp_data(art: PDArtefact, recs: pd.DataFrame) -> PDFigureData:
    """What Fig. 7 shows for one artefact, as arrays (``recs``: its matching ok records)."""
    space = search_space(art.model, art.dataset, art.protocol, art.hyperparameters)
    if space is not None:
        log = [bool(space[t].log) for t in art.top]
        bounds = [(float(space[t].lower), float(space[t].upper)) for t in art.top]
    else:  # unknown model: axes from the data
        log = [bool((art.grid[:, j] > 0).all() and art.grid[:, j].max() / art.grid[:, j].min() > 100)
               for j in range(len(art.top))]
        bounds = [(float(art.grid[:, j].min()), float(art.grid[:, j].max())) for j in range(len(art.top))]
    fd = PDFigureData(art, log, bounds)
    if space is None:
        fd.notes.append(f"unknown search space for {art.model}: axes from the grid")
    if len(recs) == 0:
        fd.missing.append(f"no ok {METHOD} record with a formula over {', '.join(art.top)}")
        return fd
    fd.record, fd.n_runs = median_run(recs), len(recs)
    try:
        fd.sr_values = formula_predict(str(fd.record["formula"]), art.top, art.grid)
        fd.rmse_recomputed = rmse(art.pd, fd.sr_values)
        # a formula is a function: drawn on a fine grid, not as blocks of the PD's grid
        fd.fine_X = box_grid(bounds, log, FINE_GRID)
        fd.fine_values = formula_predict(str(fd.record["formula"]), art.top, fd.fine_X)
        fd.readable = readable_formula_of(str(fd.record["formula"]), art.model, art.dataset, art.protocol, art.top)
    except Exception as exc:  # noqa: BLE001 - a panel never stops the figure
        fd.sr_values = None
        fd.missing.append(f"formula does not evaluate: {type(exc).__name__}: {exc}")
    return fd


# -- figures -------------------------------------------------------------------------------
def plot_importance(art: PDArtefact, base: Path, subtitle: str = "") -> list[Path]:
    import matplotlib.pyplot as plt

    names = sorted(art.importances, key=lambda h: -art.importances[h])
    vals = np.array([art.importances[h] for h in names])
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(names) + 2), 3.8), layout="constrained")
    colors = [METHOD_COLORS["sr_bo_gp"] if h in art.top else "#B0B0B0" for h in names]
    bars = ax.bar([pretty_name(h) for h in names], vals, color=colors, edgecolor="0.25", linewidth=0.6)
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{100 * v:.1f}%", ha="center", va="bottom",
                fontsize=9)
    ax.set_ylabel("variance share (main effect)")
    ax.set_ylim(0, max(0.05, float(vals.max()) * 1.18) if len(vals) else 1)
    ax.grid(axis="x", visible=False)
    total = float(vals.sum())
    ax.set_title(f"fANOVA importance on the GP: {model_name(art.model)}, {dataset_name(art.dataset)}\n"
                 f"n = {art.n} BO samples, seed {art.seed}; main effects {100 * total:.0f}%, "
                 f"interactions {100 * max(0.0, 1 - total):.0f}%; top {len(art.top)} highlighted"
                 + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    return save_figure(fig, base)


def plot_pdp(fd: PDFigureData, base: Path, subtitle: str = "") -> list[Path]:
    import matplotlib.pyplot as plt

    art = fd.art
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.9), layout="constrained")
    norm, extend = color_norm([art.pd], [fd.sr_values] if fd.sr_values is not None else [])
    m = draw_field(axes[0], art.grid, art.pd, art.top, fd.log, fd.bounds, norm)
    axes[0].set_title(f"Partial dependence of the GP (n = {art.n})\non {', '.join(map(pretty_name, art.top))}",
                      fontsize=10)
    if fd.sr_values is not None:
        draw_field(axes[1], fd.fine_X, fd.fine_values, art.top, fd.log, fd.bounds, norm)
        if len(art.train_X):
            draw_points(axes[1], art.train_X, dict(marker="o", s=8), norm)
            axes[1].text(0.02, 0.02, f"{len(art.train_X)} PD-labelled random samples", transform=axes[1].transAxes,
                         fontsize=7.5, ha="left", va="bottom",
                         bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.8))
        r = fd.record
        ops = f", {fmt(r['complexity'], 0)} ops" if pd.notna(r["complexity"]) else ""
        axes[1].set_title(f"SR on the PD: RMSE {float(r['test_rmse']):.4f}\n"
                          f"median of {fd.n_runs} SR run{'s' if fd.n_runs != 1 else ''}{ops}", fontsize=10)
        shown = fd.readable.text if fd.readable is not None else str(r["formula"])
        guards = (f"\n({len(fd.readable.footnotes)} protection guard(s) act on part of the space: see pdp_figures.md)"
                  if fd.readable is not None and fd.readable.footnotes else "")
        fig.text(0.5, -0.01, "s = " + short_formula(shown, width=110, lines=2) + guards, ha="center",
                 va="top", fontsize=8.5)
    else:
        missing_panel(axes[1], "SR on the PD", "; ".join(fd.missing) or "no formula")
    if m is not None:
        fig.colorbar(m, ax=list(axes), shrink=0.9, extend=extend, label="cost (1 − accuracy)" if art.model != "synthetic" else "cost")
    fig.suptitle(f"{model_name(art.model)}, {dataset_name(art.dataset)}: the two most important of "
                 f"{len(art.hyperparameters)} hyperparameters (seed {art.seed})" + (f"\n{subtitle}" if subtitle else ""),
                 fontsize=11)
    return save_figure(fig, base)


# -- builder -------------------------------------------------------------------------------
def summary_markdown(items: list[tuple[PDFigureData, list[str]]], title: str) -> str:
    lines = [f"# {title}", ""]
    for fd, figs in items:
        a = fd.art
        lines += [f"## {model_name(a.model)} / {dataset_name(a.dataset)}, protocol {a.protocol}, seed {a.seed}, "
                  f"n = {a.n}", "", f"- artefact: `{a.path}`", f"- figures: {', '.join(f'`{f}`' for f in figs)}",
                  f"- top {len(a.top)}: {', '.join(a.top)}; PD grid: {len(a.grid)} points; "
                  f"SR training points: {len(a.train_X)}", ""]
        rows = [[h, f"{100 * a.importances[h]:.1f}%", "yes" if h in a.top else ""]
                for h in sorted(a.importances, key=lambda h: -a.importances[h])]
        lines += [markdown_table(["Hyperparameter", "Importance (main effect)", "Top"], rows, ["l", "r", "c"]), ""]
        if fd.record is not None:
            r = fd.record
            lines += [f"Median-RMSE formula ({fd.n_runs} run(s); sampling seed {r['sampling_seed']}, SR seed "
                      f"{r['sr_seed']}): {md_code(fd.readable.text if fd.readable is not None else r['formula'])}", "",
                      *(f"- protection guard: {markdown(g)}" for g in (fd.readable.footnotes if fd.readable is not None else [])),
                      "",
                      f"RMSE against the PD: {float(r['test_rmse']):.4f} (record), "
                      f"{fmt(fd.rmse_recomputed, 4)} (rounded formula on the grid)", ""]
        lines += [f"- missing: {markdown(m)}" for m in fd.missing] + [f"- {markdown(n)}" for n in fd.notes]
        lines.append("")
    return "\n".join(lines)


def build(store: Path, out: Path, cache: Path, experiment: str = DEFAULT_EXPERIMENT,
          parsimony: float | str | None = PRESET, subtitle: str = "", include_timed_out: bool = False) -> Report:
    """Fig. 6b and 7 from the PD artefacts in ``cache`` and the records of ``experiment``.

    ``parsimony``: ``"preset"`` = the preset's single value, ``None`` = any."""
    rep = Report("pdp_figures")
    if parsimony == PRESET:
        parsimony = the_one(view_setting(experiment)["parsimony"], "parsimony", experiment)
    arts, notes = load_artefacts(cache)
    rep.missing += notes
    _, ok = load_ok(store, experiment, include_timed_out) if store.is_dir() else (None, pd.DataFrame())
    if not arts:
        rep.missing.append(f"no PD artefacts in {cache / 'pdp'} (run experiment pdp; Fig. 6b and 7 not built)")
        return rep
    set_style()
    groups: dict[tuple, list[PDArtefact]] = {}
    for a in arts:
        groups.setdefault(a.key, []).append(a)
    by_protocol: dict[str, list[tuple[PDFigureData, list[str]]]] = {}
    for key in sorted(groups):
        model, dataset, protocol, seed, n = key
        where = f"[{protocol}] {model} / {dataset}, seed {seed}, n={n}"
        recs_all = [matching_records(ok, a, parsimony) for a in groups[key]]
        art, why = choose_artefact(groups[key], pd.concat(recs_all) if len(recs_all) > 1 else recs_all[0])
        recs = matching_records(ok, art, parsimony)
        fd = pdp_data(art, recs)
        fd.notes += why
        d = out / "pdp_figures" / protocol
        figs = []
        paths = plot_importance(art, d / f"importance_{art.stem}", subtitle)
        rep.add(paths)
        figs.append(paths[0].name)
        if len(art.top) in (1, 2):
            paths = plot_pdp(fd, d / f"pdp_{art.stem}", subtitle)
            rep.add(paths)
            figs.append(paths[0].name)
        else:
            fd.missing.append(f"Fig. 7 needs 1 or 2 top hyperparameters, the artefact has {len(art.top)}")
        rep.missing += [f"{where}: {m}" for m in fd.missing]
        by_protocol.setdefault(protocol, []).append((fd, figs))
    for protocol, items in by_protocol.items():
        rep.add(write_text(out / "pdp_figures" / protocol / "pdp_figures.md",
                           summary_markdown(items, f"Importance and partial dependence (experiment {experiment}, "
                                                   f"protocol {protocol})")))
        rep.notes.append(f"[{protocol}] {len(items)} artefact(s): "
                         f"{sum(1 for fd, _ in items if fd.record is not None)} with an SR formula")
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.pdp_figures", "fANOVA importance (Fig. 6b) and partial dependence with its SR (Fig. 7).",
                    DEFAULT_EXPERIMENT)
    add_cache_arg(p)
    p.add_argument("--parsimony", type=float, default=None,
                   help="SR parsimony of the records used (default: the preset's; 0 = any)")
    args = p.parse_args(argv)
    store = check_store(args.store)
    experiment = ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides)
    check_experiment(store, experiment, explicit=args.experiment is not None)
    parsimony = PRESET if args.parsimony is None else (args.parsimony or None)
    rep = build(store, args.out, args.cache, experiment, parsimony, include_timed_out=args.include_timed_out)
    print(rep.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.pdp_figures"))
