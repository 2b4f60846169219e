"""The report of an explanation: a folder with a Markdown and an HTML page, plots and a JSON summary.

Files written to ``out_dir``:

- ``report.md`` and ``report.html`` (always both; the HTML page is self-contained: figures
  embedded as data URIs, the formula as MathML, no script or network access): warnings first,
  then the chosen formula, its held-out quality (the headline) and its split-conformal interval,
  in-sample figures labelled as such, the symbols with their units and the meaning of every
  function, the 1-D partial dependence plots, the landscape, the Pareto front, the importances,
  the surrogate's fit and the notes;
- ``pd.png``: per explained hyperparameter, the surrogate's partial dependence (every other
  hyperparameter integrated out), the formula's (averaged over the other explained ones), the
  conformal band around the formula, and the evaluations as a rug;
- ``landscape.png``: surrogate and formula over the top two explained hyperparameters on a fine
  grid (the others integrated out by partial dependence), their difference, and the evaluated
  configurations; a line plot when one hyperparameter is explained;
- ``front.png``: complexity vs held-out RMSE (and RMSE vs the surrogate) of the front, the default
  choice and the chosen formula;
- ``importance.png``: fANOVA importances, by whether the hyperparameter is in the formula;
- ``landscape.json``: the surrogate on the landscape grid and the 1-D axes, and the evaluated
  points, so that ``symexp explain OUT_DIR --select N`` can redraw both pages for another front
  member without refitting anything;
- ``summary.json``: for scripts. Schema (version 3)::

    symexp_explain: 3
    source:       {kind: smac3|optuna|csv, path, n_evaluations, objective_name, direction, n_trials?,
                   study?, objective?, cost_column?, space_file?}
    objective:    {name, direction: minimize|maximize, better: "lower is better"|"higher is better",
                   n_objectives, index}
    warnings:     [str]                   quality warnings about the chosen formula (empty: none)
    space:        [{name, original_name?, type: float|int|categorical, lower?, upper?, log?, choices?}]
    variables:    [{symbol, name, hyperparameter, enters_as, log10, lower, upper, log_scaled, integer,
                    enters_range?}]       symbol: the formula's variable (log10_lr = log10(lr))
    units:        log10|raw               how log-scaled hyperparameters enter the formulas
    functions:    {name: meaning}         every function used on the front
    notes:        [str]                   what was decided along the way
    surrogate:    {kind: smac-gp, kernel, kernel_fitted, seed, n_restarts, n_train, train_rmse,
                   cv: {rmse, r2, folds} | null, fit: {rmse, r2}, objective_std}
    importance:   {method, values: {name: share of variance}}     sorted, most important first
    explained:    [name]                  the explained hyperparameters (formula order)
    integrated_out: [name]
    sr:           {engine: operon|gplearn|both, n_samples, seeds, parsimony, check_points,
                   n_background, seed, settings: {SRSettings fields, engine = the engine used},
                   simplify_operon}
    front:        [formula + position]    simplest first
    candidates:   [formula]               every distinct formula found
    choice_rule:  str                     how the default formula is chosen (:mod:`symexp.explain.front`)
    rule_name:    knee|r2_tolerance       the rule that chose the default
    rule:         int                     front position the rule chooses
    alternatives: {rule name: position}   what each rule would choose
    chosen:       formula + {position, selected_by: rule|user}
    best_observed: {config: {name: value}, value, row}   the maximum of a maximised objective
    timings_s:    {step: seconds}
    files:        {report, pages, summary, landscape_data, plots: {...}, out_dir}

  A formula is ``{id, engine, seed, parsimony (null for operon), formula, latex, complexity, tree,
  guards, program, timed_out, fit_seconds, heldout: {r2, rmse, interval, coverage, n, folds,
  method}, surrogate: {rmse, r2}, evaluations: {rmse, r2, r2_alone}, finite_on_box}`` (metrics:
  :mod:`symexp.explain.quality`, :mod:`symexp.explain.heldout`; ``heldout`` absent with
  ``--cv-folds 0``). ``formula`` is SymPy text in the formula's variables (``log10_lr`` for a
  log-scaled ``lr``; ``log`` = natural logarithm); ``tree`` is the same formula as data.
  :func:`symexp.explain.evaluate` evaluates it at raw configurations, exactly as printed, without
  evaluating text.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from symexp.store.atomic import atomic_write_json, atomic_write_text, read_json
from symexp.errors import SymexpError
from symexp.explain.formula import Variables, from_tree, mathml
from symexp.explain.quality import warnings_for
from symexp.seeding import derive_seed

if TYPE_CHECKING:
    from symexp.explain import Explanation

LANDSCAPE_POINTS = 60
LANDSCAPE_BACKGROUND = 100
PAGES = ("report.md", "report.html")
PLOTS = ("pd", "landscape", "front", "importance")
WRITTEN = PAGES + ("summary.json", "landscape.json") + tuple(f"{p}.png" for p in PLOTS)
PD_POINTS = 60


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:.{digits}g}"
    return str(v)


# ----------------------------------------------------------------------------------------------
# output folder
# ----------------------------------------------------------------------------------------------

def check_out_dir(out_dir: str | Path, force: bool) -> Path:
    """Refuse (before any work) an output path that is a file, or a non-empty folder unless ``force``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymexpError(f"output path {out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SymexpError(f"output folder {out} exists and is not empty; choose another --out, or pass --force to "
                          f"overwrite the report in it")
    return out


def is_report_dir(path: str | Path) -> bool:
    """True for a folder written by :func:`write_report` (it holds an explain ``summary.json``)."""
    p = Path(path)
    if not (p.is_dir() and (p / "summary.json").is_file()):
        return False
    try:
        return isinstance(read_json(p / "summary.json"), dict) and "symexp_explain" in read_json(p / "summary.json")
    except (OSError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------
# data behind the plots
# ----------------------------------------------------------------------------------------------

def symbols_of(summary: dict[str, Any]) -> list[sp.Symbol]:
    return Variables.from_summary(summary).symbols()


def expression_of(summary: dict[str, Any], formula: dict[str, Any]) -> sp.Expr:
    return from_tree(formula["tree"], symbols_of(summary))


def landscape_data(result: Explanation) -> dict[str, Any]:
    """The surrogate on a fine grid over the top two explained hyperparameters (the others
    integrated out), the evaluated points, and for more than two explained hyperparameters the
    background over which the formula's other variables are averaged."""
    from symexp.explain import box_axis, label

    run = result.run
    pair = result.explained[:2]
    rest = result.explained[2:]
    sub = result.explained_space
    axes = [box_axis(sub[n], LANDSCAPE_POINTS) for n in pair]
    grid = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(pair), -1).T
    surrogate = label(run, result.surrogate, pair, grid, result.n_background, result.seed)
    background = None
    if rest:
        rng = np.random.default_rng(derive_seed("explain-landscape", result.seed))
        background = {"names": rest,
                      "values": sub.subspace(rest).sample(LANDSCAPE_BACKGROUND, rng).tolist()}
    cols = [run.space.names.index(n) for n in pair]
    pd1 = []
    for name in result.explained:
        axis = box_axis(sub[name], PD_POINTS)
        pd1.append({"name": name, "axis": axis.tolist(),
                    "surrogate": label(run, result.surrogate, [name], axis.reshape(-1, 1), result.n_background,
                                       result.seed).tolist(),
                    "x": run.X[:, run.space.names.index(name)].tolist()})
    rng = np.random.default_rng(derive_seed("explain-pd1", result.seed))
    pd_background = result.explained_space.sample(LANDSCAPE_BACKGROUND, rng).tolist()
    return {"pair": pair, "axes": [a.tolist() for a in axes], "surrogate": surrogate.tolist(),
            "background": background, "pd1": pd1, "pd_background": pd_background,
            "points": {"x": run.X[:, cols].tolist(), "value": run.y.tolist()}}


def formula_on_landscape(summary: dict[str, Any], data: dict[str, Any], expr: sp.Expr) -> np.ndarray:
    """The formula on the landscape grid (flattened, first axis slowest); averaged over the
    stored background for variables beyond the top two."""
    names = summary["explained"]
    variables = Variables.from_summary(summary)
    axes = [np.asarray(a, float) for a in data["axes"]]
    grid = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T
    if not data.get("background"):
        return variables.predict(expr, grid)
    bg = np.asarray(data["background"]["values"], float)
    B = len(bg)
    X = np.empty((len(grid) * B, len(names)))
    for j, name in enumerate(names):
        if name in data["pair"]:
            X[:, j] = np.repeat(grid[:, data["pair"].index(name)], B)
        else:
            X[:, j] = np.tile(bg[:, data["background"]["names"].index(name)], len(grid))
    return variables.predict(expr, X).reshape(len(grid), B).mean(axis=1)


def formula_pd(summary: dict[str, Any], data: dict[str, Any], expr: sp.Expr, name: str) -> np.ndarray:
    """The formula's partial dependence on ``name`` at the stored 1-D axis: averaged over the
    stored background of the other explained hyperparameters."""
    variables = Variables.from_summary(summary)
    names = summary["explained"]
    entry = next(e for e in data["pd1"] if e["name"] == name)
    axis = np.asarray(entry["axis"], float)
    bg = np.asarray(data["pd_background"], float).reshape(-1, len(names))
    if len(names) == 1:
        return variables.predict(expr, axis.reshape(-1, 1))
    B = len(bg)
    X = np.tile(bg, (len(axis), 1))
    X[:, names.index(name)] = np.repeat(axis, B)
    return variables.predict(expr, X).reshape(len(axis), B).mean(axis=1)


# ----------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _display(summary: dict[str, Any], name: str) -> str:
    for v in summary["space"]:
        if v["name"] == name:
            return v.get("original_name", name)
    return name


def _is_log(summary: dict[str, Any], name: str) -> bool:
    return any(v["name"] == name and v.get("log") for v in summary["space"])


def _axis_label(summary: dict[str, Any], name: str) -> str:
    return _display(summary, name) + (" (log scale)" if _is_log(summary, name) else "")


def objective_label(summary: dict[str, Any]) -> str:
    """``<name> (lower is better)`` / ``<name> (higher is better)``."""
    o = summary["objective"]
    return f"{o['name']} ({o['better']})"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def landscape_figure(summary: dict[str, Any], data: dict[str, Any]):
    """Surrogate vs the chosen formula (see the module docstring); returns the figure."""
    plt = _plt()
    from matplotlib.ticker import NullFormatter

    chosen = summary["chosen"]
    expr = expression_of(summary, chosen)
    pair = data["pair"]
    axes = [np.asarray(a, float) for a in data["axes"]]
    sur = np.asarray(data["surrogate"], float)
    form = formula_on_landscape(summary, data, expr)
    pts = np.asarray(data["points"]["x"], float)
    values = np.asarray(data["points"]["value"], float)
    ylab = objective_label(summary)
    title = _short(f"{summary['objective']['name']} ~ {chosen['formula']}", 120)
    if len(pair) == 1:
        fig, ax = plt.subplots(figsize=(7, 4.4), constrained_layout=True)
        others = " (others integrated out)" if summary["integrated_out"] else ""
        ax.plot(axes[0], sur, label="GP surrogate" + others, color="C0", lw=2)
        ax.plot(axes[0], form, label="formula", color="C3", lw=2, ls="--")
        ax.scatter(pts[:, 0], values, s=14, color="k", alpha=0.5, label="evaluated configurations (observed)")
        ax.set_xlabel(_axis_label(summary, pair[0]))
        ax.set_ylabel(ylab)
        if _is_log(summary, pair[0]):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=9)
        return fig
    shape = (len(axes[0]), len(axes[1]))
    sur, form = sur.reshape(shape), form.reshape(shape)
    fig, axs = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    lo, hi = float(np.nanmin(sur)), float(np.nanmax(sur))
    finite = form[np.isfinite(form)]
    if finite.size:
        lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if not hi > lo:
        hi = lo + 1e-12
    # the better end of the scale is bright whatever the direction
    cmap = "viridis" if summary["objective"]["direction"] == "maximize" else "viridis_r"
    A, B = np.meshgrid(axes[0], axes[1], indexing="ij")
    others = "others integrated out" if summary["integrated_out"] else ""
    titles = ["GP surrogate" + (f" ({others})" if others else ""), "formula", "formula - surrogate"]
    diff = form - sur
    m = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
    m = m if m > 0 else 1e-12
    for k, (ax, Z) in enumerate(zip(axs, [sur, form, diff])):
        if k < 2:
            mesh = ax.pcolormesh(A, B, Z, shading="nearest", cmap=cmap, vmin=lo, vmax=hi)
            cbar_label = ylab
        else:
            mesh = ax.pcolormesh(A, B, Z, shading="nearest", cmap="RdBu_r", vmin=-m, vmax=m)
            cbar_label = f"formula - surrogate ({summary['objective']['name']})"
        cbar = fig.colorbar(mesh, ax=ax)
        cbar.set_label(cbar_label)
        ax.scatter(pts[:, 0], pts[:, 1], s=12, facecolors="white", edgecolors="k", linewidths=0.6,
                   label="evaluated configurations")
        ax.set_xlabel(_axis_label(summary, pair[0]))
        ax.set_ylabel(_axis_label(summary, pair[1]))
        if _is_log(summary, pair[0]):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        if _is_log(summary, pair[1]):
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(titles[k], fontsize=10)
    axs[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(title, fontsize=10)
    return fig


def pd_figure(summary: dict[str, Any], data: dict[str, Any]):
    """1-D partial dependence per explained hyperparameter (see the module docstring)."""
    plt = _plt()
    from matplotlib.ticker import NullFormatter

    chosen = summary["chosen"]
    expr = expression_of(summary, chosen)
    interval = (chosen.get("heldout") or {}).get("interval")
    entries = data["pd1"]
    fig, axs = plt.subplots(1, len(entries), figsize=(4.6 * len(entries) + 0.6, 3.8), constrained_layout=True,
                            squeeze=False)
    for ax, entry in zip(axs[0], entries):
        name = entry["name"]
        axis = np.asarray(entry["axis"], float)
        form = formula_pd(summary, data, expr, name)
        if interval is not None:
            ax.fill_between(axis, form - interval, form + interval, color="C3", alpha=0.15, lw=0,
                            label=f"formula +- {interval:.3g} ({chosen['heldout']['coverage']:.0%} of held-out "
                                  f"evaluations)")
        ax.plot(axis, entry["surrogate"], color="C0", lw=2, label="GP surrogate (others integrated out)")
        ax.plot(axis, form, color="C3", lw=2, ls="--", label="formula")
        x = np.asarray(entry["x"], float)
        lo, hi = ax.get_ylim()
        ax.plot(x, np.full(len(x), lo), "|", color="k", ms=12, alpha=0.6, label="evaluations (rug)")
        ax.set_ylim(lo - 0.02 * (hi - lo), hi)
        ax.set_xlabel(_axis_label(summary, name))
        ax.set_ylabel(objective_label(summary))
        choices = next((v["choices"] for v in summary["variables"] if v["name"] == name and v.get("categorical")), None)
        if choices:
            ax.set_xticks(range(len(choices)), choices)
        if _is_log(summary, name):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
    axs[0][0].legend(fontsize=7)
    fig.suptitle(_short(f"partial dependence; {summary['objective']['name']} ~ {chosen['formula']}", 120), fontsize=9)
    return fig


def front_figure(summary: dict[str, Any]):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)

    def rmse(c):
        return c["surrogate"]["rmse"]

    ok = [c for c in summary["candidates"] if rmse(c) is not None]
    ax.scatter([c["complexity"] for c in ok], [rmse(c) for c in ok], s=14, color="0.65", label="candidates")
    front = summary["front"]
    ax.plot([c["complexity"] for c in front], [rmse(c) for c in front], "-o", color="C0", ms=5,
            label="Pareto front (RMSE vs surrogate, in-sample)")
    held = [c for c in front if (c.get("heldout") or {}).get("rmse") is not None]
    if held:
        ax.plot([c["complexity"] for c in held], [c["heldout"]["rmse"] for c in held], "-s", color="C1", ms=4,
                label="held-out RMSE vs evaluations")
    r, ch = front[summary["rule"]], summary["chosen"]
    ax.scatter([r["complexity"]], [rmse(r)], s=140, facecolors="none", edgecolors="C2", linewidths=2,
               label=f"default choice ({summary['rule_name']} rule)")
    if ch["position"] != summary["rule"]:
        ax.scatter([ch["complexity"]], [rmse(ch)], s=120, marker="s", facecolors="none", edgecolors="C3",
                   linewidths=2, label="chosen (--select)")
    for c in front:
        ax.annotate(str(c["position"]), (c["complexity"], rmse(c)), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    values = [rmse(c) for c in ok] + [c["heldout"]["rmse"] for c in held]
    if values and min(values) > 0 and max(values) / min(values) > 30:
        ax.set_yscale("log")
    ax.set_xlabel("complexity (operations)")
    ax.set_ylabel(f"RMSE ({summary['objective']['name']})")
    ax.legend(fontsize=8)
    return fig


def importance_figure(summary: dict[str, Any]):
    plt = _plt()
    from matplotlib.patches import Patch

    items = sorted(summary["importance"]["values"].items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.35 * len(items)), constrained_layout=True)
    explained = set(summary["explained"])
    colors = ["C0" if n in explained else "0.6" for n, _ in items]
    ax.barh([_display(summary, n) for n, _ in items], [v for _, v in items], color=colors)
    ax.set_xlabel("importance: share of the surrogate's variance (fANOVA main effect)")
    ax.set_xlim(0, max(1e-9, max(v for _, v in items)) * 1.15)
    ax.legend(handles=[Patch(color="C0", label="in the formula"), Patch(color="0.6", label="integrated out")],
              fontsize=8, loc="lower right")
    return fig


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, dpi=110, format="png")
    _plt().close(fig)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# pages
# ----------------------------------------------------------------------------------------------

def _source_line(s: dict[str, Any]) -> str:
    kind = {"smac3": "SMAC3 run", "optuna": "Optuna study", "csv": "CSV"}[s["kind"]]
    extra = f", study {s['study']}" if s.get("study") else ""
    budget = f"; multi-fidelity, {s['budget']}" if s.get("budget") else ""
    return f"{kind} {s['path']}{extra}: {s['n_evaluations']} evaluations used{budget}"


def _objective_line(summary: dict[str, Any]) -> str:
    o = summary["objective"]
    which = ""
    if o["n_objectives"] > 1:
        which = f" (objective {o['index']} of {o['n_objectives']}: {o['name']})"
    verb = "maximises" if o["direction"] == "maximize" else "minimises"
    return (f"The run {verb} {o['name']}{which}; the formulas predict {o['name']} in the run's units "
            f"({o['better']}).")


def _r2(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def headline(summary: dict[str, Any]) -> str:
    """The report's quality headline: the chosen formula's held-out R^2, RMSE and interval."""
    ch = summary["chosen"]
    held = ch.get("heldout")
    name = summary["objective"]["name"]
    if not held:
        return ("Held-out quality: not computed (--cv-folds 0); the figures below are in-sample and flatter the "
                "formula.")
    text = (f"Held-out quality (the formula alone, on evaluations not used to fit it, {held['folds']}-fold "
            f"cross-validation): R^2 {_r2(held['r2'])}, RMSE {_fmt(held['rmse'])}.")
    if held.get("interval") is not None:
        text += (f" {held['coverage']:.0%} of held-out evaluations lie within +- {_fmt(held['interval'], 3)} "
                 f"({name}) of the formula (split-conformal interval).")
    return text


def _quality_rows(summary: dict[str, Any]) -> list[list[str]]:
    ch = summary["chosen"]
    cv = summary["surrogate"]["cv"]
    held = ch.get("heldout") or {}
    return [
        ["HELD OUT: formula alone vs evaluations not used to fit it", _fmt(held.get("rmse")),
         _r2(held.get("r2")) if held else "not run"],
        ["surrogate, cross-validated (held out)", _fmt(cv["rmse"]) if cv else "-", _r2(cv["r2"]) if cv else "not run"],
        ["in-sample: formula vs surrogate (check grid over the explained box)", _fmt(ch["surrogate"]["rmse"]),
         _r2(ch["surrogate"]["r2"])],
        ["in-sample: formula vs the run's evaluations (others through the surrogate)",
         _fmt(ch["evaluations"]["rmse"]), _r2(ch["evaluations"]["r2"])],
        ["in-sample: formula alone vs the run's evaluations", "-", _r2(ch["evaluations"]["r2_alone"])],
    ]


def _variable_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for v in summary["variables"]:
        rng = f"[{v['lower']:g}, {v['upper']:g}]"
        enters = v["enters_as"]
        if v.get("enters_range"):
            a, b = v["enters_range"]
            enters += f", from {a:.3g} to {b:.3g}"
        kind = ("integer" if v["integer"] else "float") + (", log-scaled" if v["log_scaled"] else "")
        rows.append([v["symbol"], v["hyperparameter"], f"{kind} in {rng}",
                     f"{v['symbol']} = {enters}" if v.get("log10") else enters])
    return rows


def _front_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in summary["front"]:
        mark = []
        if c["position"] == summary["rule"]:
            mark.append(f"default ({summary['rule_name']})")
        mark += [f"{k} rule" for k, v in summary["alternatives"].items()
                 if v == c["position"] and k != summary["rule_name"]]
        if c["position"] == summary["chosen"]["position"]:
            mark.append("chosen")
        held = c.get("heldout") or {}
        rows.append([str(c["position"]), str(c["complexity"]), _fmt(held.get("rmse")), _r2(held.get("r2")),
                     _r2(c["surrogate"]["r2"]), c["engine"], c["formula"], ", ".join(mark)])
    return rows


FRONT_HEAD = ["#", "complexity", "held-out RMSE", "held-out R^2", "R^2 vs surrogate (in-sample)", "engine", "formula",
              ""]


def _md_table(head: list[str], rows: list[list[str]], code_col: int | None = None) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [f"`{c}`" if k == code_col else c for k, c in enumerate(row)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _how_chosen(summary: dict[str, Any]) -> str:
    ch = summary["chosen"]
    how = (f"the default, chosen by the {summary['rule_name']} rule: {summary['choice_rule']}"
           if ch["selected_by"] == "rule" else "chosen with --select")
    return f"front position {ch['position']} of {len(summary['front'])} ({how}), complexity {ch['complexity']}"


def markdown(summary: dict[str, Any]) -> str:
    ch = summary["chosen"]
    sur = summary["surrogate"]
    name = summary["objective"]["name"]
    out_dir = summary["files"].get("out_dir", "OUT")
    lines = ["# symexp explain", "", _source_line(summary["source"]), "", _objective_line(summary), ""]
    if summary["warnings"]:
        lines += ["## Warnings", ""] + [f"- **{w}**" for w in summary["warnings"]] + [""]
    lines += ["## Formula", "", f"`{name} ~ {ch['formula']}`  ({summary['objective']['better']})", "",
              "$$" + ch["latex"] + "$$", "", f"**{headline(summary)}**", "",
              f"{_upper_first(_how_chosen(summary))}.", ""]
    logs = [f"`{v['symbol']}` = log10({v['hyperparameter']})" for v in summary["variables"] if v.get("log10")]
    if logs:
        lines += [f"Log-scaled hyperparameters enter only through their base-10 logarithm: {', '.join(logs)}. To "
                  f"evaluate a formula at raw values: `symexp.explain.evaluate(summary, configs)`.", ""]
    if summary["integrated_out"]:
        lines += [f"Integrated out (averaged over by partial dependence): "
                  f"{', '.join(_display(summary, n) for n in summary['integrated_out'])}.", ""]
    lines += ["### Quality (held out first; in-sample figures flatter the formula)", ""]
    lines += _md_table(["check", "RMSE", "R^2"], _quality_rows(summary)) + [""]
    lines += ["### Symbols and units", ""] + _md_table(["symbol", "hyperparameter", "space", "enters the formula as"],
                                                        _variable_rows(summary)) + [""]
    if summary["functions"]:
        lines += ["Functions: " + "; ".join(summary["functions"].values()) + ".", ""]
    if ch["guards"]:
        lines += ["Protected operations active on the box: " + "; ".join(ch["guards"]) + ".", ""]
    lines += ["## Partial dependence", "", "Per explained hyperparameter: the surrogate with every other "
              "hyperparameter integrated out, the formula averaged over the other explained ones, the formula's "
              "held-out interval as a band, and the evaluations as a rug.", "", "![partial dependence](pd.png)", ""]
    lines += ["## Landscape", "", "Surrogate and formula on a fine grid over the top two explained hyperparameters, "
              "with the evaluated configurations.", "", "![landscape](landscape.png)", "",
              "## Pareto front (accuracy vs complexity)", ""]
    lines += _md_table(FRONT_HEAD, _front_rows(summary), code_col=6)
    lines += ["", f"To report another formula of the front (no refit): `symexp explain {out_dir} --select N`.", "",
              "![front](front.png)", "", "## Importance", "", f"{summary['importance']['method']}.", ""]
    lines += _md_table(["hyperparameter", "importance", "in the formula"],
                       [[_display(summary, n), f"{v:.3f}", "yes" if n in summary["explained"] else "no"]
                        for n, v in summary["importance"]["values"].items()])
    cv = sur["cv"]
    lines += ["", "![importance](importance.png)", "", "## Surrogate", "",
              f"SMAC's GP ({sur['kernel']}), seed {sur['seed']}, fitted on {sur.get('n_train')} evaluations: "
              f"R^2 {_r2(sur['fit']['r2'])} on them, "
              + (f"cross-validated R^2 {_r2(cv['r2'])} (RMSE {_fmt(cv['rmse'])}, {cv['folds']} folds)" if cv
                 else "not cross-validated")
              + f"; {name} std over the run {_fmt(sur['objective_std'])}.", "",
              f"Fitted kernel: `{sur.get('kernel_fitted')}`", "",
              "## Best observed configuration", "",
              f"`{summary['best_observed']['config']}`: {name} = {_fmt(summary['best_observed']['value'])} "
              f"({summary['objective']['better']})", ""]
    if summary["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in summary["notes"]] + [""]
    sr = summary["sr"]
    lines += ["## Settings", "", _settings_line(sr), "", "Machine-readable: `summary.json`.", ""]
    return "\n".join(lines)


def _settings_line(sr: dict[str, Any]) -> str:
    s = sr["settings"]
    par = f", parsimony {sr['parsimony']}" if sr["parsimony"] else ""
    return (f"Engine {sr['engine']}, SR seeds {sr['seeds']}{par}; population {s['population_size']}, generations "
            f"{s['generations']}, max length {s['max_length']} (operon), functions {', '.join(s['function_set'])}, "
            f"time limit {s['time_limit_s']} s per fit; SR target standardised; {sr['n_samples']} surrogate-labelled "
            f"random configurations, {sr['check_points']} check-grid points, PD background {sr['n_background']}, "
            f"seed {sr['seed']}.")


def html_page(summary: dict[str, Any], formula_mathml: str, images: dict[str, str] | None = None) -> str:
    """The HTML page; ``images`` maps plot names to ``data:`` URIs (embedded, no files needed)."""
    images = images or {}
    e = html.escape
    ch = summary["chosen"]
    sur = summary["surrogate"]
    name = summary["objective"]["name"]
    out_dir = summary["files"].get("out_dir", "OUT")

    def table(head, rows, code_col=None):
        cells = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{'<code>' + e(c) + '</code>' if k == code_col else e(c)}</td>"
                                        for k, c in enumerate(r)) + "</tr>" for r in rows)
        return f"<table><tr>{cells}</tr>{body}</table>"

    warn = ""
    if summary["warnings"]:
        warn = ('<div class="warn"><h2>Warnings</h2><ul>' + "".join(f"<li>{e(w)}</li>" for w in summary["warnings"])
                + "</ul></div>")
    imp_rows = [[_display(summary, n), f"{v:.3f}", "yes" if n in summary["explained"] else "no"]
                for n, v in summary["importance"]["values"].items()]
    notes = "".join(f"<li>{e(n)}</li>" for n in summary["notes"])
    integrated = (f"<p>Integrated out (averaged over by partial dependence): "
                  f"{e(', '.join(_display(summary, n) for n in summary['integrated_out']))}.</p>"
                  if summary["integrated_out"] else "")
    functions = f"<p>Functions: {e('; '.join(summary['functions'].values()))}.</p>" if summary["functions"] else ""
    guards = (f"<p>Protected operations active on the box: {e('; '.join(ch['guards']))}.</p>" if ch["guards"] else "")
    cv = sur["cv"]
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>symexp explain</title>
<style>body{{font-family:sans-serif;max-width:1150px;margin:2em auto;}} table{{border-collapse:collapse;margin:0.5em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}} code{{background:#f4f4f4}}
.warn{{border:2px solid #c00;background:#fff3f3;padding:0 1em}} math{{font-size:1.2em}}</style></head><body>
<h1>symexp explain</h1>
<p>{e(_source_line(summary['source']))}</p>
<p>{e(_objective_line(summary))}</p>
{warn}
<h2>Formula</h2>
<p><code>{e(name)} ~ {e(ch['formula'])}</code> ({e(summary['objective']['better'])})</p>
{formula_mathml}
<p><b>{e(headline(summary))}</b></p>
<p>{e(_upper_first(_how_chosen(summary)))}.</p>
{integrated}
<h3>Quality (held out first; in-sample figures flatter the formula)</h3>
{table(['check', 'RMSE', 'R^2'], _quality_rows(summary))}
<h3>Symbols and units</h3>
{table(['symbol', 'hyperparameter', 'space', 'enters the formula as'], _variable_rows(summary))}
{functions}{guards}
<h2>Partial dependence</h2>
<p>Per explained hyperparameter: the surrogate with every other hyperparameter integrated out, the formula averaged
over the other explained ones, the formula's held-out interval as a band, and the evaluations as a rug.</p>
<img src="{images.get('pd', 'pd.png')}" alt="partial dependence" style="max-width:100%">
<h2>Landscape</h2>
<p>Surrogate and formula on a fine grid over the top two explained hyperparameters, with the evaluated configurations.</p>
<img src="{images.get('landscape', 'landscape.png')}" alt="landscape" style="max-width:100%">
<h2>Pareto front</h2>
{table(FRONT_HEAD, _front_rows(summary), code_col=6)}
<p>To report another formula of the front (no refit): <code>symexp explain {e(out_dir)} --select N</code>.</p>
<img src="{images.get('front', 'front.png')}" alt="front">
<h2>Importance</h2><p>{e(summary['importance']['method'])}.</p>
{table(['hyperparameter', 'importance', 'in the formula'], imp_rows)}
<img src="{images.get('importance', 'importance.png')}" alt="importance">
<h2>Surrogate</h2><p>SMAC's GP ({e(sur['kernel'])}), fitted on {sur.get('n_train')} evaluations: R^2 {_r2(sur['fit']['r2'])}
on them, {e(('cross-validated R^2 ' + _r2(cv['r2']) + ' (RMSE ' + _fmt(cv['rmse']) + ')') if cv else 'not cross-validated')};
fitted kernel <code>{e(str(sur.get('kernel_fitted')))}</code>.</p>
<h2>Best observed configuration</h2><p><code>{e(str(summary['best_observed']['config']))}</code>: {e(name)} =
{e(_fmt(summary['best_observed']['value']))} ({e(summary['objective']['better'])})</p>
{('<h2>Notes</h2><ul>' + notes + '</ul>') if notes else ''}
<h2>Settings</h2><p>{e(_settings_line(summary['sr']))}</p>
<p>Machine-readable: <code>summary.json</code>.</p>
</body></html>
"""


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

def write_files(summary: dict[str, Any], data: dict[str, Any], out: Path, report_format: str = "md") -> dict[str, Any]:
    """Plots, both pages (``report.md`` and the self-contained ``report.html``), ``landscape.json``
    and ``summary.json`` (last) into ``out``. ``report_format`` only names the page the command
    points to first."""
    import base64

    from symexp.store.atomic import atomic_write_bytes

    out.mkdir(parents=True, exist_ok=True)
    figures = {"pd": pd_figure, "landscape": landscape_figure, "front": lambda s, d: front_figure(s),
               "importance": lambda s, d: importance_figure(s)}
    images, plots = {}, {}
    for name, make in figures.items():
        png = _png(make(summary, data))
        atomic_write_bytes(out / f"{name}.png", png)
        plots[name] = f"{name}.png"
        images[name] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    page = "report.md" if report_format == "md" else "report.html"
    summary["files"] = {"report": page, "pages": list(PAGES), "summary": "summary.json",
                        "landscape_data": "landscape.json", "plots": plots, "out_dir": str(out)}
    atomic_write_json(out / "landscape.json", data)
    atomic_write_text(out / "report.md", markdown(summary))
    atomic_write_text(out / "report.html", html_page(summary, mathml(expression_of(summary, summary["chosen"])),
                                                     images))
    atomic_write_json(out / "summary.json", summary)
    return summary["files"]


def write_report(result: Explanation, out_dir: str | Path, report_format: str = "md") -> dict[str, Any]:
    """Write the report of ``result`` to ``out_dir``; returns ``result.files``."""
    out = Path(out_dir)
    result.files = {"out_dir": str(out)}
    summary = result.summary()
    result.files = write_files(summary, landscape_data(result), out, report_format)
    return result.files


def reselect(out_dir: str | Path, select: int | None, report_format: str | None = None) -> dict[str, Any]:
    """Redraw the report in ``out_dir`` with front member ``select`` as the chosen formula
    (None: the default rule's), without refitting; returns the new summary."""
    from symexp.explain import check_select

    out = Path(out_dir)
    try:
        summary = read_json(out / "summary.json")
        data = read_json(out / "landscape.json")
    except (OSError, ValueError) as exc:
        raise SymexpError(f"cannot read the report in {out}: {exc}") from None
    if summary.get("symexp_explain") != 3:
        raise SymexpError(f"{out / 'summary.json'} is a report of another symexp version "
                          f"({summary.get('symexp_explain')!r}); rerun symexp explain on the run")
    front = summary["front"]
    position = summary["rule"] if select is None else check_select(select, len(front))
    chosen = dict(front[position], selected_by="rule" if position == summary["rule"] else "user")
    summary["chosen"] = chosen
    expr = expression_of(summary, chosen)
    cv = summary["surrogate"]["cv"]
    by_symbol = {v["symbol"]: v["name"] for v in summary["variables"]}
    summary["warnings"] = warnings_for(chosen, {by_symbol.get(s.name, s.name) for s in expr.free_symbols},
                                       summary["explained"],
                                       summary["importance"]["values"], None if cv is None else cv["r2"],
                                       {v["name"]: v["original_name"] for v in summary["space"] if "original_name" in v})
    fmt = report_format or ("html" if summary["files"].get("report") == "report.html" else "md")
    write_files(summary, data, out, fmt)
    return summary
