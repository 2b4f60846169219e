"""Explain your own HPO run: a formula of how the hyperparameters drive the cost.

``explain(path)`` reads a SMAC3 run directory, an Optuna study or a CSV (:mod:`.readers`), fits
a GP surrogate on the run's evaluations (SMAC's GP, :mod:`.surrogate`), ranks the hyperparameters
by fANOVA on the surrogate, and fits symbolic regression on random configurations of the top-k
numerical hyperparameters labelled by the surrogate (the paper's BO-GP idea, Section 4.1.1),
with the other hyperparameters integrated out by partial dependence (Section 4.1.3). The result
is a Pareto front of formulas (:mod:`.front`) from a gplearn parsimony sweep and/or operon, with a
default formula chosen by the paper's elbow rule; :mod:`.report` writes a Markdown/HTML report,
plots and a JSON summary.

    from symexp.explain import explain
    result = explain("smac3_output/run/0", engine="operon", out_dir="explanation")
    print(result.chosen.formula)

Categorical hyperparameters enter the surrogate (SMAC's Hamming kernel on the choice index) and
the importances, but never a formula: they are integrated out, and asking for one in the formula
is refused with a message.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError, unknown_choice
from symexp.explain.front import Candidate, dedupe, elbow_index, gplearn_sweep, operon_front, pareto_front
from symexp.explain.readers import RunData, check_run, read_run
from symexp.explain.surrogate import GPSurrogate, cross_validated_rmse
from symexp.seeding import derive_seed
from symexp.space import SearchSpace
from symexp.symbolic import SRSettings

__all__ = ["DEFAULT_PARSIMONY", "ENGINES", "Explanation", "RunData", "explain", "explain_run", "read_run"]

#: Parsimony coefficients of the gplearn sweep (a subset of the paper's Fig. 5 values).
DEFAULT_PARSIMONY: tuple[float, ...] = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05)
#: The paper's function set (Appendix D).
PAPER_FUNCTIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs")
ENGINES: tuple[str, ...] = ("gplearn", "operon", "both")
SUMMARY_VERSION = 1
MAX_IMPORTANCE_GRID = 100_000


@dataclass
class Explanation:
    """Everything ``explain`` computed; :meth:`summary` is the JSON form."""

    run: RunData
    surrogate: GPSurrogate
    surrogate_cv_rmse: float | None
    importance: dict[str, float]
    importance_method: str
    explained: list[str]
    integrated_out: list[str]
    settings: SRSettings
    engine: str
    parsimony: tuple[float, ...]
    sr_seeds: tuple[int, ...]
    seed: int
    n_background: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_grid: np.ndarray
    y_grid: np.ndarray
    candidates: list[Candidate]
    front: list[Candidate]
    elbow: int
    chosen_index: int
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def chosen(self) -> Candidate:
        return self.front[self.chosen_index]

    @property
    def explained_space(self) -> SearchSpace:
        return self.run.space.subspace(self.explained)

    def select(self, index: int) -> Explanation:
        """The same explanation with front member ``index`` as the chosen formula."""
        check_select(index, len(self.front))
        return dataclasses.replace(self, chosen_index=int(index))

    def surrogate_pd(self, X_sub: np.ndarray) -> np.ndarray:
        """The surrogate at configurations of the explained hyperparameters (others integrated out)."""
        return label(self.run, self.surrogate, self.explained, X_sub, self.n_background, self.seed)

    def summary(self) -> dict[str, Any]:
        """The JSON summary (schema in :mod:`symexp.explain.report`)."""
        run = self.run
        best = int(np.argmin(run.y))
        space = []
        for hp in run.space:
            entry: dict[str, Any] = {"name": hp.name}
            if hp.name in run.original_names:
                entry["original_name"] = run.original_names[hp.name]
            if hp.is_numerical:
                entry.update(type="int" if hp.integer else "float", lower=hp.lower, upper=hp.upper, log=hp.log)
            else:
                entry.update(type="categorical", choices=list(hp.choices))
            space.append(entry)
        chosen = self.chosen
        return {
            "symexp_explain": SUMMARY_VERSION,
            "source": dict(run.source, n_evaluations=run.n),
            "space": space,
            "notes": list(self.notes),
            "surrogate": dict(self.surrogate.describe(), cv_rmse=self.surrogate_cv_rmse,
                              cost_std=float(np.std(run.y))),
            "importance": {"method": self.importance_method,
                           "values": {k: float(v) for k, v in sorted(self.importance.items(), key=lambda kv: -kv[1])}},
            "explained": list(self.explained),
            "integrated_out": list(self.integrated_out),
            "sr": {"engine": self.engine, "n_samples": int(len(self.y_train)), "seeds": list(self.sr_seeds),
                   "parsimony": list(self.parsimony) if self.engine != "operon" else None,
                   "grid_points": int(len(self.y_grid)), "n_background": self.n_background, "seed": self.seed,
                   "settings": self.settings.to_dict()},
            "front": [dict(c.to_dict(), position=i) for i, c in enumerate(self.front)],
            "candidates": [c.to_dict() for c in self.candidates],
            "elbow": int(self.elbow),
            "chosen": dict(chosen.to_dict(), position=int(self.chosen_index),
                           selected_by="elbow" if self.chosen_index == self.elbow else "user"),
            "best_observed": {"config": run.describe_config(run.X[best]), "cost": float(run.y[best])},
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "files": dict(self.files),
        }


# ----------------------------------------------------------------------------------------------
# steps
# ----------------------------------------------------------------------------------------------

def check_select(index: Any, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= int(index) < n:
        raise SymexpError(f"--select {index!r} is not a front position; the front has {n} formulas: 0..{n - 1}")
    return int(index)


def importance_of(f, space: SearchSpace, seed: int) -> tuple[dict[str, float], str]:
    """fANOVA main-effect shares of ``f`` on a full grid when it fits, else estimated by
    partial dependence (the main effect of ``x_i`` is the PD of ``x_i`` minus the mean)."""
    from symexp.importance import fanova_importance
    from symexp.pdp import partial_dependence

    d = space.dim
    if d == 1:
        return {space.names[0]: 1.0}, "single hyperparameter"
    p = min(10, int(math.floor(MAX_IMPORTANCE_GRID ** (1.0 / d) + 1e-9)))
    if p >= 3:
        imp = fanova_importance(f, space, points_per_dim=p)
        return {str(k): float(v) for k, v in imp.items()}, f"fANOVA main effects on a {p}^{d} grid of the surrogate mean"
    rng = np.random.default_rng(derive_seed("explain-importance", seed))
    total = float(np.var(f(space.sample(2000, rng))))
    out = {}
    for name in space.names:
        _, pd_values = partial_dependence(f, space, [name], grid_points=10, n_background=100,
                                          seed=derive_seed("explain-importance", seed, name))
        out[name] = float(np.var(pd_values) / total) if total > 0 else 0.0
    return out, "main effects estimated by partial dependence (10 points x 100 background samples)"


def label(run: RunData, surrogate: GPSurrogate, explained: Sequence[str], X_sub: np.ndarray, n_background: int,
          seed: int) -> np.ndarray:
    """Surrogate mean at configurations of ``explained``; the other hyperparameters integrated out
    by partial dependence over ``n_background`` uniform samples (the same for every point)."""
    from symexp.pdp import partial_dependence

    _, values = partial_dependence(surrogate.mean, run.numeric_space(), list(explained), grid=np.asarray(X_sub, float),
                                   n_background=n_background, seed=derive_seed("explain-pd", seed))
    return values


def requested_features(run: RunData, hyperparameters: Sequence[str] | str | None) -> list[str] | None:
    """The formula names of the hyperparameters the user asked for (checked), or None."""
    if hyperparameters is None:
        return None
    if isinstance(hyperparameters, str):
        hyperparameters = [h for h in hyperparameters.split(",") if h.strip()]
    names = [run.resolve(str(h).strip()) for h in hyperparameters]
    if not names:
        raise SymexpError("--hyperparameters is empty")
    if len(set(names)) != len(names):
        raise SymexpError(f"duplicate hyperparameters in {list(hyperparameters)}")
    bad = [n for n in names if n in set(run.categorical)]
    if bad:
        raise SymexpError(
            f"categorical hyperparameter(s) {', '.join(bad)} cannot be in a formula (a formula needs numbers); "
            f"they are modelled by the surrogate and integrated out. Choose from the numerical ones: "
            f"{', '.join(run.numerical) or 'none'}")
    return names


def choose_features(run: RunData, importance: dict[str, float], requested: list[str] | None,
                    top_k: int, notes: list[str]) -> list[str]:
    cats = set(run.categorical)
    if requested is not None:
        return list(requested)
    numerical = [n for n in sorted(importance, key=lambda n: -importance[n]) if n not in cats]
    if not numerical:
        raise SymexpError("the run has no numerical hyperparameters; a formula needs at least one")
    if top_k > len(numerical):
        notes.append(f"top-k {top_k} > {len(numerical)} numerical hyperparameter(s): explaining all of them")
    chosen = numerical[:top_k]
    skipped = [n for n in sorted(importance, key=lambda n: -importance[n]) if n in cats
               and importance[n] >= min(importance[c] for c in chosen)]
    if skipped:
        notes.append(f"categorical hyperparameter(s) {', '.join(skipped)} rank among the most important but cannot "
                     f"be in a formula; they are integrated out")
    return chosen


def _settings(settings: SRSettings | None, population_size: int | None, generations: int | None,
              function_set: Sequence[str] | None, time_limit_s: float | None | str) -> SRSettings:
    base = settings if settings is not None else SRSettings(
        population_size=1000, generations=20, function_set=PAPER_FUNCTIONS, exp_cap=1e5, time_limit_s=900.0,
        parsimony_coefficient=DEFAULT_PARSIMONY[0])
    changes: dict[str, Any] = {}
    if population_size is not None:
        changes["population_size"] = population_size
    if generations is not None:
        changes["generations"] = generations
    if function_set is not None:
        changes["function_set"] = tuple(function_set)
    if time_limit_s != "default":
        changes["time_limit_s"] = time_limit_s
    return dataclasses.replace(base, **changes) if changes else base


class _Steps:
    """A tqdm progress bar on stderr over the long steps (off when ``enabled`` is False)."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=sys.stderr, disable=not enabled, unit="step", dynamic_ncols=True,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")
        self.started = False

    def __call__(self, what: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_description_str(f"symexp explain: {what}")

    def close(self) -> None:
        if self.started:
            self.bar.update(1)
        self.bar.close()


# ----------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------

def explain(source: str | Path | RunData, *, kind: str | None = None, study: str | None = None,
            space_file: str | Path | None = None, cost_column: str = "cost", objective: int | None = None,
            drop_nonfinite: bool = False, out_dir: str | Path | None = None, report_format: str = "md",
            **options: Any) -> Explanation:
    """Read a run (see :func:`read_run`), explain it (:func:`explain_run`), and write the report
    to ``out_dir`` when given (``report_format``: ``md`` or ``html``)."""
    if report_format not in ("md", "html"):
        raise unknown_choice("report format", report_format, ("md", "html"))
    t0 = time.perf_counter()
    run = source if isinstance(source, RunData) else read_run(
        source, kind, study=study, space_file=space_file, cost_column=cost_column, objective=objective,
        drop_nonfinite=drop_nonfinite)
    read_s = time.perf_counter() - t0
    result = explain_run(run, **options)
    result.timings = {"read": read_s, **result.timings}
    if out_dir is not None:
        from symexp.explain.report import write_report

        write_report(result, out_dir, report_format)
    return result


def explain_run(run: RunData, *, hyperparameters: Sequence[str] | str | None = None, top_k: int = 2,
                engine: str = "gplearn", parsimony: Sequence[float] = DEFAULT_PARSIMONY,
                sr_seeds: Sequence[int] = (0,), settings: SRSettings | None = None,
                population_size: int | None = None, generations: int | None = None,
                function_set: Sequence[str] | None = None, time_limit_s: float | None | str = "default",
                n_samples: int = 400, grid_points: int = 10, n_background: int = 200, seed: int = 0,
                select: int | None = None, cv_folds: int = 5, min_evaluations: int | None = None,
                progress: bool = True) -> Explanation:
    """Explain a run that is already read; see the module docstring for the steps.

    Parameters
    ----------
    hyperparameters : names for the formula (default: the ``top_k`` most important numerical ones)
    engine : ``gplearn`` (parsimony sweep), ``operon`` (its Pareto front) or ``both``
    parsimony : coefficients of the gplearn sweep (also what operon's single-formula choice would use)
    sr_seeds : SR seeds (each seed: one sweep / one operon run)
    settings : base :class:`SRSettings` (default: population 1000, 20 generations, the paper's
        function set, exp cap 1e5, 900 s per fit); ``population_size``, ``generations``,
        ``function_set``, ``time_limit_s`` override it
    n_samples : random configurations labelled by the surrogate for SR (the paper's 400)
    grid_points : points per explained hyperparameter of the scoring grid (cell centres)
    n_background : samples of the other hyperparameters averaged over by partial dependence
    seed : seed of the surrogate, the random configurations and the PD background
    select : front position of the formula to report (default: the elbow rule's)
    cv_folds : folds of the surrogate's cross-validation (0: skip)
    """
    if engine not in ENGINES:
        raise unknown_choice("SR engine", engine, ENGINES)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 10:
        raise SymexpError(f"--samples must be an integer >= 10, got {n_samples!r}")
    if isinstance(grid_points, bool) or not isinstance(grid_points, int | np.integer) or grid_points < 2:
        raise SymexpError(f"grid_points must be an integer >= 2, got {grid_points!r}")
    if isinstance(n_background, bool) or not isinstance(n_background, int | np.integer) or n_background < 1:
        raise SymexpError(f"n_background must be a positive integer, got {n_background!r}")
    seeds = tuple(int(s) for s in sr_seeds)
    if not seeds:
        raise SymexpError("sr_seeds is empty")
    pars = tuple(float(p) for p in parsimony)
    if engine != "operon" and not pars:
        raise SymexpError("--parsimony is empty")
    base = _settings(settings, population_size, generations, function_set, time_limit_s)
    for p in pars:
        dataclasses.replace(base, parsimony_coefficient=p)  # validates each value (> 0)
    if engine in ("operon", "both"):
        from symexp.symbolic.operon import allowed_symbols, require_operon

        require_operon()
        allowed_symbols(base.function_set)
    if hyperparameters is None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1):
        raise SymexpError(f"--top-k must be a positive integer, got {top_k!r}")
    requested = requested_features(run, hyperparameters)
    if select is not None and (isinstance(select, bool) or not isinstance(select, int | np.integer) or select < 0):
        raise SymexpError(f"--select must be a front position (an integer >= 0), got {select!r}")
    check_run(run, min_evaluations)

    n_fits = (len(pars) * len(seeds) if engine != "operon" else 0) + (len(seeds) if engine != "gplearn" else 0)
    steps = _Steps(4 + n_fits, progress)
    timings: dict[str, float] = {}
    notes = list(run.notes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            steps("GP surrogate")
            surrogate = GPSurrogate(run.space, seed=seed).fit(run.X, run.y)
            cv = None
            if cv_folds and cv_folds >= 2:
                cv = cross_validated_rmse(run.space, run.X, run.y, seed=seed, folds=int(cv_folds))
            timings["surrogate"] = time.perf_counter() - t

            t = time.perf_counter()
            steps("importance")
            numeric = run.numeric_space()
            importance, method = importance_of(surrogate.mean, numeric, seed)
            timings["importance"] = time.perf_counter() - t
            if run.categorical:
                notes.append(f"categorical hyperparameter(s) {', '.join(run.categorical)}: modelled by the GP "
                             f"(Hamming kernel on the choice), never in the formula (integrated out)")

            explained = choose_features(run, importance, requested, top_k, notes)
            others = [n for n in run.space.names if n not in explained]
            if others:
                notes.append(f"{', '.join(others)} integrated out by partial dependence over {n_background} uniform "
                             f"background samples")

            t = time.perf_counter()
            steps("labels")
            from symexp.sampling import random_configurations

            sub = run.space.subspace(explained)
            X_train = random_configurations(sub, int(n_samples), derive_seed("explain-samples", seed))
            y_train = label(run, surrogate, explained, X_train, n_background, seed)
            X_grid = sub.test_grid(int(grid_points))
            y_grid = label(run, surrogate, explained, X_grid, n_background, seed)
            timings["labels"] = time.perf_counter() - t

            logs = [bool(hp.log) for hp in sub]
            candidates: list[Candidate] = []
            t = time.perf_counter()
            if engine in ("gplearn", "both"):
                candidates += gplearn_sweep(X_train, y_train, explained, logs, base, pars, seeds, X_grid, y_grid, steps)
            timings["sr_gplearn"] = time.perf_counter() - t
            t = time.perf_counter()
            if engine in ("operon", "both"):
                candidates += operon_front(X_train, y_train, explained, logs, base, seeds, X_grid, y_grid, steps)
            timings["sr_operon"] = time.perf_counter() - t
            steps("front")
    finally:
        steps.close()

    candidates = dedupe(candidates)
    front = pareto_front(candidates)
    if not front:
        raise SymexpError("symbolic regression found no formula that is finite on the scoring grid; try more "
                          "generations, another seed or a smaller function set")
    elbow = elbow_index(front)
    chosen = elbow if select is None else check_select(select, len(front))
    if any(c.timed_out for c in candidates):
        notes.append(f"{sum(c.timed_out for c in candidates)} SR fit(s) stopped at the time limit")
    return Explanation(
        run=run, surrogate=surrogate, surrogate_cv_rmse=cv, importance=importance, importance_method=method,
        explained=list(explained), integrated_out=others, settings=base, engine=engine, parsimony=pars,
        sr_seeds=seeds, seed=int(seed), n_background=int(n_background), X_train=X_train, y_train=y_train,
        X_grid=X_grid, y_grid=y_grid, candidates=candidates, front=front, elbow=elbow, chosen_index=chosen,
        notes=notes, timings=timings)
