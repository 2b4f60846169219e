"""Functional ANOVA importances of a function over a search space (paper, Section 4.1.3, Fig. 6).

Functional ANOVA (Hutter et al., 2014) splits the variance of a function ``f`` of independent,
uniformly distributed inputs into main effects and interactions. The paper applies it to the
GP surrogate of a BO run. Instead of fitting a random forest to the BO samples (the fanova
package, optuna's ``FanovaImportanceEvaluator``), we evaluate the given function on a full
Cartesian grid and decompose its variance *exactly* on that grid; no extra package is needed.

The grid: each hyperparameter gets ``points_per_dim`` cell centres of ``[0, 1]`` in the space's
own scale (``SearchSpace.in_unit_cube`` semantics: uniform in ``log(value)`` for log
hyperparameters), mapped back to raw units; integers are rounded (cells sharing an integer keep
their own weight, so each integer's weight is its share of the uniform measure). Every grid
point has the same weight, i.e. the decomposition is that of the midpoint-rule approximation of
the uniform measure, converging to the continuous one as ``points_per_dim`` grows.

With ``Y`` the grid values (a ``d``-dimensional tensor) and ``f0`` its mean:

- main effect ``f_i(x_i) = mean of Y over all other axes - f0``, ``V_i = mean(f_i**2)``;
- pairwise ``f_ij = mean over the other axes - f_i - f_j - f0``, ``V_ij = mean(f_ij**2)``;
- importance = ``V_i / V`` (``V_ij / V``), ``V = mean((Y - f0)**2)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from symexp.errors import SymexpError
from symexp.space import Numerical, SearchSpace

MAX_GRID_POINTS = 2_000_000
CHUNK = 65_536


def unit_to_raw(hp: Numerical, u: np.ndarray) -> np.ndarray:
    """Inverse of ``SearchSpace.in_unit_cube`` for one hyperparameter (integers rounded)."""
    u = np.asarray(u, dtype=float)
    lo, hi = float(hp.lower), float(hp.upper)
    if hp.log:
        x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    else:
        x = lo + u * (hi - lo)
    if hp.integer:
        x = np.clip(np.rint(x), lo, hi)
    return np.clip(x, lo, hi)


def grid_axes(space: SearchSpace, points_per_dim: int) -> list[np.ndarray]:
    """Per hyperparameter, the raw values of the ``points_per_dim`` equal-weight cell centres."""
    space.require_numerical("functional ANOVA")
    if points_per_dim < 2:
        raise SymexpError(f"points_per_dim must be >= 2, got {points_per_dim}")
    u = (np.arange(points_per_dim) + 0.5) / points_per_dim
    return [unit_to_raw(hp, u) for hp in space.hyperparameters]


def evaluate_on_grid(f: Callable[[np.ndarray], np.ndarray], axes: list[np.ndarray],
                     chunk: int = CHUNK) -> np.ndarray:
    """``f`` on the Cartesian product of ``axes`` as a tensor of shape ``[len(a) for a in axes]``."""
    shape = tuple(len(a) for a in axes)
    total = int(np.prod(shape))
    if total > MAX_GRID_POINTS:
        raise SymexpError(f"grid of {total} points exceeds {MAX_GRID_POINTS}; lower points_per_dim")
    out = np.empty(total, dtype=float)
    for start in range(0, total, chunk):
        idx = np.unravel_index(np.arange(start, min(start + chunk, total)), shape)
        X = np.column_stack([a[i] for a, i in zip(axes, idx)])
        y = np.asarray(f(X), dtype=float).reshape(-1)
        if len(y) != len(X):
            raise SymexpError(f"f returned {len(y)} values for {len(X)} configurations")
        out[start:start + len(X)] = y
    if not np.all(np.isfinite(out)):
        raise SymexpError("f returned non-finite values on the grid")
    return out.reshape(shape)


def anova_decomposition(Y: np.ndarray, pairwise: bool = True) -> tuple[float, dict, dict]:
    """Exact variance decomposition of a grid tensor with equal weights.

    Returns ``(V, {i: V_i}, {(i, j): V_ij})`` with axis indices as keys.
    """
    d = Y.ndim
    f0 = float(Y.mean())
    total = float(np.mean((Y - f0) ** 2))
    axes = tuple(range(d))
    mains: dict[int, np.ndarray] = {}
    v_main: dict[int, float] = {}
    for i in axes:
        fi = Y.mean(axis=tuple(a for a in axes if a != i)) - f0
        mains[i] = fi
        v_main[i] = float(np.mean(fi ** 2))
    v_pair: dict[tuple[int, int], float] = {}
    if pairwise:
        for i, j in itertools.combinations(axes, 2):
            fij = Y.mean(axis=tuple(a for a in axes if a not in (i, j))) if d > 2 else Y
            fij = fij - mains[i][:, None] - mains[j][None, :] - f0
            v_pair[(i, j)] = float(np.mean(fij ** 2))
    return total, v_main, v_pair


def fanova_importance(
    f: Callable[[np.ndarray], np.ndarray],
    space: SearchSpace,
    points_per_dim: int = 10,
    pairwise: bool = False,
) -> dict[str | tuple[str, str], float]:
    """Fraction of the variance of ``f`` explained by each hyperparameter (and pair).

    Parameters
    ----------
    f : callable
        Vectorised function of raw configurations, ``f(X) -> y`` with ``X`` of shape
        ``(m, space.dim)`` in the space's column order and ``y`` of shape ``(m,)`` (e.g. a GP's
        posterior mean).
    space : SearchSpace
        Numerical hyperparameters only.
    points_per_dim : int
        Grid points per hyperparameter; the grid has ``points_per_dim ** dim`` points.
    pairwise : bool
        Also return pairwise interaction shares, keyed by ``(name_i, name_j)``.

    Returns
    -------
    dict
        ``{name: V_i / V}`` (plus ``{(name_i, name_j): V_ij / V}``). All zeros if ``f`` is constant
        on the grid.
    """
    axes = grid_axes(space, points_per_dim)
    Y = evaluate_on_grid(f, axes)
    total, v_main, v_pair = anova_decomposition(Y, pairwise=pairwise)
    names = space.names
    scale = 0.0 if total <= 0 else 1.0 / total
    out: dict[str | tuple[str, str], float] = {names[i]: v * scale for i, v in v_main.items()}
    for (i, j), v in v_pair.items():
        out[(names[i], names[j])] = v * scale
    return out
