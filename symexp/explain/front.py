"""A Pareto front of formulas (accuracy vs. complexity), and how one formula is chosen on it.

The front keeps the candidates no other candidate beats on both complexity and RMSE
(:func:`pareto_front`), one per complexity, sorted from simple to complex.

Choosing (:func:`accuracy_choice`, the default of ``symexp explain``): the simplest formula on the
front whose R^2 against the surrogate is within ``R2_TOLERANCE`` (0.005) of the best formula's.
The paper's elbow rule (Appendix A, :func:`elbow_index`: walking from the simplest formula, stop
before a step that adds at least two operations while reducing the RMSE by less than 10 %) was
made for a sparse gplearn parsimony sweep; on operon's dense fronts each step is small, and it
stopped at a constant-like formula with R^2 0.34 where an 11-operation formula reached 0.997
(bench/bench_explain.py). Its position is still reported.

The tolerance was measured on the fronts of 11 benchmark runs (bench_explain, six problems plus
five more random searches of the ``lr_depth`` problem): RMSE of the chosen formula against the
truth / the truth's std, mean 0.071 at 9.5 operations for a tolerance of 0.01, 0.056 at 11.5 for
0.005, 0.056 at 14.4 for 0.003, 0.067 at 34 for 0 (the most accurate formula fits the surrogate's
own errors). At 0.01, the ``lr_depth`` runs took ``-0.15*log(depth)`` for ``0.5*exp(-depth/3)``
(RMSE 0.087 to 0.099); at 0.005 they keep the exponential (0.025 to 0.087).

Candidate generation for the experiments' engine benchmark (``bench/bench_engines.py``,
raw units, formulas scored as text) lives here too: :func:`gplearn_sweep`, :func:`operon_front`.
``symexp explain`` itself generates candidates in :mod:`symexp.explain.search`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symexp.symbolic.elbow import elbow_point
from symexp.symbolic import SRSettings, formula_predict, make_regressor, rmse


@dataclass
class Candidate:
    """One formula: where it came from and how good and simple it is."""

    engine: str
    seed: int
    parsimony: float | None
    formula: str
    latex: str
    complexity: int
    rmse: float              # printed formula vs surrogate on the scoring grid
    train_rmse: float        # printed formula vs the SR training labels
    program: str
    timed_out: bool = False
    fit_seconds: float = 0.0
    id: int = -1
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("id", "engine", "seed", "parsimony", "formula", "latex", "complexity",
                                              "rmse", "train_rmse", "program", "timed_out", "fit_seconds")}
        for k in ("rmse", "train_rmse"):
            if not math.isfinite(out[k]):
                out[k] = None
        out.update(self.extra)
        return out


def _score(formula: str, names: Sequence[str], X: np.ndarray, y: np.ndarray) -> float:
    pred = formula_predict(formula, names, X)
    if not np.all(np.isfinite(pred)):
        return math.inf
    return rmse(y, pred)


Progress = Callable[[str], None]


def gplearn_sweep(X: np.ndarray, y: np.ndarray, names: Sequence[str], log_features: Sequence[bool],
                  settings: SRSettings, parsimonies: Sequence[float], seeds: Sequence[int],
                  X_grid: np.ndarray, y_grid: np.ndarray, step: Progress | None = None) -> list[Candidate]:
    """One gplearn fit per (parsimony, seed); high parsimony first."""
    out = []
    for p in sorted(set(float(v) for v in parsimonies), reverse=True):
        for seed in seeds:
            if step:
                step(f"gplearn p={p:g} seed={seed}")
            s = dataclasses.replace(settings, engine="gplearn", parsimony_coefficient=p)
            est = make_regressor(s, int(seed), list(names), list(log_features)).fit(X, y, X_eval=X_grid)
            out.append(Candidate(
                engine="gplearn", seed=int(seed), parsimony=p, formula=est.formula_, latex=est.latex_,
                complexity=int(est.complexity_), rmse=_score(est.formula_, names, X_grid, y_grid),
                train_rmse=_score(est.formula_, names, X, y), program=est.program_, timed_out=bool(est.timed_out_),
                fit_seconds=float(est.fit_seconds_)))
    return out


def operon_front(X: np.ndarray, y: np.ndarray, names: Sequence[str], log_features: Sequence[bool],
                 settings: SRSettings, seeds: Sequence[int], X_grid: np.ndarray, y_grid: np.ndarray,
                 step: Progress | None = None) -> list[Candidate]:
    """Every member of operon's Pareto front, for each seed."""
    out = []
    for seed in seeds:
        if step:
            step(f"operon seed={seed}")
        s = dataclasses.replace(settings, engine="operon")
        t0 = time.perf_counter()
        est = make_regressor(s, int(seed), list(names), list(log_features)).fit(X, y, X_eval=X_grid)
        members = est.pareto_front_
        seconds = time.perf_counter() - t0
        for m in members:
            out.append(Candidate(
                engine="operon", seed=int(seed), parsimony=None, formula=m.formula, latex=m.latex,
                complexity=int(m.complexity), rmse=_score(m.formula, names, X_grid, y_grid),
                train_rmse=_score(m.formula, names, X, y), program=m.program, timed_out=bool(est.timed_out_),
                fit_seconds=seconds, extra={"operon_length": m.length}))
    return out


def dedupe(candidates: Sequence[Any]) -> list[Any]:
    """Drop repeated formulas (same ``.formula`` text), keeping the first; number the rest 0, 1, ...
    (``.id``). Works for :class:`Candidate` and :class:`symexp.explain.search.Formula` alike."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.formula in seen:
            continue
        seen.add(c.formula)
        out.append(c)
    for i, c in enumerate(out):
        c.id = i
    return out


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Non-dominated candidates in (complexity, rmse), simplest first; non-finite RMSEs are left out."""
    ok = sorted((c for c in candidates if math.isfinite(c.rmse)), key=lambda c: (c.complexity, c.rmse, c.id))
    front: list[Candidate] = []
    for c in ok:
        if not front or c.rmse < front[-1].rmse:
            if front and front[-1].complexity == c.complexity:
                continue  # same complexity, worse: dominated (sorted by rmse within complexity)
            front.append(c)
    return front


R2_TOLERANCE = 0.005


def accuracy_choice(r2: Sequence[float | None], tolerance: float = R2_TOLERANCE) -> int:
    """Position of the simplest front member whose R^2 (``r2``, in front order, simple first) is
    within ``tolerance`` of the best; undefined values never qualify."""
    values = [-math.inf if v is None or not math.isfinite(v) else float(v) for v in r2]
    if not values:
        raise ValueError("empty front")
    best = max(values)
    return next(i for i, v in enumerate(values) if v >= best - tolerance)


def elbow_index(front: Sequence[Candidate]) -> int:
    """Position in ``front`` chosen by the elbow rule walked from the simplest formula."""
    if not front:
        raise ValueError("empty front")
    pseudo_parsimony = [-float(i) for i in range(len(front))]  # simplest = highest "parsimony"
    return elbow_point(pseudo_parsimony, [c.rmse for c in front], [c.complexity for c in front])
