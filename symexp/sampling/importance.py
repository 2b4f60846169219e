"""Functional ANOVA importances of a function over a search space (paper, Section 4.1.3, Fig. 6).

Functional ANOVA (Hutter et al., 2014) splits the variance of a function ``f`` of independent,
uniformly distributed inputs into main effects and interactions. The paper applies it to the
GP surrogate of a BO run. Instead of fitting a random forest to the BO samples (the fanova
package, optuna's ``FanovaImportanceEvaluator``), we evaluate the given function on a full
Cartesian grid and decompose its variance *exactly* on that grid; no extra package is needed.

The grid: each continuous hyperparameter gets ``points_per_dim`` cell centres of ``[0, 1]`` in
the space's own scale (``SearchSpace.in_unit_cube`` semantics: uniform in ``log(value)`` for log
hyperparameters), mapped back to raw units, each with weight ``1 / points_per_dim``.

Integer hyperparameters are widened by half a step on both sides, as ConfigSpace (and so the
fanova package) represents them: the measure is uniform on ``[lower - 0.5, upper + 0.5]`` in the
hyperparameter's scale and a value rounds to the nearest integer, so in linear scale every integer
of ``[lower, upper]`` has the same mass (``depth`` in [1, 3]: 1/3 each; without the widening it
would be 1/4, 1/2, 1/4). When the range has at most ``points_per_dim`` integers, the axis is those
integers with their exact masses (``(T(v + 0.5) - T(v - 0.5)) / (T(upper + 0.5) - T(lower - 0.5))``,
``T`` = identity or ``log``); otherwise ``points_per_dim`` cell centres of the widened range are
rounded and equal integers merged (weight = their number of cells / ``points_per_dim``).

The decomposition is that of the product of these per-axis weights (the midpoint-rule
approximation of the uniform measure for continuous axes, exact for small integer ranges),
converging to the continuous one as ``points_per_dim`` grows.

With ``Y`` the grid values (a ``d``-dimensional tensor), ``E`` the weighted mean and ``f0 = E[Y]``:

- main effect ``f_i(x_i) = E[Y | x_i] - f0`` (mean over all other axes), ``V_i = E[f_i**2]``;
- pairwise ``f_ij = E[Y | x_i, x_j] - f_i - f_j - f0``, ``V_ij = E[f_ij**2]``;
- importance = ``V_i / V`` (``V_ij / V``), ``V = E[(Y - f0)**2]``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from symexp.errors import SymexpError
from symexp.benchmarks.space import Numerical, SearchSpace

MAX_GRID_POINTS = 2_000_000
CHUNK = 65_536


def _scale(hp: Numerical):
    """The hyperparameter's scale ``T`` (``log`` or identity) and its inverse."""
    if hp.log:
        return np.log, np.exp
    return (lambda x: np.asarray(x, dtype=float)), (lambda t: np.asarray(t, dtype=float))


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


def integer_axis(hp: Numerical, points_per_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Values (k,) and weights (k,) of an integer hyperparameter's axis (see module docstring)."""
    lo, hi = int(hp.lower), int(hp.upper)
    fwd, inv = _scale(hp)
    t_lo, t_hi = float(fwd(lo - 0.5)), float(fwd(hi + 0.5))  # lower >= 1 when log, so lo - 0.5 > 0
    if hi - lo + 1 <= points_per_dim:
        values = np.arange(lo, hi + 1, dtype=float)
        weights = (fwd(values + 0.5) - fwd(values - 0.5)) / (t_hi - t_lo)
        return values, weights / weights.sum()  # the masses sum to 1 up to rounding
    u = (np.arange(points_per_dim) + 0.5) / points_per_dim
    x = np.clip(np.rint(inv(t_lo + u * (t_hi - t_lo))), lo, hi)
    values, counts = np.unique(x, return_counts=True)
    return values.astype(float), counts / points_per_dim


def weighted_grid_axes(space: SearchSpace, points_per_dim: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per hyperparameter, ``(raw values (k,), weights (k,) summing to 1)`` of its grid axis."""
    space.require_numerical("functional ANOVA")
    if points_per_dim < 2:
        raise SymexpError(f"points_per_dim must be >= 2, got {points_per_dim}")
    u = (np.arange(points_per_dim) + 0.5) / points_per_dim
    out = []
    for hp in space.hyperparameters:
        if hp.integer:
            out.append(integer_axis(hp, points_per_dim))
        else:
            out.append((unit_to_raw(hp, u), np.full(points_per_dim, 1.0 / points_per_dim)))
    return out


def grid_axes(space: SearchSpace, points_per_dim: int) -> list[np.ndarray]:
    """Per hyperparameter, the raw values of its grid axis (weights: :func:`weighted_grid_axes`)."""
    return [values for values, _ in weighted_grid_axes(space, points_per_dim)]


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


def anova_decomposition(Y: np.ndarray, pairwise: bool = True,
                        weights: list[np.ndarray] | None = None) -> tuple[float, dict, dict]:
    """Exact variance decomposition of a grid tensor under a product of per-axis weights.

    ``weights[i]`` (length ``Y.shape[i]``, summing to 1) weighs the values of axis ``i``;
    ``None`` = equal weights. Returns ``(V, {i: V_i}, {(i, j): V_ij})`` with axis indices as keys.
    """
    d = Y.ndim
    if weights is None:
        weights = [np.full(n, 1.0 / n) for n in Y.shape]
    weights = [np.asarray(w, dtype=float) for w in weights]
    if len(weights) != d or any(w.shape != (n,) for w, n in zip(weights, Y.shape)):
        raise SymexpError(f"weights must be one vector per axis of lengths {list(Y.shape)}")

    def mean_over(T: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
        """Weighted mean of T over every axis not in ``keep`` (axes of T are those of Y)."""
        for a in reversed(range(d)):
            if a not in keep:
                T = np.tensordot(T, weights[a], axes=([a], [0]))
        return T

    def expect(T: np.ndarray, axes: tuple[int, ...]) -> float:
        """Weighted mean of a tensor over the given axes of Y (all of T's axes)."""
        for k in reversed(range(len(axes))):
            T = np.tensordot(T, weights[axes[k]], axes=([k], [0]))
        return float(T)

    all_axes = tuple(range(d))
    f0 = float(mean_over(Y, ()))
    total = expect((Y - f0) ** 2, all_axes)
    mains: dict[int, np.ndarray] = {}
    v_main: dict[int, float] = {}
    for i in all_axes:
        fi = mean_over(Y, (i,)) - f0
        mains[i] = fi
        v_main[i] = expect(fi ** 2, (i,))
    v_pair: dict[tuple[int, int], float] = {}
    if pairwise:
        for i, j in itertools.combinations(all_axes, 2):
            fij = mean_over(Y, (i, j)) - mains[i][:, None] - mains[j][None, :] - f0
            v_pair[(i, j)] = expect(fij ** 2, (i, j))
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
        Grid points per hyperparameter (integer hyperparameters: at most this many); the grid
        has at most ``points_per_dim ** dim`` points.
    pairwise : bool
        Also return pairwise interaction shares, keyed by ``(name_i, name_j)``.

    Returns
    -------
    dict
        ``{name: V_i / V}`` (plus ``{(name_i, name_j): V_ij / V}``). All zeros if ``f`` is constant
        on the grid.
    """
    weighted = weighted_grid_axes(space, points_per_dim)
    Y = evaluate_on_grid(f, [values for values, _ in weighted])
    total, v_main, v_pair = anova_decomposition(Y, pairwise=pairwise, weights=[w for _, w in weighted])
    names = space.names
    scale = 0.0 if total <= 0 else 1.0 / total
    out: dict[str | tuple[str, str], float] = {names[i]: v * scale for i, v in v_main.items()}
    for (i, j), v in v_pair.items():
        out[(names[i], names[j])] = v * scale
    return out
