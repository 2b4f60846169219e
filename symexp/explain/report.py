"""The report of an explanation: a folder with a Markdown or HTML page, plots and a JSON summary.

Files written to ``out_dir``:

- ``report.md`` or ``report.html``: the chosen formula (text and LaTeX), the Pareto front, the
  importances, the surrogate's fit, the plots and the notes;
- ``landscape.png``: surrogate vs formula over the top two explained hyperparameters (the others
  integrated out by partial dependence), with the run's evaluated points, and their difference;
  a line plot when one hyperparameter is explained;
- ``front.png``: complexity vs RMSE of every candidate, the front, the elbow and the chosen formula;
- ``importance.png``: fANOVA importances;
- ``summary.json``: for scripts. Schema (version 1)::

    symexp_explain: 1
    source:       {kind: smac3|optuna|csv, path, n_evaluations, n_trials?, study?, direction?, objective?,
                   cost_column?, space_file?}
    space:        [{name, original_name?, type: float|int|categorical, lower?, upper?, log?, choices?}]
    notes:        [str]                   what was decided along the way (dropped trials, renamings, ...)
    surrogate:    {kind: smac-gp, kernel, kernel_fitted, seed, n_restarts, n_train, train_rmse,
                   cv_rmse (null if skipped), cost_std}
    importance:   {method, values: {name: share of variance}}     sorted, most important first
    explained:    [name]                  the formula's variables
    integrated_out: [name]
    sr:           {engine: gplearn|operon|both, n_samples, seeds, parsimony, grid_points, n_background,
                   seed, settings: {SRSettings fields}}
    front:        [candidate + position]  simplest first
    candidates:   [candidate]             every distinct formula found
    elbow:        int                     front position chosen by the elbow rule
    chosen:       candidate + {position, selected_by: elbow|user}
    best_observed: {config: {name: value}, cost}
    timings_s:    {step: seconds}
    files:        {report, summary, plots: {landscape, front, importance}}

  A candidate is ``{id, engine, seed, parsimony (null for operon), formula, latex, complexity,
  rmse (vs the surrogate on the scoring grid), train_rmse (vs the SR labels), program, timed_out,
  fit_seconds, operon_length?}``. ``formula`` parses with :func:`symexp.symbolic.parse_formula`
  over ``explained``.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symexp.store.atomic import atomic_write_json, atomic_write_text
from symexp.errors import SymexpError
from symexp.seeding import derive_seed
from symexp.symbolic import formula_predict

if TYPE_CHECKING:
    from symexp.explain import Explanation

PLOT_POINTS = 30


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:.{digits}g}"
    return str(v)


# ----------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _axis(hp, n: int) -> np.ndarray:
    lo, hi = float(hp.lower), float(hp.upper)
    pts = np.geomspace(lo, hi, n) if hp.log else np.linspace(lo, hi, n)
    if hp.integer:
        pts = np.unique(np.rint(pts))
    return pts


def formula_function(result: Explanation, formula: str):
    """The formula as a function of configurations of the explained hyperparameters."""
    names = result.explained

    def f(X: np.ndarray) -> np.ndarray:
        return formula_predict(formula, names, X)

    return f


def landscape_values(result: Explanation, pair: list[str], n: int = PLOT_POINTS):
    """Axes, surrogate and formula on a grid over ``pair`` (1 or 2 names); the surrogate has all
    other hyperparameters integrated out, the formula its other variables (if any)."""
    from symexp.pdp import partial_dependence

    space = result.run.space
    axes = [_axis(space[name], n) for name in pair]
    grid = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(pair), -1).T
    _, surrogate = partial_dependence(result.surrogate.mean, result.run.numeric_space(), pair, grid=grid,
                                      n_background=result.n_background, seed=derive_seed("explain-pd", result.seed))
    sub = result.explained_space
    _, formula = partial_dependence(formula_function(result, result.chosen.formula), sub, pair, grid=grid,
                                    n_background=result.n_background,
                                    seed=derive_seed("explain-plot-formula", result.seed))
    shape = tuple(len(a) for a in axes)
    return axes, surrogate.reshape(shape), formula.reshape(shape)


def plot_landscape(result: Explanation, path: Path) -> Path:
    plt = _plt()
    from matplotlib.ticker import NullFormatter

    run = result.run
    pair = result.explained[:2]
    axes, sur, form = landscape_values(result, pair)
    cols = [run.space.names.index(n) for n in pair]
    if len(pair) == 1:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        hp = run.space[pair[0]]
        ax.plot(axes[0], sur, label="GP surrogate" + (" (PD)" if result.integrated_out else ""), color="C0", lw=2)
        ax.plot(axes[0], form, label="formula", color="C3", lw=2, ls="--")
        ax.scatter(run.X[:, cols[0]], run.y, s=14, color="k", alpha=0.5, label="evaluated (observed cost)")
        ax.set_xlabel(pair[0])
        ax.set_ylabel("cost")
        if hp.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=8)
        ax.set_title(f"cost ~ {result.chosen.formula}"[:90], fontsize=9)
    else:
        fig, axs = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
        lo = float(np.nanmin([np.nanmin(sur), np.nanmin(form)]))
        hi = float(np.nanmax([np.nanmax(sur), np.nanmax(form)]))
        if not math.isfinite(lo) or not math.isfinite(hi) or lo == hi:
            lo, hi = float(np.nanmin(sur)), float(np.nanmax(sur)) + 1e-12
        levels = np.linspace(lo, hi, 21)
        A, B = np.meshgrid(axes[0], axes[1], indexing="ij")
        titles = ["GP surrogate" + (" (others integrated out)" if len(result.run.space.names) > 2 else ""),
                  "formula", "formula - surrogate"]
        for k, (ax, Z) in enumerate(zip(axs, [sur, np.clip(form, lo, hi), form - sur])):
            if k < 2:
                cf = ax.contourf(A, B, Z, levels=levels, cmap="viridis", extend="both")
            else:
                m = float(np.nanmax(np.abs(Z))) if np.isfinite(Z).any() else 1.0
                cf = ax.contourf(A, B, Z, levels=np.linspace(-m - 1e-12, m + 1e-12, 21), cmap="RdBu_r")
            fig.colorbar(cf, ax=ax)
            ax.scatter(run.X[:, cols[0]], run.X[:, cols[1]], s=12, facecolors="white", edgecolors="k",
                       linewidths=0.6, label="evaluated")
            ax.set_xlabel(pair[0])
            ax.set_ylabel(pair[1])
            if run.space[pair[0]].log:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            if run.space[pair[1]].log:
                ax.set_yscale("log")
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_title(titles[k], fontsize=10)
        axs[0].legend(fontsize=8, loc="upper right")
        fig.suptitle(f"cost ~ {result.chosen.formula}"[:120], fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_front(result: Explanation, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ok = [c for c in result.candidates if math.isfinite(c.rmse)]
    ax.scatter([c.complexity for c in ok], [c.rmse for c in ok], s=14, color="0.65", label="candidates")
    front = result.front
    ax.plot([c.complexity for c in front], [c.rmse for c in front], "-o", color="C0", ms=5, label="Pareto front")
    e, ch = front[result.elbow], result.chosen
    ax.scatter([e.complexity], [e.rmse], s=120, facecolors="none", edgecolors="C1", linewidths=2, label="elbow")
    if result.chosen_index != result.elbow:
        ax.scatter([ch.complexity], [ch.rmse], s=120, marker="s", facecolors="none", edgecolors="C3",
                   linewidths=2, label="chosen")
    for i, c in enumerate(front):
        ax.annotate(str(i), (c.complexity, c.rmse), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if ok and min(c.rmse for c in ok) > 0 and max(c.rmse for c in ok) / min(c.rmse for c in ok) > 30:
        ax.set_yscale("log")
    ax.set_xlabel("complexity (operations)")
    ax.set_ylabel("RMSE vs surrogate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_importance(result: Explanation, path: Path) -> Path:
    plt = _plt()
    items = sorted(result.importance.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6.5, 0.5 + 0.35 * len(items)))
    colors = ["C0" if n in result.explained else "0.6" for n, _ in items]
    ax.barh([n for n, _ in items], [v for _, v in items], color=colors)
    ax.set_xlabel("share of variance (fANOVA main effect)")
    ax.set_xlim(0, max(1e-9, max(v for _, v in items)) * 1.1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------------
# pages
# ----------------------------------------------------------------------------------------------

def _source_line(s: dict[str, Any]) -> str:
    kind = {"smac3": "SMAC3 run", "optuna": "Optuna study", "csv": "CSV"}[s["kind"]]
    extra = f", study {s['study']}" if s.get("study") else ""
    return f"{kind} {s['path']}{extra}: {s['n_evaluations']} evaluations used"


def _front_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in summary["front"]:
        mark = []
        if c["position"] == summary["elbow"]:
            mark.append("elbow")
        if c["position"] == summary["chosen"]["position"]:
            mark.append("chosen")
        rows.append([str(c["position"]), str(c["complexity"]), _fmt(c["rmse"]), _fmt(c["train_rmse"]), c["engine"],
                     _fmt(c["parsimony"]) if c["parsimony"] is not None else "-", c["formula"], ", ".join(mark)])
    return rows


FRONT_HEAD = ["#", "complexity", "RMSE (grid)", "RMSE (train)", "engine", "parsimony", "formula", ""]


def markdown(summary: dict[str, Any]) -> str:
    ch = summary["chosen"]
    sur = summary["surrogate"]
    lines = [f"# symexp explain", "", _source_line(summary["source"]), "",
             "## Formula", "",
             f"`cost ~ {ch['formula']}`", "", "$$" + ch["latex"] + "$$", "",
             f"Front position {ch['position']} ({'chosen by the elbow rule' if ch['selected_by'] == 'elbow' else 'chosen by the user'}); "
             f"complexity {ch['complexity']}; RMSE vs the surrogate on the scoring grid {_fmt(ch['rmse'])} "
             f"(cost std over the run {_fmt(sur['cost_std'])}). Variables: {', '.join(summary['explained'])}"
             + (f"; integrated out: {', '.join(summary['integrated_out'])}." if summary["integrated_out"] else "."),
             "", "## Pareto front (accuracy vs complexity)", "",
             "| " + " | ".join(FRONT_HEAD) + " |", "|" + "---|" * len(FRONT_HEAD)]
    for row in _front_rows(summary):
        row = row[:6] + [f"`{row[6]}`"] + row[7:]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines += ["", "To report another formula of the front, rerun with `--select N` (the same seeds give the same front).",
              "", "![front](front.png)", "", "## Importance", "", f"{summary['importance']['method']}.", "",
              "| hyperparameter | importance | in the formula |", "|---|---|---|"]
    for name, v in summary["importance"]["values"].items():
        lines.append(f"| {name} | {v:.3f} | {'yes' if name in summary['explained'] else 'no'} |")
    lines += ["", "![importance](importance.png)", "", "## Landscape", "",
              "Surrogate vs formula over the top two explained hyperparameters, with the evaluated configurations.",
              "", "![landscape](landscape.png)", "", "## Surrogate", "",
              f"SMAC's GP ({sur['kernel']}), seed {sur['seed']}, fitted on {sur.get('n_train')} evaluations: "
              f"training RMSE {_fmt(sur.get('train_rmse'))}, {('cross-validated RMSE ' + _fmt(sur['cv_rmse'])) if sur['cv_rmse'] is not None else 'no cross-validation'}, "
              f"cost std {_fmt(sur['cost_std'])}.", "", f"Fitted kernel: `{sur.get('kernel_fitted')}`", "",
              "## Best observed configuration", "",
              f"`{summary['best_observed']['config']}` with cost {_fmt(summary['best_observed']['cost'])}", ""]
    if summary["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in summary["notes"]] + [""]
    sr = summary["sr"]
    lines += ["## Settings", "",
              f"Engine {sr['engine']}, SR seeds {sr['seeds']}, parsimony {sr['parsimony']}, {sr['n_samples']} "
              f"labelled random configurations, {sr['grid_points']} scoring-grid points, PD background "
              f"{sr['n_background']}, seed {sr['seed']}; population {sr['settings']['population_size']}, "
              f"generations {sr['settings']['generations']}, functions {', '.join(sr['settings']['function_set'])}.",
              "", "Machine-readable: `summary.json`.", ""]
    return "\n".join(lines)


def html_page(summary: dict[str, Any]) -> str:
    e = html.escape
    ch = summary["chosen"]
    sur = summary["surrogate"]
    rows = "".join("<tr>" + "".join(f"<td>{'<code>' + e(c) + '</code>' if k == 6 else e(c)}</td>"
                                    for k, c in enumerate(r)) + "</tr>" for r in _front_rows(summary))
    imp = "".join(f"<tr><td>{e(n)}</td><td>{v:.3f}</td><td>{'yes' if n in summary['explained'] else 'no'}</td></tr>"
                  for n, v in summary["importance"]["values"].items())
    notes = "".join(f"<li>{e(n)}</li>" for n in summary["notes"])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>symexp explain</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}} code{{background:#f4f4f4}}</style></head><body>
<h1>symexp explain</h1>
<p>{e(_source_line(summary['source']))}</p>
<h2>Formula</h2>
<p><code>cost ~ {e(ch['formula'])}</code></p>
<p>LaTeX: <code>{e(ch['latex'])}</code></p>
<p>Front position {ch['position']} ({'elbow rule' if ch['selected_by'] == 'elbow' else 'chosen by the user'}); complexity
{ch['complexity']}; RMSE vs the surrogate on the scoring grid {e(_fmt(ch['rmse']))} (cost std {e(_fmt(sur['cost_std']))}).
Variables: {e(', '.join(summary['explained']))}{('; integrated out: ' + e(', '.join(summary['integrated_out']))) if summary['integrated_out'] else ''}.</p>
<h2>Pareto front</h2>
<table><tr>{''.join(f'<th>{e(h)}</th>' for h in FRONT_HEAD)}</tr>{rows}</table>
<p>Rerun with <code>--select N</code> to report another formula of the front.</p>
<img src="front.png" alt="front">
<h2>Importance</h2><p>{e(summary['importance']['method'])}.</p>
<table><tr><th>hyperparameter</th><th>importance</th><th>in the formula</th></tr>{imp}</table>
<img src="importance.png" alt="importance">
<h2>Landscape</h2><img src="landscape.png" alt="landscape" style="max-width:100%">
<h2>Surrogate</h2><p>SMAC's GP ({e(sur['kernel'])}), training RMSE {e(_fmt(sur.get('train_rmse')))},
cross-validated RMSE {e(_fmt(sur['cv_rmse']))}; fitted kernel <code>{e(str(sur.get('kernel_fitted')))}</code>.</p>
<h2>Best observed configuration</h2><p><code>{e(str(summary['best_observed']['config']))}</code>, cost
{e(_fmt(summary['best_observed']['cost']))}</p>
{('<h2>Notes</h2><ul>' + notes + '</ul>') if notes else ''}
<p>Machine-readable: <code>summary.json</code>.</p>
</body></html>
"""


def write_report(result: Explanation, out_dir: str | Path, report_format: str = "md") -> dict[str, Any]:
    """Write plots, the page and ``summary.json`` to ``out_dir``; returns ``result.files``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymexpError(f"output path {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    page = "report.md" if report_format == "md" else "report.html"
    plots = {"landscape": plot_landscape(result, out / "landscape.png").name,
             "front": plot_front(result, out / "front.png").name,
             "importance": plot_importance(result, out / "importance.png").name}
    result.files = {"report": page, "summary": "summary.json", "plots": plots, "out_dir": str(out.resolve())}
    summary = result.summary()
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / page, markdown(summary) if report_format == "md" else html_page(summary))
    return result.files
