"""The steps of ``symexp explain`` (see :mod:`symexp.explain`) and their result, :class:`Explanation`."""

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
from symexp.explain.formula import FUNCTION_MEANINGS, UNITS, Variables, functions_used, guard_notes
from symexp.explain.front import R2_TOLERANCE, accuracy_choice, dedupe, knee_index, pareto_front
from symexp.explain.heldout import heldout_metrics, heldout_predictions
from symexp.explain.quality import Reference, fit_stats, score, warnings_for
from symexp.explain.readers import RunData, check_run, read_run
from symexp.explain.defaults import DEFAULTS, ENGINES
from symexp.explain.search import Formula, drop_note, search
from symexp.explain.surrogate import GPSurrogate, cross_validated_models
from symexp.seeding import derive_seed
from symexp.benchmarks.space import Numerical, SearchSpace
from symexp.symbolic import SRSettings

SUMMARY_VERSION = 3

#: How the default formula is chosen, by rule name (``summary["choice_rule"]``).
RULES = {
    "knee": "the knee of the front: the paper's elbow rule (Appendix A) along the front on held-out RMSE: from the "
            "simplest formula, stop before a step that adds at least 2 operations for less than 10 % less "
            "held-out error",
    "r2_tolerance": f"simplest formula with R^2 vs surrogate within {R2_TOLERANCE} of the best on the front "
                    f"(no held-out error: --cv-folds 0)",
}
MAX_IMPORTANCE_GRID = 100_000


@dataclass
class Explanation:
    """Everything ``explain`` computed; :meth:`summary` is the JSON form."""

    run: RunData
    surrogate: GPSurrogate
    surrogate_cv: dict[str, Any] | None
    importance: dict[str, float]
    importance_method: str
    explained: list[str]
    integrated_out: list[str]
    variables: Variables
    settings: SRSettings
    engine: str
    parsimony: tuple[float, ...]
    sr_seeds: tuple[int, ...]
    seed: int
    n_background: int
    X_train: np.ndarray
    y_train: np.ndarray
    reference: Reference
    candidates: list[Formula]
    front: list[Formula]
    rule: int
    rule_name: str
    alternatives: dict[str, int]
    chosen_index: int
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def chosen(self) -> Formula:
        return self.front[self.chosen_index]

    @property
    def explained_space(self) -> SearchSpace:
        """The explained hyperparameters, numerical (a categorical as its choice index)."""
        return explained_numeric_space(self.run, self.explained)

    @property
    def warnings(self) -> list[str]:
        """Warnings about the chosen formula and the surrogate (:func:`quality.warnings_for`)."""
        owners = self.variables.owners
        free = {owners.get(s.name, s.name) for s in self.chosen.expression.free_symbols}
        cv_r2 = None if self.surrogate_cv is None else self.surrogate_cv["r2"]
        return warnings_for(self.chosen.metrics, free, self.explained, self.importance, cv_r2,
                            dict(self.run.original_names))

    def select(self, index: int) -> Explanation:
        """The same explanation with front member ``index`` as the chosen formula."""
        check_select(index, len(self.front))
        return dataclasses.replace(self, chosen_index=int(index))

    def predict(self, formula: Formula, X_sub: np.ndarray) -> np.ndarray:
        """``formula`` at raw configurations of the explained hyperparameters (m, k) -> (m,)."""
        return self.variables.predict(formula.expression, X_sub)

    def surrogate_pd(self, X_sub: np.ndarray) -> np.ndarray:
        """The surrogate at configurations of the explained hyperparameters (others integrated out)."""
        return label(self.run, self.surrogate, self.explained, X_sub, self.n_background, self.seed)

    def summary(self) -> dict[str, Any]:
        """The JSON summary (schema in :mod:`symexp.explain.report`)."""
        run = self.run
        best = run.best_index()
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
        variables = []
        for v in self.variables.describe():
            v["hyperparameter"] = run.display_name(v["name"])
            variables.append(v)
        fns = functions_used([c.expression for c in self.front])
        chosen = self.chosen
        y_fit = self.surrogate.mean(run.X)
        return {
            "symexp_explain": SUMMARY_VERSION,
            "source": dict(run.source, n_evaluations=run.n),
            "objective": {"name": run.objective, "direction": run.direction, "better": run.better,
                          "n_objectives": run.n_objectives, "index": run.source.get("objective")},
            "warnings": self.warnings,
            "space": space,
            "variables": variables,
            "units": "log10" if any(self.variables.log10) else "raw",
            "functions": {n: FUNCTION_MEANINGS[n] for n in fns},
            "notes": list(self.notes),
            "surrogate": dict(self.surrogate.describe(), cv=self.surrogate_cv, fit=fit_stats(y_fit, run.y),
                              objective_std=float(np.std(run.y))),
            "importance": {"method": self.importance_method,
                           "values": {k: float(v) for k, v in sorted(self.importance.items(), key=lambda kv: -kv[1])}},
            "explained": list(self.explained),
            "integrated_out": list(self.integrated_out),
            "sr": {"engine": self.engine, "n_samples": int(len(self.y_train)), "seeds": list(self.sr_seeds),
                   "parsimony": list(self.parsimony) if self.engine != "operon" else None,
                   "check_points": int(len(self.reference.y_check)), "n_background": self.n_background,
                   "seed": self.seed, "settings": dict(self.settings.to_dict(), engine=self.engine),
                   "simplify_operon": DEFAULTS.simplify_operon},
            "front": [dict(c.to_dict(), position=i) for i, c in enumerate(self.front)],
            "candidates": [c.to_dict() for c in self.candidates],
            "choice_rule": RULES[self.rule_name],
            "rule_name": self.rule_name,
            "rule": int(self.rule),
            "alternatives": {k: int(v) for k, v in self.alternatives.items()},
            "chosen": dict(chosen.to_dict(), position=int(self.chosen_index),
                           selected_by="rule" if self.chosen_index == self.rule else "user"),
            "best_observed": {"config": run.describe_config(run.X[best]), "value": float(run.y[best]),
                              "row": best},
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "files": dict(self.files),
        }


# ----------------------------------------------------------------------------------------------
# steps
# ----------------------------------------------------------------------------------------------

def explained_numeric_space(run: RunData, explained: Sequence[str]) -> SearchSpace:
    """``explained`` as a numerical space: a categorical as its choice index, an integer in
    ``[0, k - 1]`` (the formula sees it through indicators, :class:`Variables`)."""
    hps = []
    for name in explained:
        hp = run.space[name]
        hps.append(hp if hp.is_numerical else Numerical(name, 0, len(hp.choices) - 1, integer=True))
    return SearchSpace(tuple(hps))


def check_select(index: Any, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= int(index) < n:
        raise SymexpError(f"--select {index!r} is not a front position; the front has {n} formulas: 0..{n - 1}")
    return int(index)


def importance_of(f, space: SearchSpace, seed: int) -> tuple[dict[str, float], str]:
    """fANOVA main-effect shares of ``f`` on a full grid when it fits, else estimated by
    partial dependence (the main effect of ``x_i`` is the PD of ``x_i`` minus the mean)."""
    from symexp.sampling.importance import fanova_importance
    from symexp.sampling.pdp import partial_dependence

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
    from symexp.sampling.pdp import partial_dependence

    _, values = partial_dependence(surrogate.mean, run.numeric_space(), list(explained), grid=np.asarray(X_sub, float),
                                   n_background=n_background, seed=derive_seed("explain-pd", seed))
    return values


def box_axis(hp: Numerical, n: int) -> np.ndarray:
    """``n`` points from bound to bound (log-spaced for log hyperparameters; every integer when
    there are at most ``n`` of them)."""
    lo, hi = float(hp.lower), float(hp.upper)
    if hp.integer and hi - lo + 1 <= n:
        return np.arange(lo, hi + 1)
    pts = np.geomspace(lo, hi, n) if hp.log else np.linspace(lo, hi, n)
    return np.unique(np.rint(pts)) if hp.integer else pts


def box_grid(space: SearchSpace, max_points: int) -> np.ndarray:
    """A grid spanning the box of ``space`` (bounds included), about ``max_points`` points,
    shape (m, dim), first hyperparameter varying slowest."""
    per_dim = max(3, int(math.floor(max_points ** (1.0 / space.dim) + 1e-9)))
    axes = [box_axis(hp, per_dim) for hp in space]
    return np.array(np.meshgrid(*axes, indexing="ij")).reshape(space.dim, -1).T


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
    return names


def choose_features(run: RunData, importance: dict[str, float], requested: list[str] | None,
                    top_k: int, notes: list[str]) -> list[str]:
    if requested is not None:
        return list(requested)
    ranked = sorted(importance, key=lambda n: -importance[n])
    if top_k > len(ranked):
        notes.append(f"top-k {top_k} > {len(ranked)} hyperparameter(s): explaining all of them")
    return ranked[:top_k]


def sr_settings(settings: SRSettings | None = None, population_size: int | None = None,
                generations: int | None = None, function_set: Sequence[str] | None = None,
                time_limit_s: float | None | str = "default", max_length: int | None = None,
                local_iterations: int | None = None) -> SRSettings:
    """The base SR settings of an explanation (``DEFAULTS`` unless overridden)."""
    base = settings if settings is not None else SRSettings(
        population_size=DEFAULTS.population_size, generations=DEFAULTS.generations,
        function_set=DEFAULTS.function_set, exp_cap=1e5, time_limit_s=DEFAULTS.time_limit_s,
        max_length=DEFAULTS.max_length, local_iterations=DEFAULTS.local_iterations, simplify_timeout_s=10.0)
    changes: dict[str, Any] = {}
    if population_size is not None:
        changes["population_size"] = population_size
    if generations is not None:
        changes["generations"] = generations
    if function_set is not None:
        changes["function_set"] = tuple(function_set)
    if max_length is not None:
        changes["max_length"] = max_length
    if local_iterations is not None:
        changes["local_iterations"] = local_iterations
    if time_limit_s != "default":
        changes["time_limit_s"] = time_limit_s
    return dataclasses.replace(base, **changes) if changes else base


def n_fits(engine: str, n_seeds: int, n_parsimony: int) -> int:
    return (n_seeds if engine in ("operon", "both") else 0) + (n_seeds * n_parsimony if engine in ("gplearn", "both") else 0)


class Progress:
    """Step lines on stderr with the elapsed time: honest, no guessed ETA (SR fits vary a lot)."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.total, self.enabled, self.k = total, enabled, 0
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()

    def say(self, text: str) -> None:
        if self.enabled:
            print(f"symexp explain: {text}", file=self.stream, flush=True)

    def __call__(self, what: str) -> None:
        self.k += 1
        self.say(f"[{time.perf_counter() - self.t0:6.1f} s] step {self.k}/{self.total}: {what}")

    def done(self) -> None:
        self.say(f"[{time.perf_counter() - self.t0:6.1f} s] done")


# ----------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------

def explain(source: str | Path | RunData, *, kind: str | None = None, study: str | None = None,
            space_file: str | Path | None = None, cost_column: str = "cost", objective: int | None = None,
            drop_nonfinite: bool = False, ignore_columns: Sequence[str] | None = None, direction: str | None = None,
            budget: float | str | None = None, out_dir: str | Path | None = None, report_format: str = "md", force: bool = False,
            **options: Any) -> Explanation:
    """Read a run (see :func:`read_run`), explain it (:func:`explain_run`), and write the report
    to ``out_dir`` when given (``report_format``: ``md`` or ``html``). An existing, non-empty
    ``out_dir`` is refused before any work unless ``force``."""
    from symexp.explain.report import check_out_dir

    if report_format not in ("md", "html"):
        raise unknown_choice("report format", report_format, ("md", "html"))
    if out_dir is not None:
        check_out_dir(out_dir, force)
    t0 = time.perf_counter()
    run = source if isinstance(source, RunData) else read_run(
        source, kind, study=study, space_file=space_file, cost_column=cost_column, objective=objective,
        drop_nonfinite=drop_nonfinite, ignore_columns=ignore_columns, direction=direction, budget=budget)
    read_s = time.perf_counter() - t0
    result = explain_run(run, **options)
    result.timings = {"read": read_s, **result.timings}
    if out_dir is not None:
        from symexp.explain.report import write_report

        write_report(result, out_dir, report_format)
    return result


def _positive_int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SymexpError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def explain_run(run: RunData, *, hyperparameters: Sequence[str] | str | None = None, top_k: int = DEFAULTS.top_k,
                engine: str = DEFAULTS.engine, units: str = DEFAULTS.units,
                parsimony: Sequence[float] = DEFAULTS.parsimony, sr_seeds: Sequence[int] = DEFAULTS.sr_seeds,
                settings: SRSettings | None = None, population_size: int | None = None,
                generations: int | None = None, function_set: Sequence[str] | None = None,
                max_length: int | None = None, local_iterations: int | None = None,
                time_limit_s: float | None | str = "default",
                n_samples: int = DEFAULTS.n_samples, check_points: int = DEFAULTS.check_points,
                n_background: int = DEFAULTS.n_background, seed: int = 0, cv_folds: int = DEFAULTS.cv_folds,
                min_evaluations: int | None = None, progress: bool = True) -> Explanation:
    """Explain a run that is already read; see the module docstring for the steps.

    Parameters
    ----------
    hyperparameters : names for the formula (default: the ``top_k`` most important numerical ones)
    engine : ``operon`` (its Pareto front), ``gplearn`` (parsimony sweep) or ``both`` (one front)
    units : ``log10`` (log-scaled hyperparameters enter as log10(x)) or ``raw``
    parsimony : coefficients of the gplearn sweep (on the standardised target)
    sr_seeds : SR seeds (each seed: one operon run / one sweep)
    settings : base :class:`SRSettings` (default: ``DEFAULTS``); ``population_size``,
        ``generations``, ``function_set``, ``max_length``, ``local_iterations``, ``time_limit_s``
        override it
    n_samples : random configurations labelled by the surrogate for SR (the paper's 400)
    check_points : about this many points of the grid spanning the explained box, on which
        formulas are scored, guards decided and rounding checked
    n_background : samples of the other hyperparameters averaged over by partial dependence
    seed : seed of the surrogate, the random configurations and the PD background
    cv_folds : folds of the surrogate's cross-validation (0: skip)
    """
    if engine not in ENGINES:
        raise unknown_choice("SR engine", engine, ENGINES)
    if units not in UNITS:
        raise unknown_choice("units", units, UNITS)
    n_samples = _positive_int(n_samples, "--samples", 10)
    check_points = _positive_int(check_points, "check_points", 10)
    n_background = _positive_int(n_background, "--background", 1)
    cv_folds = _positive_int(cv_folds, "--cv-folds", 0)
    if cv_folds == 1:
        raise SymexpError("--cv-folds must be 0 (skip) or >= 2")
    seeds = tuple(int(s) for s in sr_seeds)
    if not seeds:
        raise SymexpError("sr_seeds is empty")
    pars = tuple(float(p) for p in parsimony)
    if engine != "operon" and not pars:
        raise SymexpError("--parsimony is empty")
    base = sr_settings(settings, population_size, generations, function_set, time_limit_s, max_length,
                       local_iterations)
    for p in pars:
        dataclasses.replace(base, parsimony_coefficient=p)  # validates each value (> 0)
    if engine in ("operon", "both"):
        from symexp.symbolic.operon import allowed_symbols, require_operon

        require_operon()
        allowed_symbols(base.function_set)
    if hyperparameters is None:
        top_k = _positive_int(top_k, "--top-k", 1)
    requested = requested_features(run, hyperparameters)
    check_run(run, min_evaluations)

    fits = n_fits(engine, len(seeds), len(pars))
    steps = Progress(5 + fits + (1 if cv_folds else 0), progress)
    limit = "no time limit" if base.time_limit_s is None else f"each stopped at {base.time_limit_s:g} s"
    steps.say(f"{run.n} evaluations, {run.space.dim} hyperparameter(s); {fits} SR fit(s) with {engine} ({limit})")
    timings: dict[str, float] = {}
    notes = list(run.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        steps("GP surrogate")
        surrogate = GPSurrogate(run.space, seed=seed).fit(run.X, run.y)
        cv = None
        fold_tests: list[np.ndarray] = []
        fold_models: list[GPSurrogate] = []
        if cv_folds:
            steps(f"surrogate cross-validation ({cv_folds} folds)")
            held_out, fold_tests, fold_models = cross_validated_models(run.space, run.X, run.y, seed=seed,
                                                                       folds=cv_folds)
            cv = dict(fit_stats(held_out, run.y), folds=int(min(cv_folds, run.n)))
        else:
            steps("surrogate cross-validation skipped")
            notes.append("surrogate not cross-validated (--cv-folds 0): its quality and the formulas' held-out "
                         "quality are unchecked")
        timings["surrogate"] = time.perf_counter() - t

        t = time.perf_counter()
        steps("importance")
        numeric = run.numeric_space()
        importance, method = importance_of(surrogate.mean, numeric, seed)
        timings["importance"] = time.perf_counter() - t
        explained = choose_features(run, importance, requested, top_k, notes)
        cats_out = [c for c in run.categorical if c not in explained]
        cats_in = [c for c in run.categorical if c in explained]
        if cats_out:
            notes.append(f"categorical hyperparameter(s) {', '.join(cats_out)}: modelled by the GP (Hamming kernel on "
                         f"the choice), not among the explained ones (integrated out)")
        if cats_in:
            notes.append("categorical hyperparameter(s) " + "; ".join(
                f"{run.display_name(c)} in the formula as 0/1 indicators of its choices but the first "
                f"({run.space[c].choices[0]}, the baseline)" for c in cats_in))
        others = [n for n in run.space.names if n not in explained]
        if others:
            notes.append(f"{', '.join(others)} integrated out by partial dependence over {n_background} uniform "
                         f"background samples")

        t = time.perf_counter()
        steps("surrogate labels")
        from symexp.sampling import random_configurations

        sub = explained_numeric_space(run, explained)
        variables = Variables.of(sub, units, {c: run.space[c].choices for c in explained if c in set(run.categorical)})
        X_train = random_configurations(sub, n_samples, derive_seed("explain-samples", seed))
        y_train = label(run, surrogate, explained, X_train, n_background, seed)
        X_check = box_grid(sub, check_points)
        y_check = label(run, surrogate, explained, X_check, n_background, seed)
        cols = [run.space.names.index(n) for n in explained]
        X_runs = run.X[:, cols]
        effect = surrogate.mean(run.X) - label(run, surrogate, explained, X_runs, n_background, seed) if others \
            else np.zeros(run.n)
        reference = Reference(variables, X_check, y_check, X_runs, run.y.copy(), effect)
        timings["labels"] = time.perf_counter() - t

        t = time.perf_counter()
        dropped: list[tuple[str, str]] = []
        candidates = search(X_train, y_train, X_check, variables, engine, base, seeds, pars, steps,
                            simplify_operon=DEFAULTS.simplify_operon, dropped=dropped)
        if drop_note(dropped):
            notes.append(drop_note(dropped))
        timings["sr"] = time.perf_counter() - t
        t = time.perf_counter()
        steps(f"scoring {len(candidates)} formulas")
        for c in candidates:
            c.metrics = score(c.expression, reference)
        candidates = dedupe(candidates)
        front = pareto_front(candidates)
        for c in front:
            c.guards = guard_notes(c.expression, variables, X_check)
        timings["scoring"] = time.perf_counter() - t
        if fold_models and front:
            t = time.perf_counter()
            steps(f"held-out quality of {len(front)} front formulas ({len(fold_models)} folds)")
            fold_labels = [label(run, m, explained, X_train, n_background, seed) for m in fold_models]
            U_train = variables.transform(X_train)
            for c in front:
                pred = heldout_predictions(c.expression, variables, U_train, fold_labels, fold_tests, X_runs)
                c.metrics["heldout"] = heldout_metrics(pred, run.y, len(fold_models))
            timings["heldout"] = time.perf_counter() - t
    steps.done()

    if not front:
        raise SymexpError("symbolic regression found no formula that is finite on the explained box; try more "
                          "generations, another seed or a smaller function set")
    alternatives = {"r2_tolerance": accuracy_choice([c.metrics["surrogate"]["r2"] for c in front])}
    if fold_models:
        alternatives["knee"] = knee_index([c.complexity for c in front],
                                          [c.metrics["heldout"]["rmse"] for c in front], float(np.std(run.y)))
    rule_name = "knee" if "knee" in alternatives else "r2_tolerance"
    rule = alternatives[rule_name]
    if any(c.timed_out for c in candidates):
        notes.append(f"{len({(c.engine, c.seed, c.parsimony) for c in candidates if c.timed_out})} SR fit(s) "
                     f"stopped at the time limit ({base.time_limit_s:g} s)")
    ints = [run.display_name(hp.name) for hp in sub if hp.integer and hp.name not in set(run.categorical)]
    if ints:
        notes.append(f"integer hyperparameter(s) {', '.join(ints)} are continuous in the formula; read it at whole "
                     f"numbers")
    if any(variables.log10):
        logs = [run.display_name(n) for n, flag in zip(explained, variables.log10) if flag]
        syms = [f"log10_{n} = log10({run.display_name(n)})" for n, flag in zip(explained, variables.log10) if flag]
        notes.append(f"log-scaled {', '.join(logs)} enter{'s' if len(logs) == 1 else ''} the formula only through "
                     f"{'its' if len(logs) == 1 else 'their'} base-10 logarithm: {', '.join(syms)} (--units raw for "
                     f"raw units)")
    return Explanation(
        run=run, surrogate=surrogate, surrogate_cv=cv, importance=importance, importance_method=method,
        explained=list(explained), integrated_out=others, variables=variables, settings=base, engine=engine,
        parsimony=pars, sr_seeds=seeds, seed=int(seed), n_background=int(n_background), X_train=X_train,
        y_train=y_train, reference=reference, candidates=candidates, front=front, rule=rule, rule_name=rule_name,
        alternatives=alternatives, chosen_index=rule,
        notes=notes, timings=timings)
