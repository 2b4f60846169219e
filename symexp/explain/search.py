"""The formula search of ``symexp explain``: SR engines on the standardised target, formulas
written back in the user's units (:mod:`symexp.explain.formula`).

Engines (``engine``):

* ``operon``: one multi-objective fit (NSGA-II on error and length) per SR seed; every member of
  its Pareto front is a candidate. Coefficients are tuned by Levenberg-Marquardt, so constants
  need not be found by evolution: this is what makes it fast and accurate on small landscapes.
* ``gplearn``: the paper's engine; one fit per (parsimony coefficient, SR seed), one candidate
  each (a parsimony sweep, paper Fig. 5).
* ``both``: the candidates of both on one front.

Every candidate is scored the same way afterwards (:mod:`symexp.explain.quality`) on its printed,
rounded formula in the user's units.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from symexp.explain.defaults import ENGINES
from symexp.errors import SymexpError
from symexp.explain.formula import (Variables, formula_text, latex, predict, round_adaptive, storable, to_tree,
                                    write_back)
from symexp.symbolic import SRSettings, convert_program, make_regressor

Progress = Callable[[str], None]


@dataclass
class Formula:
    """One candidate formula, in the user's units.

    ``complexity`` is ``sympy.count_ops`` of the printed formula (``log10(x)`` counts as one
    operation); ``metrics`` is filled by :func:`symexp.explain.quality.score`.
    """

    engine: str
    seed: int
    parsimony: float | None
    expression: sp.Expr
    complexity: int
    fit_seconds: float
    timed_out: bool
    program: str
    id: int = -1
    metrics: dict[str, Any] = field(default_factory=dict)
    guards: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def formula(self) -> str:
        return formula_text(self.expression)

    @property
    def latex(self) -> str:
        return latex(self.expression)

    @property
    def rmse(self) -> float:
        """RMSE against the surrogate on the check grid (what the front uses)."""
        v = self.metrics.get("surrogate", {}).get("rmse")
        return math.inf if v is None else float(v)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "engine": self.engine, "seed": self.seed, "parsimony": self.parsimony,
                "formula": self.formula, "latex": self.latex, "complexity": self.complexity,
                "tree": to_tree(self.expression), "guards": list(self.guards), "note": self.note,
                "program": self.program,
                "timed_out": self.timed_out, "fit_seconds": round(self.fit_seconds, 3), **self.metrics}


FAITHFUL_RMSE = 1e-4


def faithful(expr_z: sp.Expr, engine_values: np.ndarray, names: list[str], U_check: np.ndarray,
             fallback: Callable[[], sp.Expr]) -> tuple[sp.Expr, str | None]:
    """``expr_z`` if it reproduces the engine's own values on the check grid (RMSE <= 1e-4 on the
    standardised scale), else the unsimplified form from ``fallback()``: SymPy's simplification
    can move a square root or logarithm past an absolute value and leave a formula that is
    undefined where the program is not."""
    ok = np.isfinite(engine_values)
    pred = predict(expr_z, names, U_check)
    if np.all(np.isfinite(pred[ok])) and math.sqrt(float(np.mean((pred[ok] - engine_values[ok]) ** 2))) <= FAITHFUL_RMSE:
        return expr_z, None
    return fallback(), "kept unsimplified: SymPy's simplification changed the formula on the box"


def _finish(expr_z: sp.Expr, variables: Variables, mean: float, std: float, U_check: np.ndarray) -> tuple[sp.Expr, int]:
    """The candidate in the run's units, rounded, storable and finite on the box; raises
    :class:`Unusable` (with the reason) for one that is not."""
    try:
        expr = write_back(expr_z, variables, mean, std)
        expr = round_adaptive(expr, variables.formula_names, U_check, std)
        expr = storable(expr)
    except SymexpError as exc:
        raise Unusable(str(exc).replace("cannot store a formula with ", "")) from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, RecursionError) as exc:
        raise Unusable(f"{type(exc).__name__}") from None
    with np.errstate(all="ignore"):
        values = predict(expr, variables.formula_names, U_check)
    if not np.all(np.isfinite(values)):
        raise Unusable("NaN or infinite on the box")
    return expr, int(sp.count_ops(expr))


class Unusable(Exception):
    """A candidate that cannot be stored or is undefined on the box (dropped with a note)."""


def drop_note(dropped: list[tuple[str, str]]) -> str | None:
    """One note for the candidates :func:`search` dropped, by engine and reason (None if none)."""
    if not dropped:
        return None
    counts: dict[tuple[str, str], int] = {}
    for engine, why in dropped:
        counts[(engine, why)] = counts.get((engine, why), 0) + 1
    parts = [f"{n} {engine} ({why})" for (engine, why), n in sorted(counts.items())]
    return (f"{len(dropped)} candidate formula(s) dropped because they cannot be stored or are undefined on the box: "
            f"{'; '.join(parts)}; the front is made of the others")


def search(X: np.ndarray, y: np.ndarray, X_check: np.ndarray, variables: Variables, engine: str,
           settings: SRSettings, seeds: Sequence[int], parsimony: Sequence[float],
           step: Progress | None = None, simplify_operon: bool = False,
           dropped: list[tuple[str, str]] | None = None) -> list[Formula]:
    """Candidate formulas for ``y`` (n,) at configurations ``X`` (n, k) of ``variables``.

    ``X_check`` (m, k): points spanning the box (raw units); gplearn's guards are decided on
    ``X`` and these, and rounding is checked on them. ``settings`` is the base; ``engine``,
    ``parsimony_coefficient`` and ``n_decimals`` are set here, and operon's formulas are not
    passed through ``sympy.simplify`` unless ``simplify_operon``. SR sees the variables under
    their formula names (``log10_lr``). A candidate that cannot be stored (an ``ITE`` that cannot
    be rewritten, ``zoo``) or is not finite on the check grid is left out, and ``(engine,
    reason)`` appended to ``dropped`` when given: no candidate can end a run after the work.
    """
    names = variables.formula_names
    dropped = [] if dropped is None else dropped
    U, U_check = variables.transform(X), variables.transform(X_check)
    mean, std = float(np.mean(y)), float(np.std(y))
    if not std > 0:
        std = 1.0
    z = (np.asarray(y, dtype=float) - mean) / std
    no_logs = [False] * len(names)
    out: list[Formula] = []
    if engine in ("operon", "both"):
        for seed in seeds:
            if step:
                step(f"operon SR, seed {seed}")
            s = dataclasses.replace(settings, engine="operon", n_decimals=None)
            if not simplify_operon:
                s = dataclasses.replace(s, max_simplify_nodes=0)
            t0 = time.perf_counter()
            est = make_regressor(s, int(seed), names, no_logs).fit(U, z, X_eval=U_check)
            members = est.pareto_front_
            seconds = time.perf_counter() - t0
            for m in members:
                try:
                    expr_z, note = faithful(m.expression, est.predict_member(m.index, U_check), names, U_check,
                                            lambda m=m: m.conversion.exact)
                    expr, ops = _finish(expr_z, variables, mean, std, U_check)
                except Exception as exc:  # noqa: BLE001 - one bad candidate must not end the run
                    dropped.append(("operon", str(exc) if isinstance(exc, Unusable) else type(exc).__name__))
                    continue
                out.append(Formula("operon", int(seed), None, expr, ops, seconds, bool(est.timed_out_), m.program,
                                   note=note))
    if engine in ("gplearn", "both"):
        for p in sorted({float(v) for v in parsimony}, reverse=True):
            for seed in seeds:
                if step:
                    step(f"gplearn SR, parsimony {p:g}, seed {seed}")
                s = dataclasses.replace(settings, engine="gplearn", parsimony_coefficient=p, n_decimals=None)
                t0 = time.perf_counter()
                est = make_regressor(s, int(seed), names, no_logs).fit(U, z, X_eval=U_check)
                seconds = time.perf_counter() - t0

                def unsimplified(est=est, s=s):
                    return convert_program(est.gp_._program, names, None, X=np.vstack([U, U_check]),
                                           exp_cap=s.exp_cap, simplify=False).expression

                try:
                    expr_z, note = faithful(est.expression_, est.predict(U_check), names, U_check, unsimplified)
                    expr, ops = _finish(expr_z, variables, mean, std, U_check)
                except Exception as exc:  # noqa: BLE001 - one bad candidate must not end the run
                    dropped.append(("gplearn", str(exc) if isinstance(exc, Unusable) else type(exc).__name__))
                    continue
                out.append(Formula("gplearn", int(seed), p, expr, ops, seconds, bool(est.timed_out_), est.program_,
                                   note=note))
    return out
