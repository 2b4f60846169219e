"""Loss landscapes: ground truth, the BO surrogate and the three symbolic explanations (paper Fig. 3).

Usage::

    python -m analysis.landscapes [--store results/store] [--cache results/cache] [--out results/analysis]
                                  [--experiment table1] [--seed S|all] [--n N|all]
                                  [--parsimony P] [--resolution 100] [KEY=VALUE ...]

For every (model, dataset, protocol) in the experiment's ok records, at one sampling seed
(``--seed``; default: the smallest seed of that cell) and one sample size (``--n``; default: the
largest n of that cell), one figure with five panels on the hyperparameter plane:

- (a) *Ground truth*: the true cost on the shared test grid, read from the test-set cache file
  ``<cache>/testsets/<slug(bench key)>-grid<P>-<hash>.json`` (mean over its evaluation seeds);
- (a) *GP*: the posterior mean of the BO run's GP snapshot after n evaluations
  (``gp_for(run, n)``; BO run from ``<cache>/bo/<slug(bench key)>/seed<S>-<hash>.json``), with
  its RMSE against the ground truth (the GP baseline's test RMSE);
- (b) *SR (BO)*, *SR (Random)*, *SR (BO-GP)*: the formula of the median-RMSE record of each
  method (lower median over the SR seeds, as :func:`analysis.formulas.median_run`), evaluated
  with :func:`symexp.symbolic.formula_predict`, titled with the record's test RMSE. Each shows
  its training points: the BO prefix (``bo_training_set(run, n)``), the random sample
  (``random_configurations(space, n, seed)``), the GP-labelled points
  (``gp_labels(gp_for(run, n), space, n_train_points, seed)``), all recomputed from seeds.

Axes are logarithmic for log hyperparameters, all panels share one colour scale (the range of
ground truth and GP, widened by at most a quarter of that range for SR predictions outside it;
values beyond are clipped, which the colour bar's arrows show). One hyperparameter gives line
plots instead of heat maps; more than two are listed as missing. The ground truth is drawn on the
test grid it is measured on; the GP and SR panels, which are functions, on a fine grid of
``FINE_GRID`` points per axis (``--resolution R`` for another, ``--resolution 0`` for the test
grid); titles keep the test-grid RMSE. Formulas are shown as the paper prints them
(:func:`symexp.symbolic.display.readable_formula`: protection guards left out where they never act
on the space, a footnote where they do).

Which cache files: the benchmark key's digest depends on settings the records do not carry
(e.g. the data source), and the file names on the test-set and BO settings, so candidates are
found by (model, dataset, protocol, hyperparameters, seed) and, when several fit, the one that
reproduces the records is taken: the GP snapshot's RMSE on the candidate grid must equal the
GP-baseline record's test RMSE, the formulas' RMSEs their records' (formulas are rounded, so
approximately). The files used are listed in the summary.

Written to ``<out>/landscapes/<protocol>/``: ``landscape_<model>_<dataset>_seed<S>_n<N>.png/.pdf``,
``landscapes.md`` (sources, formulas, RMSEs as recorded and recomputed from the rounded formula,
missing pieces) and ``landscapes.csv`` (one row per panel). A missing piece (no test set or BO
run in the cache, a method without records, a formula that does not evaluate) leaves its panel
saying "missing" and is listed in the report; the rest of the figure is drawn.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.cli import add_cache_arg, make_parser, run_cli
from analysis.figures import save_figure, set_style
from analysis.names import DATASET_ORDER, MODEL_ORDER, dataset_name, method_label, model_name, order_keys
from analysis.output import fmt, markdown_table, Report, write_csv, write_text
from analysis.views import (
    check_experiment, check_store, is_close, load_ok, readable_formula_of, search_space, the_one, view_setting,
    ViewRef,
)
from symexp.store.records import SR_METHODS
from analysis.formulas import median_run
from symexp.errors import SymexpError
from symexp.textsafe import markdown, md_code, safe_component
from symexp.benchmarks.testset import slug, test_set_files
from symexp.pipeline.training import bo_run_files
from symexp.symbolic.convert import formula_predict, rmse

DEFAULT_EXPERIMENT = "table1"
PRESET = "preset"  # parsimony: the preset's own single value (None: any)
PANELS = ("truth", "gp") + tuple(SR_METHODS)
CMAP = "viridis"
POINT_STYLE = {"sr_bo": dict(marker="o", s=22), "sr_random": dict(marker="s", s=18),
               "sr_bo_gp": dict(marker="o", s=7)}


# -- data ----------------------------------------------------------------------------------
@dataclass
class TestGrid:
    path: Path
    X: np.ndarray
    y: np.ndarray
    points_per_dim: int
    eval_seeds: list[int]
    benchmark: str

    __test__ = False  # not a pytest class


@dataclass
class Panel:
    """One panel: values ``z`` at raw-unit points ``X`` (m, d), optional training points."""

    name: str
    label: str
    X: np.ndarray | None = None
    z: np.ndarray | None = None
    points: np.ndarray | None = None
    points_label: str = ""
    rmse: float | None = None            # shown in the title (record's for SR, recomputed for GP)
    rmse_recomputed: float | None = None  # against the test grid, from what is drawn
    formula: str | None = None
    readable: Any = None                  # symexp.symbolic.display.ReadableFormula of ``formula``
    complexity: float | None = None
    n_runs: int = 0
    sr_seed: Any = None
    missing: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing is None and self.z is not None


@dataclass
class Landscape:
    experiment: str
    model: str
    dataset: str
    protocol: str
    seed: int
    n: int
    hyperparameters: list[str]
    log: list[bool]
    bounds: list[tuple[float, float]]
    panels: dict[str, Panel]
    test: TestGrid | None = None
    bo_run_path: Path | None = None
    bo_run: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [f"{p.label}: {p.missing}" for p in self.panels.values() if p.missing] + \
               [f"{p.label}: {n}" for p in self.panels.values() for n in p.notes if n.startswith("missing")]

    @property
    def stem(self) -> str:
        return safe_component(f"landscape_{self.model}_{self.dataset}_seed{self.seed}_n{self.n}")


def _bench_prefix(model: str, dataset: str, protocol: str) -> str:
    return f"{model}/{dataset}/{protocol}/"


def find_test_sets(cache: Path, model: str, dataset: str, protocol: str,
                   hyperparameters: list[str]) -> tuple[list[TestGrid], list[str]]:
    """Test-set cache files of this benchmark and hyperparameters (and notes on unreadable ones)."""
    out, notes = [], []
    for path in test_set_files(cache, _bench_prefix(model, dataset, protocol)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not str(data["benchmark"]).startswith(_bench_prefix(model, dataset, protocol)):
                continue
            if list(data["hyperparameters"]) != list(hyperparameters):
                continue
            X = np.asarray(data["X"], dtype=float).reshape(-1, len(hyperparameters))
            y = np.asarray(data["y"], dtype=float).reshape(-1)
            if len(X) != len(y):
                raise ValueError(f"{len(X)} points but {len(y)} values")
            out.append(TestGrid(path, X, y, int(data["points_per_dim"]), list(data["eval_seeds"]),
                                str(data["benchmark"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"unreadable test-set file {path}: {type(exc).__name__}: {exc}")
    return out, notes


def find_bo_runs(cache: Path, model: str, dataset: str, protocol: str, seed: int, n: int,
                 hyperparameters: list[str]) -> tuple[list[tuple[Path, Any]], list[str]]:
    """Cached BO runs of this benchmark and seed that have a training set and GP for ``n``."""
    from symexp.sampling import BORun, bo_training_set, gp_for

    out, notes = [], []
    for path in bo_run_files(cache, _bench_prefix(model, dataset, protocol), seed):
        try:
            run = BORun.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, SymexpError) as exc:
            notes.append(f"unreadable BO run {path}: {type(exc).__name__}: {exc}")
            continue
        if run.space.names != list(hyperparameters) or int(run.seed) != int(seed):
            continue
        try:
            bo_training_set(run, n)
            gp_for(run, n)
        except SymexpError as exc:
            notes.append(f"BO run {path.name} has nothing for n={n}: {exc}")
            continue
        out.append((path, run))
    return out, notes


def _rel(recomputed: float, recorded: Any) -> float:
    try:
        r = float(recorded)
    except (TypeError, ValueError):
        return float("nan")
    if not (math.isfinite(r) and math.isfinite(recomputed)):
        return 1.0
    return abs(recomputed - r) / max(abs(r), 1e-12)


def named_by_records(sub: pd.DataFrame, cache: Path, tests: list[TestGrid], runs: list[tuple[Path, Any]],
                     ) -> tuple[list[TestGrid], list[tuple[Path, Any]], list[str]]:
    """Keep the test set and BO run the records name (their ``artefacts``) when the cache has them.

    Records made by this version of symexp say which cache files they were computed from; older or
    hand-made ones do not, and then :func:`choose_sources` picks the pair that reproduces them."""
    named: dict[str, set[Path]] = {"test_set": set(), "bo_run": set()}
    for arts in sub.get("artefacts", pd.Series(dtype=object)).dropna():
        if isinstance(arts, dict):
            for kind in named:
                if arts.get(kind):
                    named[kind].add((cache / arts[kind]).resolve())
    notes = []
    if len(named["test_set"]) == 1:
        keep = [t for t in tests if t.path.resolve() in named["test_set"]]
        if keep:
            tests = keep
            notes.append("test set: the file the records name")
    if len(named["bo_run"]) == 1:
        keep = [r for r in runs if r[0].resolve() in named["bo_run"]]
        if keep:
            runs = keep
            notes.append("BO run: the file the records name")
    return tests, runs, notes


def choose_sources(tests: list[TestGrid], runs: list[tuple[Path, Any]], n: int, gp_record: pd.Series | None,
                   sr_records: dict[str, pd.Series], names: list[str]) -> tuple[TestGrid | None, tuple | None, list[str]]:
    """The (test set, BO run) pair that best reproduces the records; notes say how it was chosen."""
    from symexp.sampling import bo_training_set, gp_for

    notes: list[str] = []
    t_opts: list[TestGrid | None] = list(tests) or [None]
    r_opts: list[tuple | None] = list(runs) or [None]
    if len(t_opts) == 1 and len(r_opts) == 1:
        return t_opts[0], r_opts[0], notes

    def score(t: TestGrid | None, r: tuple | None) -> float | None:
        diffs = []
        if gp_record is not None and t is not None and r is not None:
            diffs.append(10 * _rel(rmse(t.y, gp_for(r[1], n).predict(t.X)[0]), gp_record["test_rmse"]))
        for rec in sr_records.values():
            if t is not None:
                try:
                    diffs.append(_rel(rmse(t.y, formula_predict(rec["formula"], names, t.X)), rec["test_rmse"]))
                except SymexpError:
                    pass
        rec = sr_records.get("sr_bo")
        if rec is not None and r is not None:
            try:
                X, y = bo_training_set(r[1], n)
                ok = np.isfinite(y)
                diffs.append(_rel(rmse(y[ok], formula_predict(rec["formula"], names, X[ok])), rec["train_rmse"]))
            except SymexpError:
                pass
        diffs = [d for d in diffs if math.isfinite(d)]
        return float(np.mean(diffs)) if diffs else None

    scored = [(score(t, r), t, r) for t in t_opts for r in r_opts]
    if all(s is None for s, _, _ in scored):
        # nothing to match against: the most recently written files
        t = max(tests, key=lambda g: g.path.stat().st_mtime) if tests else None
        r = max(runs, key=lambda x: x[0].stat().st_mtime) if runs else None
        notes.append(f"{len(tests)} test set(s) / {len(runs)} BO run(s) fit and no record to tell them apart: "
                     f"took the newest")
        return t, r, notes
    best = min((x for x in scored if x[0] is not None), key=lambda x: x[0])
    notes.append(f"{len(tests)} test set(s) x {len(runs)} BO run(s) fit; took the pair that reproduces the "
                 f"records best (mean relative RMSE difference {best[0]:.2g})")
    return best[1], best[2], notes


def cell_defaults(cell: pd.DataFrame) -> tuple[int | None, int | None]:
    """(smallest sampling seed, largest n) among a cell's records."""
    seeds = pd.to_numeric(cell["sampling_seed"], errors="coerce").dropna()
    ns = pd.to_numeric(cell["n_samples"], errors="coerce").dropna()
    return (int(seeds.min()) if len(seeds) else None, int(ns.max()) if len(ns) else None)


def select_sr(sub: pd.DataFrame, method: str, parsimony: float | None) -> pd.DataFrame:
    runs = sub[(sub["method"] == method) & sub["formula"].notna()]
    runs = runs[runs["formula"].astype(str).str.len() > 0]
    if parsimony is not None and len(runs):
        runs = runs[is_close(runs["parsimony"], parsimony)]
    return runs


#: Points per axis of the grid the GP and SR panels are drawn on (functions, not test-grid blocks).
FINE_GRID = 100


def landscape_data(cell: pd.DataFrame, cache: Path, model: str, dataset: str, protocol: str, seed: int, n: int,
                   parsimony: float | None = None, resolution: int = FINE_GRID,
                   experiment: str = "") -> Landscape:
    """Everything one landscape figure shows, as arrays (``cell``: ok records of model/dataset/protocol)."""
    from symexp.sampling import bo_training_set, gp_for, gp_labels, random_configurations

    sub = cell[(pd.to_numeric(cell["sampling_seed"], errors="coerce") == seed)
               & (pd.to_numeric(cell["n_samples"], errors="coerce") == n)]
    hp_counts = Counter(tuple(h) for h in sub["hyperparameters"] if isinstance(h, list | tuple))
    names = list(hp_counts.most_common(1)[0][0]) if hp_counts else []
    panels = {
        "truth": Panel("truth", "Ground truth"),
        "gp": Panel("gp", f"GP after {n} BO samples"),
        **{m: Panel(m, method_label(m)) for m in SR_METHODS},
    }
    ls = Landscape(experiment, model, dataset, protocol, int(seed), int(n), names, [], [], panels)
    if len(hp_counts) > 1:
        ls.notes.append(f"records disagree on the hyperparameters {sorted(hp_counts)}; using {names}")
        sub = sub[sub["hyperparameters"].map(lambda h: list(h) == names if isinstance(h, list | tuple) else False)]
    space = search_space(model, dataset, protocol, names) if names else None
    if space is None:
        why = "no records" if not names else f"unknown search space for {model} / {names}"
        for p in panels.values():
            p.missing = why
        return ls
    ls.log = [bool(space[h].log) for h in names]
    ls.bounds = [(float(space[h].lower), float(space[h].upper)) for h in names]

    sr_records: dict[str, pd.Series] = {}
    for m in SR_METHODS:
        runs = select_sr(sub, m, parsimony)
        if len(runs):
            sr_records[m] = median_run(runs)
            panels[m].n_runs = len(runs)
        else:
            panels[m].missing = (f"no ok {method_label(m)} record with a formula at seed {seed}, n={n}"
                                 + (f", parsimony {parsimony:g}" if parsimony is not None else ""))
    gp_rows = sub[sub["method"] == "gp_baseline"]
    gp_record = gp_rows.iloc[0] if len(gp_rows) else None

    tests, notes_t = find_test_sets(cache, model, dataset, protocol, names)
    runs, notes_r = find_bo_runs(cache, model, dataset, protocol, seed, n, names)
    ls.notes += notes_t + notes_r
    tests, runs, notes_n = named_by_records(sub, cache, tests, runs)
    ls.notes += notes_n
    test, run_pair, notes_c = choose_sources(tests, runs, n, gp_record, sr_records, names)
    ls.notes += notes_c
    ls.test = test
    run = run_pair[1] if run_pair else None
    ls.bo_run_path = run_pair[0] if run_pair else None
    ls.bo_run = run
    slug_prefix = slug(_bench_prefix(model, dataset, protocol))
    no_run = f"no BO run for seed {seed} with n={n} in {cache / 'bo'}/{slug_prefix}*"

    # the grid the models are drawn on
    if resolution > 0:
        Xm = space.test_grid(resolution)
    elif test is not None:
        Xm = test.X
    else:
        Xm = space.test_grid(10)
        ls.notes.append("no test set: GP and SR panels drawn on a 10-point-per-axis grid")

    # (a) ground truth
    if test is not None:
        panels["truth"].X, panels["truth"].z = test.X, test.y
        panels["truth"].label = (f"Ground truth ({test.points_per_dim}-point grid, "
                                 f"mean of {len(test.eval_seeds)} seed{'s' if len(test.eval_seeds) != 1 else ''})")
    else:
        panels["truth"].missing = f"no test set in {cache / 'testsets'} for {slug_prefix}* over {', '.join(names)}"

    # (a) GP
    gp = None
    if run is not None:
        try:
            gp = gp_for(run, n)
            panels["gp"].X, panels["gp"].z = Xm, gp.predict(Xm)[0]
            if test is not None:
                r = rmse(test.y, gp.predict(test.X)[0])
                panels["gp"].rmse = panels["gp"].rmse_recomputed = r
                if gp_record is not None and _rel(r, gp_record["test_rmse"]) > 1e-6:
                    ls.notes.append(f"GP RMSE on the grid {r:.6f} differs from the GP-baseline record "
                                    f"{float(gp_record['test_rmse']):.6f}")
        except Exception as exc:  # noqa: BLE001 - a panel never stops the figure
            panels["gp"].missing = f"GP prediction failed: {type(exc).__name__}: {exc}"
    else:
        panels["gp"].missing = no_run

    # (b) SR panels
    for m, rec in sr_records.items():
        p = panels[m]
        p.formula, p.rmse = str(rec["formula"]), float(rec["test_rmse"])
        p.readable = readable_formula_of(p.formula, model, dataset, protocol, names)
        p.complexity = float(rec["complexity"]) if pd.notna(rec["complexity"]) else None
        p.sr_seed = rec["sr_seed"]
        try:
            p.X, p.z = Xm, formula_predict(p.formula, names, Xm)
            if test is not None:
                p.rmse_recomputed = rmse(test.y, formula_predict(p.formula, names, test.X))
            if not np.isfinite(p.z).all():
                p.notes.append(f"{int((~np.isfinite(p.z)).sum())} of {len(p.z)} predictions not finite (blank)")
        except Exception as exc:  # noqa: BLE001
            p.X = p.z = None
            p.missing = f"formula does not evaluate: {type(exc).__name__}: {exc}"
            continue
        try:
            if m == "sr_bo":
                if run is None:
                    p.notes.append(f"missing training points: {no_run}")
                else:
                    p.points = bo_training_set(run, n)[0]
                    p.points_label = f"{len(p.points)} BO samples"
            elif m == "sr_random":
                p.points = random_configurations(space, int(n), int(seed))
                p.points_label = f"{len(p.points)} random samples"
            else:
                n_pts = pd.to_numeric(pd.Series([rec.get("n_train_points")]), errors="coerce").iloc[0]
                if gp is None:
                    p.notes.append(f"missing training points: {no_run}")
                elif not np.isfinite(n_pts) or n_pts < 1:
                    p.notes.append("missing training points: the record has no n_train_points")
                else:
                    p.points = gp_labels(gp, run.space, int(n_pts), int(seed))[0]
                    p.points_label = f"{len(p.points)} GP-labelled random samples"
        except Exception as exc:  # noqa: BLE001
            p.notes.append(f"missing training points: {type(exc).__name__}: {exc}")
    return ls


# -- drawing -------------------------------------------------------------------------------
def axis_edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around sorted grid values (mid-points; in log space for log axes)."""
    v = np.log(values) if log else np.asarray(values, float)
    if len(v) == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        mids = 0.5 * (v[1:] + v[:-1])
        e = np.concatenate([[v[0] - (mids[0] - v[0])], mids, [v[-1] + (v[-1] - mids[-1])]])
    return np.exp(e) if log else e


def grid_matrix(X: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x values, y values, Z[len(y), len(x)]) of values at the points of a 2-D Cartesian grid."""
    xs, ys = np.unique(X[:, 0]), np.unique(X[:, 1])
    Z = np.full((len(ys), len(xs)), np.nan)
    Z[np.searchsorted(ys, X[:, 1]), np.searchsorted(xs, X[:, 0])] = z
    return xs, ys, Z


def color_norm(base: list[np.ndarray], extra: list[np.ndarray]):
    """Shared colour scale: range of ``base`` widened by <= 1/4 of it for ``extra`` values.

    Returns (Normalize, extend) where extend tells the colour bar which ends are clipped."""
    from matplotlib.colors import Normalize

    def finite(arrs):
        vals = [np.asarray(a, float)[np.isfinite(a)] for a in arrs if a is not None]
        vals = [v for v in vals if v.size]
        return np.concatenate(vals) if vals else np.empty(0)

    b, e = finite(base), finite(extra)
    if not b.size:
        b, e = e, np.empty(0)
    if not b.size:
        return Normalize(0.0, 1.0), "neither"
    lo, hi = float(b.min()), float(b.max())
    span = hi - lo if hi > lo else max(abs(hi), 1e-3)
    clip_lo, clip_hi = False, False
    if e.size:
        lo2, hi2 = max(float(e.min()), lo - span / 4), min(float(e.max()), hi + span / 4)
        clip_lo, clip_hi = float(e.min()) < lo2, float(e.max()) > hi2
        lo, hi = min(lo, lo2), max(hi, hi2)
    if hi <= lo:
        lo, hi = lo - 0.5 * span, hi + 0.5 * span
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}
    return Normalize(lo, hi), extend[(clip_lo, clip_hi)]


def pretty_name(name: str) -> str:
    return {"alpha": "α", "eta": "η", "eta0": "η₀", "gamma": "γ"}.get(name, name.replace("_", " "))


def _log_ticks(axis, lo: float, hi: float) -> None:
    """Readable ticks on a short log axis (< 3 decades): 1-2-5 steps in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if hi / lo < 1e3:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def style_axes(ax, names: list[str], log: list[bool], bounds: list[tuple[float, float]]) -> None:
    ax.set_xlabel(pretty_name(names[0]) + (" (log)" if log[0] else ""))
    if log[0]:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis, *bounds[0])
    ax.set_xlim(*bounds[0])
    if len(names) > 1:
        ax.set_ylabel(pretty_name(names[1]) + (" (log)" if log[1] else ""))
        if log[1]:
            ax.set_yscale("log")
            _log_ticks(ax.yaxis, *bounds[1])
        ax.set_ylim(*bounds[1])
    ax.grid(False)


def draw_field(ax, X: np.ndarray, z: np.ndarray, names: list[str], log: list[bool],
               bounds: list[tuple[float, float]], norm, cmap=CMAP):
    """A heat map (2-D) or a curve (1-D) of ``z`` at ``X``; returns the colour mappable or None."""
    import matplotlib.pyplot as plt

    cm = plt.get_cmap(cmap).with_extremes(bad="#d9d9d9")
    if X.shape[1] == 1:
        order = np.argsort(X[:, 0])
        ax.plot(X[order, 0], z[order], color="#4C72B0", linewidth=1.8, marker="o", markersize=3)
        ax.set_ylim(norm.vmin, norm.vmax)
        ax.set_ylabel("cost")
        style_axes(ax, names, log, bounds)
        return None
    xs, ys, Z = grid_matrix(X, z)
    mesh = ax.pcolormesh(axis_edges(xs, log[0]), axis_edges(ys, log[1]), np.ma.masked_invalid(Z),
                         cmap=cm, norm=norm, shading="flat", rasterized=True)
    style_axes(ax, names, log, bounds)
    return mesh


def draw_points(ax, P: np.ndarray, style: dict, norm) -> None:
    if P.shape[1] == 1:
        ax.plot(P[:, 0], np.full(len(P), norm.vmin + 0.02 * (norm.vmax - norm.vmin)), "|", color="black",
                markersize=8, alpha=0.8)
        return
    ax.scatter(P[:, 0], P[:, 1], facecolor="white", edgecolor="black", linewidths=0.6, alpha=0.9,
               zorder=3, clip_on=True, **style)


def missing_panel(ax, title: str, reason: str) -> None:
    ax.set_facecolor("#f4f4f4")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.text(0.5, 0.55, "missing", ha="center", va="center", fontsize=14, color="#C44E52", weight="bold",
            transform=ax.transAxes)
    ax.text(0.5, 0.35, "\n".join(textwrap.wrap(reason, 38)[:5]), ha="center", va="top", fontsize=7.5,
            color="0.3", transform=ax.transAxes)
    ax.set_title(title, fontsize=10)


def short_formula(formula: str | None, width: int = 46, lines: int = 3) -> str:
    if not formula:
        return "–"
    wrapped = textwrap.wrap(formula, width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return "\n".join(wrapped)


def panel_title(p: Panel, letter: str) -> str:
    if p.name == "truth":
        return f"({letter}) {p.label}"
    if p.name == "gp":
        return f"({letter}) {p.label}" + (f"\nRMSE {p.rmse:.4f}" if p.rmse is not None else "")
    runs = f"median of {p.n_runs} SR run{'s' if p.n_runs != 1 else ''}"
    ops = f", {fmt(p.complexity, 0)} ops" if p.complexity is not None else ""
    return f"({letter}) {p.label}: RMSE {p.rmse:.4f}\n{runs}{ops}"


def plot_landscape(ls: Landscape, base: Path, subtitle: str = "") -> list[Path]:
    """The five-panel figure (plus a text panel) of ``ls`` to ``base.png`` / ``base.pdf``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13.5, 8.4), layout="constrained")
    order = [("truth", axes[0, 0], "a"), ("gp", axes[0, 1], "a"), ("sr_bo", axes[1, 0], "b"),
             ("sr_random", axes[1, 1], "b"), ("sr_bo_gp", axes[1, 2], "b")]
    base_vals = [ls.panels[k].z for k in ("truth", "gp") if ls.panels[k].ok]
    extra = [ls.panels[m].z for m in SR_METHODS if ls.panels[m].ok]
    norm, extend = color_norm(base_vals, extra)
    mappable = None
    d = len(ls.hyperparameters)
    for key, ax, letter in order:
        p = ls.panels[key]
        if not p.ok:
            missing_panel(ax, f"({letter}) {p.label}", p.missing or "no values")
            continue
        m = draw_field(ax, p.X, p.z, ls.hyperparameters, ls.log, ls.bounds, norm)
        mappable = mappable or m
        if p.points is not None and len(p.points):
            draw_points(ax, p.points, POINT_STYLE.get(key, {}), norm)
        title = panel_title(p, letter)
        ax.set_title(title, fontsize=10)
        if p.points_label:
            ax.text(0.02, 0.02, p.points_label, transform=ax.transAxes, fontsize=7.5, ha="left", va="bottom",
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.8))
    # text panel: what is shown and the formulas
    info = axes[0, 2]
    info.axis("off")
    lines = [f"{model_name(ls.model)} on {dataset_name(ls.dataset)}",
             f"protocol {ls.protocol}, sampling seed {ls.seed}, n = {ls.n}",
             f"experiment {ls.experiment}" if ls.experiment else "", ""]
    for m in SR_METHODS:
        p = ls.panels[m]
        lines.append(f"{method_label(m)}:")
        lines.append(short_formula(p.readable.text if p.readable is not None else p.formula) if p.formula
                     else "  (missing)")
        if p.readable is not None and p.readable.footnotes:
            lines.append(f"  ({len(p.readable.footnotes)} protection guard(s) act on part of the space)")
    info.text(0.0, 1.0, "\n".join(lines), ha="left", va="top", fontsize=8.5, transform=info.transAxes)
    if mappable is not None:  # the shared colour bar sits under the text
        cax = info.inset_axes([0.0, 0.06, 1.0, 0.07])
        fig.colorbar(mappable, cax=cax, orientation="horizontal", extend=extend,
                     label="cost (1 − accuracy)" if ls.model != "synthetic" else "cost")
    elif d == 1:
        info.text(0.0, 0.1, f"shared cost axis: [{norm.vmin:.3g}, {norm.vmax:.3g}]", fontsize=8.5,
                  transform=info.transAxes)
    fig.suptitle(f"Loss landscapes — {model_name(ls.model)}, {dataset_name(ls.dataset)} "
                 f"(n = {ls.n}, seed {ls.seed})" + (f"\n{subtitle}" if subtitle else ""), fontsize=12)
    return save_figure(fig, base)


# -- builder -------------------------------------------------------------------------------
def _choices(values: pd.Series, want: str | int | None, default: int | None) -> list[int]:
    present = sorted({int(v) for v in pd.to_numeric(values, errors="coerce").dropna()})
    if want == "all":
        return present
    if want is None:
        return [default] if default is not None else []
    return [int(want)]


def summary_rows(ls: Landscape, figure: str) -> list[dict[str, Any]]:
    rows = []
    for p in ls.panels.values():
        rows.append({
            "figure": figure, "model": ls.model, "dataset": ls.dataset, "protocol": ls.protocol,
            "sampling_seed": ls.seed, "n_samples": ls.n, "panel": p.name, "label": p.label,
            "status": "ok" if p.ok else "missing", "rmse": p.rmse, "rmse_recomputed": p.rmse_recomputed,
            "n_runs": p.n_runs, "sr_seed": p.sr_seed, "complexity": p.complexity,
            "n_points": 0 if p.points is None else len(p.points), "formula": p.formula or "",
            "missing": p.missing or "; ".join(p.notes),
        })
    return rows


def _shown(p: Panel) -> str:
    """The formula as displayed (guards that never act on the space left out)."""
    return p.readable.text if p.readable is not None else (p.formula or "")


def summary_markdown(entries: list[tuple[Landscape, str]], title: str, subtitle: str) -> str:
    lines = [f"# {title}", ""]
    if subtitle:
        lines += [subtitle, ""]
    lines += ["RMSE: the record's test RMSE (SR: median-RMSE run) and the RMSE of what is drawn against the ground "
              "truth on the test grid (SR formulas are stored rounded to 3 decimals, so the two may differ a little).",
              ""]
    for ls, fig in entries:
        lines += [f"## {markdown(model_name(ls.model))} / {markdown(dataset_name(ls.dataset))}, seed {ls.seed}, "
                  f"n = {ls.n}", "",
                  f"Figure: `{fig}`", "",
                  f"- test set: `{ls.test.path}`" if ls.test else "- test set: missing",
                  f"- BO run: `{ls.bo_run_path}`" if ls.bo_run_path else "- BO run: missing", ""]
        rows = [[p.label, "ok" if p.ok else "missing", fmt(p.rmse, 4), fmt(p.rmse_recomputed, 4),
                 str(p.n_runs or ""), md_code(_shown(p)) if p.formula else "", markdown(p.points_label),
                 markdown("; ".join(([p.missing] if p.missing else p.notes)
                           + (p.readable.footnotes if p.readable is not None else [])))]
                for p in ls.panels.values()]
        lines += [markdown_table(["Panel", "Status", "RMSE (record)", "RMSE (drawn)", "Runs", "Formula",
                                  "Training points", "Notes"], rows), ""]
        if ls.notes:
            lines += [f"- {markdown(n)}" for n in ls.notes] + [""]
    return "\n".join(lines)


def build(store: Path, out: Path, cache: Path, experiment: str = DEFAULT_EXPERIMENT, seed: str | int | None = None,
          n: str | int | None = None, parsimony: float | str | None = PRESET, resolution: int = FINE_GRID,
          subtitle: str = "", include_timed_out: bool = False) -> Report:
    """Landscape figures of ``experiment`` into ``<out>/landscapes/<protocol>/``; never raises on missing data.

    ``parsimony``: ``"preset"`` = the preset's single value, ``None`` = any."""
    rep = Report("landscapes")
    if parsimony == PRESET:
        parsimony = the_one(view_setting(experiment)["parsimony"], "parsimony", experiment)
    all_df, ok = load_ok(store, experiment, include_timed_out)
    if len(all_df) == 0:
        rep.missing.append(f"no records for experiment {experiment!r} in {store} (landscapes not built)")
        return rep
    if len(ok) == 0:
        rep.missing.append(f"no ok records in experiment {experiment!r}")
        return rep
    if not cache.is_dir():
        rep.notes.append(f"cache {cache} does not exist: ground truth, GP and training points will be missing")
    set_style()
    for protocol in sorted(ok["protocol"].unique()):
        op = ok[ok["protocol"] == protocol]
        d = out / "landscapes" / protocol
        rows, entries = [], []
        for model in order_keys(op["model"].unique(), MODEL_ORDER):
            om = op[op["model"] == model]
            for dataset in order_keys(om["dataset"].unique(), DATASET_ORDER):
                cell = om[om["dataset"] == dataset]
                seed0, _ = cell_defaults(cell)
                for s in _choices(cell["sampling_seed"], seed, seed0):
                    cs = cell[pd.to_numeric(cell["sampling_seed"], errors="coerce") == s]
                    if len(cs) == 0:
                        rep.missing.append(f"[{protocol}] {model} / {dataset}: no records at sampling seed {s}")
                        continue
                    _, n0 = cell_defaults(cs)
                    for nn in _choices(cs["n_samples"], n, n0):
                        where = f"[{protocol}] {model} / {dataset}, seed {s}, n={nn}"
                        if not (pd.to_numeric(cs["n_samples"], errors="coerce") == nn).any():
                            rep.missing.append(f"{where}: no records")
                            continue
                        ls = landscape_data(cell, cache, model, dataset, protocol, s, nn, parsimony, resolution,
                                            experiment)
                        if len(ls.hyperparameters) not in (1, 2):
                            rep.missing.append(f"{where}: {len(ls.hyperparameters)} hyperparameters "
                                               f"({', '.join(ls.hyperparameters)}); a landscape needs 1 or 2")
                            continue
                        paths = plot_landscape(ls, d / ls.stem, subtitle)
                        rep.add(paths)
                        rows += summary_rows(ls, paths[0].name)
                        entries.append((ls, paths[0].name))
                        rep.missing += [f"{where}: {m}" for m in ls.missing]
        if entries:
            title = f"Loss landscapes (experiment {experiment}, protocol {protocol})"
            rep.add(write_csv(d / "landscapes.csv", pd.DataFrame(rows)),
                    write_text(d / "landscapes.md", summary_markdown(entries, title, subtitle)))
            n_ok = sum(1 for r in rows if r["status"] == "ok")
            rep.notes.append(f"[{protocol}] {len(entries)} figure(s), {n_ok} of {len(rows)} panels drawn")
    return rep


def main(argv: list[str] | None = None) -> int:
    p = make_parser("analysis.landscapes", "Loss landscapes: ground truth, GP and the three SR formulas (Fig. 3).",
                    DEFAULT_EXPERIMENT)
    add_cache_arg(p)
    p.add_argument("--seed", default=None, help="sampling seed, or 'all' (default: the smallest of each cell)")
    p.add_argument("--n", default=None, help="sample size n, or 'all' (default: the largest of each cell)")
    p.add_argument("--parsimony", type=float, default=None,
                   help="SR parsimony of the records used (default: the preset's; 0 = any)")
    p.add_argument("--resolution", type=int, default=FINE_GRID,
                   help=f"points per axis for the GP and SR panels (default {FINE_GRID}; 0 = the test grid)")
    args = p.parse_args(argv)
    for opt in ("seed", "n"):
        v = getattr(args, opt)
        if v is not None and v != "all":
            try:
                setattr(args, opt, int(v))
            except ValueError:
                p.error(f"argument --{opt}: expected an integer or 'all', got {v!r}")
    if args.resolution < 0:
        p.error("argument --resolution: must be >= 0")
    store = check_store(args.store)
    experiment = ViewRef(args.experiment or DEFAULT_EXPERIMENT, args.overrides)
    check_experiment(store, experiment, explicit=args.experiment is not None)
    parsimony = PRESET if args.parsimony is None else (args.parsimony or None)
    rep = build(store, args.out, args.cache, experiment, args.seed, args.n, parsimony, args.resolution,
                include_timed_out=args.include_timed_out)
    print(rep.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.landscapes"))
