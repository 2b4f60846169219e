"""fANOVA importances (symexp.sampling.importance) and partial dependence (symexp.sampling.pdp) vs closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symexp.errors import SymexpError
from symexp.sampling.importance import (anova_decomposition, fanova_importance, grid_axes, integer_axis, unit_to_raw,
                               weighted_grid_axes)
from symexp.sampling.pdp import partial_dependence
from symexp.benchmarks.space import Numerical, SearchSpace

UNIT2 = SearchSpace((Numerical("x0", 0.0, 1.0), Numerical("x1", 0.0, 1.0)))


def analytic_shares(a: float, b: float, c: float) -> dict:
    """f = a*x0 + b*x1**2 + c*x0*x1, x0, x1 ~ U(0, 1) independent.

    f0 = a/2 + b/3 + c/4
    f_0(x0) = (a + c/2) (x0 - 1/2)                      V_0  = (a + c/2)^2 / 12
    f_1(x1) = b (x1^2 - 1/3) + c/2 (x1 - 1/2)            V_1  = b^2 Var(x^2) + c^2/4 Var(x) + b c Cov(x^2, x)
                                                              = 4 b^2/45 + c^2/48 + b c/12
    f_01    = c (x0 - 1/2)(x1 - 1/2)                     V_01 = c^2 / 144
    """
    v0 = (a + c / 2) ** 2 / 12
    v1 = 4 * b**2 / 45 + c**2 / 48 + b * c / 12
    v01 = c**2 / 144
    v = v0 + v1 + v01
    return {"x0": v0 / v, "x1": v1 / v, ("x0", "x1"): v01 / v}


@pytest.mark.parametrize("a,b,c", [(1.0, 2.0, 3.0), (2.0, -1.0, 0.5), (0.0, 1.0, 0.0)])
def test_fanova_matches_closed_form(a, b, c):
    def f(X):
        return a * X[:, 0] + b * X[:, 1] ** 2 + c * X[:, 0] * X[:, 1]

    got = fanova_importance(f, UNIT2, points_per_dim=200, pairwise=True)
    want = analytic_shares(a, b, c)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-4), k
    # on the grid the decomposition is exact: shares add up to one
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)


def test_main_effects_only_by_default():
    got = fanova_importance(lambda X: X[:, 0] + X[:, 1], UNIT2, points_per_dim=5)
    assert set(got) == {"x0", "x1"}
    assert got["x0"] == pytest.approx(0.5)


def test_grid_is_uniform_in_the_space_scale():
    """In unit-cube coordinates (log for log hyperparameters) f = u0 + 2 u1: shares 1/5, 4/5, 0."""
    space = SearchSpace((
        Numerical("lr", 1e-5, 1.0, log=True),
        Numerical("frac", 0.1, 1.0),
        Numerical("batch", 4, 256, log=True, integer=True),
    ))
    w = np.array([1.0, 2.0, 0.0])
    got = fanova_importance(lambda X: space.in_unit_cube(X) @ w, space, points_per_dim=7, pairwise=True)
    assert got["lr"] == pytest.approx(0.2, abs=1e-12)
    assert got["frac"] == pytest.approx(0.8, abs=1e-12)
    assert got["batch"] == pytest.approx(0.0, abs=1e-12)
    assert got[("lr", "frac")] == pytest.approx(0.0, abs=1e-12)
    # log axis: cell centres equally spaced in log(value)
    axes = grid_axes(space, 4)
    assert np.allclose(np.diff(np.log(axes[0])), np.log(1e5) / 4)
    assert set(axes[2]) <= set(range(4, 257)) and axes[2].dtype == float


def test_unit_to_raw_inverts_in_unit_cube():
    hp = Numerical("a", 1e-3, 10.0, log=True)
    u = np.linspace(0, 1, 11)
    assert np.allclose(SearchSpace((hp,)).in_unit_cube(unit_to_raw(hp, u)[:, None])[:, 0], u)


def test_constant_function_and_errors():
    got = fanova_importance(lambda X: np.ones(len(X)), UNIT2, points_per_dim=3)
    assert got == {"x0": 0.0, "x1": 0.0}
    with pytest.raises(SymexpError):
        fanova_importance(lambda X: np.ones(len(X) + 1), UNIT2, points_per_dim=3)
    with pytest.raises(SymexpError):
        fanova_importance(lambda X: X[:, 0], UNIT2, points_per_dim=1)


def test_integer_cells_are_widened_by_half_a_step():
    """depth in [1, 3]: each integer has mass 1/3 (uniform on [0.5, 3.5] rounded), not 1/4, 1/2, 1/4."""
    values, weights = integer_axis(Numerical("depth", 1, 3, integer=True), 10)
    assert values.tolist() == [1.0, 2.0, 3.0]
    assert np.allclose(weights, 1 / 3, atol=1e-15)
    # log scale: mass of v is (log(v + 0.5) - log(v - 0.5)) / (log(4.5) - log(0.5))
    values, weights = integer_axis(Numerical("batch", 1, 4, log=True, integer=True), 10)
    want = (np.log(values + 0.5) - np.log(values - 0.5)) / (np.log(4.5) - np.log(0.5))
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0] and np.allclose(weights, want, atol=1e-15)
    # more integers than grid points: cells of the widened range, equal weights
    values, weights = integer_axis(Numerical("n", 1, 100, integer=True), 10)
    assert len(values) == 10 and np.allclose(weights, 0.1)
    assert values.tolist() == [6.0, 16.0, 26.0, 36.0, 46.0, 56.0, 66.0, 76.0, 86.0, 96.0]


def test_fanova_integer_hyperparameter_closed_form():
    """f = depth * x, depth uniform on {1, 2, 3}, x ~ U(0, 1):
    f0 = 1, f_depth = depth/2 - 1 (V = Var(depth)/4 = 1/6), f_x = 2x - 1 (V = 4/12 = 1/3),
    f_depth,x = (depth - 2)(x - 1/2) (V = (2/3)(1/12) = 1/18); V = 5/9 -> shares 3/10, 6/10, 1/10."""
    space = SearchSpace((Numerical("depth", 1, 3, integer=True), Numerical("x", 0.0, 1.0)))
    got = fanova_importance(lambda X: X[:, 0] * X[:, 1], space, points_per_dim=400, pairwise=True)
    assert got["depth"] == pytest.approx(0.3, abs=1e-5)
    assert got["x"] == pytest.approx(0.6, abs=1e-5)
    assert got[("depth", "x")] == pytest.approx(0.1, abs=1e-5)
    # the integer axis is exact at any resolution: f = depth alone has Var 2/3 of which all is depth
    got = fanova_importance(lambda X: X[:, 0] ** 2, space, points_per_dim=3)
    assert got == {"depth": pytest.approx(1.0), "x": pytest.approx(0.0, abs=1e-15)}
    axes = weighted_grid_axes(space, 3)
    assert axes[0][0].tolist() == [1.0, 2.0, 3.0] and np.allclose(axes[0][1], 1 / 3)


def test_weighted_decomposition_equals_repeated_grid():
    """Weights (1/4, 3/4) on an axis equal a grid with that value repeated three times."""
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(2, 5))
    rep = np.concatenate([Y[:1], Y[1:], Y[1:], Y[1:]])
    a = anova_decomposition(Y, weights=[np.array([0.25, 0.75]), np.full(5, 0.2)])
    b = anova_decomposition(rep)
    assert a[0] == pytest.approx(b[0]) and a[1] == pytest.approx(b[1]) and a[2] == pytest.approx(b[2])


def test_anova_decomposition_three_dims():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(4, 5, 6))
    total, main, pair = anova_decomposition(Y)
    assert total == pytest.approx(Y.var())
    assert set(pair) == {(0, 1), (0, 2), (1, 2)}
    assert sum(main.values()) + sum(pair.values()) <= total + 1e-12


# -- partial dependence ---------------------------------------------------------------------
PD_SPACE = SearchSpace((
    Numerical("x0", 0.0, 1.0),
    Numerical("x1", 0.0, 1.0),
    Numerical("x2", 1.0, 100.0, log=True),
))


def pd_f(X):
    return X[:, 0] ** 2 + 3 * X[:, 1] + X[:, 0] * np.log(X[:, 2])


def test_pdp_one_feature_closed_form():
    """PD(x0) = x0^2 + 3 E[x1] + x0 E[log x2] = x0^2 + 1.5 + x0 ln(10) (x2 log-uniform on [1, 100])."""
    grid, values = partial_dependence(pd_f, PD_SPACE, ["x0"], grid_points=9, n_background=4000, seed=1)
    assert grid.shape == (9, 1) and values.shape == (9,)
    x0 = grid[:, 0]
    assert np.allclose(values, x0**2 + 1.5 + x0 * math.log(10), atol=0.08)
    # exactly the average over the seeded background sample
    bg = PD_SPACE.sample(4000, np.random.default_rng(1))
    assert np.allclose(values, x0**2 + 3 * bg[:, 1].mean() + x0 * np.log(bg[:, 2]).mean(), atol=1e-12)


def test_pdp_two_features_and_reproducibility():
    grid, values = partial_dependence(pd_f, PD_SPACE, ["x2", "x0"], grid_points=5, n_background=3000, seed=2)
    assert grid.shape == (25, 2)
    assert np.allclose(values, grid[:, 1] ** 2 + 1.5 + grid[:, 1] * np.log(grid[:, 0]), atol=0.1)
    _, again = partial_dependence(pd_f, PD_SPACE, ["x2", "x0"], grid_points=5, n_background=3000, seed=2)
    assert np.array_equal(values, again)
    # no other hyperparameters: PD is f itself
    grid, values = partial_dependence(pd_f, PD_SPACE, ["x0", "x1", "x2"], grid_points=3)
    assert np.allclose(values, pd_f(grid))


def test_pdp_explicit_grid_and_errors():
    g = np.array([[0.0], [1.0]])
    _, v = partial_dependence(lambda X: X[:, 0] + X[:, 1], PD_SPACE, ["x0"], grid=g, n_background=10, seed=0)
    bg = PD_SPACE.sample(10, np.random.default_rng(0))
    assert np.allclose(v, [bg[:, 1].mean(), 1 + bg[:, 1].mean()])
    with pytest.raises(SymexpError):
        partial_dependence(pd_f, PD_SPACE, ["nope"])
    with pytest.raises(SymexpError):
        partial_dependence(pd_f, PD_SPACE, [])
    with pytest.raises(SymexpError):
        partial_dependence(pd_f, PD_SPACE, ["x0"], grid=np.zeros((3, 2)))
