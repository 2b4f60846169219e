"""Formulas as people read them: gplearn's protection guards shown only where they act.

A stored formula keeps every guard of gplearn's protected operations that is active on at least
one of its training points (:mod:`symexp.symbolic.convert`): ``Min(100000, exp(a))`` (the capped
exponential), ``Abs`` under ``sqrt``/``log`` and ``Piecewise`` for ``div``/``log``/``inv`` near
zero. The paper prints its formulas without them. :func:`readable_formula` decides each guard on
the hyperparameters' **whole box** (a dense grid over the search space, log-spaced on log axes,
where the figures draw the formula): a guard that never acts there is removed (``exp(a)``,
``sqrt(a)``, ``a/b``), a guard that always acts becomes what it returns, and a guard that acts on
part of the box is kept and described in a footnote (where and on what share of the box).

The readable formula equals the stored one on every point of that grid (the tests check it); it
is for display only: records, RMSEs and predictions keep the stored formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symexp.errors import SymexpError
from symexp.symbolic.convert import formula_string
from symexp.symbolic.parse import parse_formula

#: Points per axis of the grid guards are decided on (capped so a grid has at most MAX_POINTS).
POINTS_PER_AXIS = 201
MAX_POINTS = 250_000


@dataclass
class ReadableFormula:
    """A formula for display and what its guards do on the box.

    Attributes
    ----------
    text : str
        The formula with every guard that never acts on the box removed (``formula_string`` form).
    expression : sympy.Expr
        The same as a SymPy expression (e.g. for ``sympy.latex``).
    footnotes : list of str
        One line per guard kept because it acts on part of the box.
    removed : int
        How many guards were removed or resolved to a constant branch.
    """

    text: str
    expression: sp.Expr
    footnotes: list[str] = field(default_factory=list)
    removed: int = 0


def box_grid(bounds: Sequence[tuple[float, float]], log: Sequence[bool],
             points_per_axis: int = POINTS_PER_AXIS) -> np.ndarray:
    """A Cartesian grid over the box, (m, d): log-spaced on log axes, bounds included.

    The points per axis shrink for many dimensions so the grid has at most ``MAX_POINTS`` rows.
    """
    d = len(bounds)
    if d == 0:
        return np.zeros((1, 0))
    k = max(2, min(points_per_axis, int(MAX_POINTS ** (1.0 / d))))
    axes = []
    for (lo, hi), is_log in zip(bounds, log):
        if is_log:
            if lo <= 0:
                raise SymexpError(f"a log axis needs a positive lower bound, got {lo}")
            axes.append(np.geomspace(lo, hi, k))
        else:
            axes.append(np.linspace(lo, hi, k))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.reshape(-1) for m in mesh])


def _values(expr: sp.Expr, symbols: list[sp.Symbol], X: np.ndarray) -> np.ndarray:
    fn = sp.lambdify(symbols, expr, modules="numpy")
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*[X[:, j] for j in range(X.shape[1])]))
    if np.iscomplexobj(out):
        out = np.where(np.abs(out.imag) > 0, np.nan, out.real)
    return np.broadcast_to(out, (X.shape[0],)).astype(float)


def _where(mask: np.ndarray, X: np.ndarray, names: Sequence[str]) -> str:
    """Where on the box ``mask`` holds, as per-hyperparameter ranges of the masked points."""
    parts = []
    for j, name in enumerate(names):
        lo, hi = X[mask, j].min(), X[mask, j].max()
        full_lo, full_hi = X[:, j].min(), X[:, j].max()
        if lo > full_lo or hi < full_hi:
            parts.append(f"{lo:.3g} <= {name} <= {hi:.3g}")
    return " and ".join(parts) if parts else "across the box"


def readable_formula(text: str, names: Sequence[str], bounds: Sequence[tuple[float, float]],
                     log: Sequence[bool], points_per_axis: int = POINTS_PER_AXIS) -> ReadableFormula:
    """The stored formula ``text`` without the guards that never act on the search space.

    Parameters
    ----------
    text : str
        A stored formula (read with :func:`~symexp.symbolic.parse_formula`, never evaluated as code).
    names : sequence of str, length d
        The formula's hyperparameters, in the order of ``bounds``.
    bounds : sequence of (float, float), length d
        Lower and upper bound of each hyperparameter, raw units.
    log : sequence of bool, length d
        Whether each axis is log-scaled (the grid is log-spaced there).
    points_per_axis : int
        Grid points per axis the guards are decided on.

    Returns
    -------
    ReadableFormula
    """
    if not (len(names) == len(bounds) == len(log)):
        raise SymexpError(f"names, bounds and log differ in length ({len(names)}, {len(bounds)}, {len(log)})")
    expr = parse_formula(text, names)
    by_name = {s.name: s for s in expr.free_symbols}
    symbols = [by_name.get(n, sp.Symbol(n, real=True)) for n in names]
    X = box_grid(bounds, log, points_per_axis)
    notes: list[str] = []
    removed = 0

    def share(mask: np.ndarray) -> str:
        return f"{100.0 * mask.mean():.3g} % of the box"

    def visit(e: sp.Expr) -> sp.Expr:
        nonlocal removed
        if not e.args:
            return e
        if isinstance(e, sp.Piecewise):
            # (value, condition) pairs; the first branch whose condition holds is taken
            pairs = [(visit(p.expr), p.cond) for p in e.args]
            if len(pairs) == 2 and pairs[1][1] == sp.true:
                (a, cond), (b, _) = pairs
                holds = _values(sp.Piecewise((1, cond), (0, True)), symbols, X) > 0.5
                if holds.all():
                    removed += 1
                    return a
                if not holds.any():
                    removed += 1
                    return b
                notes.append(f"protected operation: {formula_string(a)} is {formula_string(b)} where its guard "
                             f"acts ({share(~holds)}; {_where(~holds, X, names)})")
            return sp.Piecewise(*pairs)
        args = [visit(a) for a in e.args]
        if isinstance(e, sp.Min) and len(args) == 2:
            cap = [a for a in args if a.is_number]
            other = [a for a in args if not a.is_number]
            if len(cap) == 1 and len(other) == 1 and isinstance(other[0], sp.exp):
                v = _values(other[0], symbols, X)
                capped = v >= float(cap[0])  # NaN (undefined there either way) is not capped
                if not capped.any():
                    removed += 1
                    return other[0]
                notes.append(f"protected exp: {formula_string(other[0])} is capped at {formula_string(cap[0])} "
                             f"on {share(capped)} ({_where(capped, X, names)})")
            return e.func(*args)
        if isinstance(e, sp.Abs):
            v = _values(args[0], symbols, X)
            # where the argument is NaN the formula is undefined with or without Abs
            defined = ~np.isnan(v)
            if (v[defined] >= 0).all():
                removed += 1
                return args[0]
            if (v[defined] <= 0).all():
                removed += 1
                return -args[0]
            neg = defined & (v < 0)
            notes.append(f"|{formula_string(args[0])}|: the argument is negative on {share(neg)}"
                         + (f" ({_where(neg, X, names)})" if neg.any() else ""))
            return e.func(*args)
        return e.func(*args)

    out = visit(expr)
    unique = list(dict.fromkeys(notes))  # a repeated subexpression gets one footnote
    return ReadableFormula(text=formula_string(out), expression=out, footnotes=unique, removed=removed)
