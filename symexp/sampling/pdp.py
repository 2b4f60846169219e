"""Partial dependence of a function on a subset of hyperparameters (paper, Section 4.1.3, Fig. 7).

For the five-hyperparameter MLP case the paper explains only the two most important
hyperparameters and integrates the others out with the partial dependence (PD) function
(Friedman, 2001) of the GP surrogate::

    PD(x_S) = 1/B * sum_b f(x_S, x_C^(b))

where ``x_C^(b)`` are ``B`` random background configurations of the other hyperparameters,
drawn uniformly from the space (``SearchSpace.sample``, i.e. uniform in log space for log
hyperparameters) with a seeded generator, the same background for every grid point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from symexp.errors import SymexpError
from symexp.benchmarks.space import SearchSpace

CHUNK = 65_536


def feature_grid(space: SearchSpace, features: Sequence[str], grid_points: int) -> np.ndarray:
    """Cartesian grid over ``features`` (``Numerical.grid`` values: cell centres, log-spaced for
    log hyperparameters, integers de-duplicated), shape ``(k, len(features))``, first feature
    varying slowest."""
    axes = [space[name].grid(grid_points) for name in features]
    return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(features))


def partial_dependence(
    f: Callable[[np.ndarray], np.ndarray],
    space: SearchSpace,
    features: Sequence[str],
    grid_points: int = 20,
    n_background: int = 500,
    seed: int = 0,
    grid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Partial dependence of ``f`` on ``features``, averaging over the other hyperparameters.

    Parameters
    ----------
    f : callable
        Vectorised function of raw configurations, ``f(X) -> y``, ``X`` of shape
        ``(m, space.dim)`` in the space's column order.
    space : SearchSpace
        All hyperparameters ``f`` takes (numerical only).
    features : list of str
        The hyperparameters to keep (one or two in the paper; any number works).
    grid_points : int
        Points per feature of the evaluation grid (see :func:`feature_grid`).
    n_background : int
        Random configurations of the other hyperparameters to average over.
    seed : int
        Seed of the background sample (``numpy.random.default_rng(seed)``).
    grid : array, optional
        Explicit grid of shape ``(k, len(features))`` in raw units, instead of the default.

    Returns
    -------
    grid : ndarray, shape (k, len(features))
    values : ndarray, shape (k,)
        ``values[i]`` is the mean of ``f`` over the background with ``features`` set to ``grid[i]``.
    """
    space.require_numerical("partial dependence")
    features = list(features)
    if not features:
        raise SymexpError("partial dependence needs at least one feature")
    if len(set(features)) != len(features):
        raise SymexpError(f"duplicate features in {features}")
    cols = [space.names.index(space[name].name) for name in features]  # raises on unknown names
    if grid is None:
        if grid_points < 1:
            raise SymexpError(f"grid_points must be >= 1, got {grid_points}")
        grid = feature_grid(space, features, grid_points)
    else:
        grid = np.asarray(grid, dtype=float)
        if grid.ndim != 2 or grid.shape[1] != len(features):
            raise SymexpError(f"grid must have shape (k, {len(features)}), got {grid.shape}")
    others = [j for j in range(space.dim) if j not in cols]
    if others:
        if n_background < 1:
            raise SymexpError(f"n_background must be >= 1, got {n_background}")
        background = space.sample(n_background, np.random.default_rng(seed))
    else:
        background = np.zeros((1, space.dim))  # nothing to average over
    B = len(background)
    values = np.empty(len(grid), dtype=float)
    per_chunk = max(1, CHUNK // B)
    for start in range(0, len(grid), per_chunk):
        g = grid[start:start + per_chunk]
        X = np.repeat(background[None, :, :], len(g), axis=0)  # (k, B, d)
        X[:, :, cols] = g[:, None, :]
        y = np.asarray(f(X.reshape(-1, space.dim)), dtype=float).reshape(-1)
        if len(y) != len(g) * B:
            raise SymexpError(f"f returned {len(y)} values for {len(g) * B} configurations")
        values[start:start + len(g)] = y.reshape(len(g), B).mean(axis=1)
    return grid, values
