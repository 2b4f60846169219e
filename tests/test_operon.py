"""Tests for the operon SR engine (symexp.symbolic.operon) and the engine setting."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symexp.errors import SymexpError
from symexp.symbolic import (
    OperonRegression,
    SRSettings,
    SymbolicRegression,
    formula_predict,
    make_regressor,
    operon_status,
    parse_formula,
)

pytestmark = pytest.mark.skipif(operon_status() is not None, reason=str(operon_status()))

NAMES = ["x", "y"]
PAPER_FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs")


def data(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.exp(rng.uniform(np.log(0.1), np.log(2.0), n)), rng.uniform(0.0, 1.0, n)])
    return X, X[:, 0] * X[:, 1] + 0.1


def small(**kw) -> SRSettings:
    base = dict(engine="operon", population_size=300, generations=10, parsimony_coefficient=1e-4,
                function_set=("add", "sub", "mul", "div"))
    base.update(kw)
    return SRSettings(**base)


@pytest.fixture(scope="module")
def fitted() -> tuple[OperonRegression, np.ndarray, np.ndarray]:
    X, y = data()
    return make_regressor(small(function_set=PAPER_FUNCTIONS), 0, NAMES, [True, False]).fit(X, y), X, y


def test_settings_engine_field():
    assert SRSettings().engine == "gplearn" and SRSettings().max_length == 50
    s = small()
    assert SRSettings.from_dict(s.to_dict()) == s
    with pytest.raises(SymexpError, match="unknown SR engine 'pysr'; valid: gplearn, operon"):
        SRSettings(engine="pysr")
    with pytest.raises(SymexpError, match="max_length must be >= 1"):
        SRSettings(max_length=0)
    # gplearn's keyword arguments do not grow engine-only fields
    assert "engine" not in SRSettings().gplearn_kwargs() and "max_length" not in SRSettings().gplearn_kwargs()


def test_make_regressor_dispatches():
    assert type(make_regressor(SRSettings(), 0, NAMES)) is SymbolicRegression
    assert type(make_regressor(small(), 0, NAMES)) is OperonRegression
    with pytest.raises(SymexpError, match="settings must be an SRSettings"):
        make_regressor({"engine": "operon"}, 0, NAMES)


def test_recovers_formula_and_interface(fitted):
    est, X, y = fitted
    gp_attrs = ("program_", "program_length_", "expression_", "formula_", "latex_", "complexity_", "simplified_",
                "conversion_note_", "conversion_", "timed_out_", "generations_completed_", "fit_seconds_",
                "convert_seconds_", "run_details_", "n_features_in_", "feature_names_in_")
    for attr in gp_attrs:
        assert hasattr(est, attr), attr
    assert est.timed_out_ is False and est.generations_completed_ == 10
    assert isinstance(est.complexity_, int) and est.complexity_ >= 1
    assert isinstance(est.complexity_paper_, int) and est.complexity_paper_ == est.pareto_front_[est.chosen_index_].complexity_paper
    # the paper-style count is of the plain form in the program's inputs X0, X1, which is the same function
    for m in est.pareto_front_:
        paper = m.paper_complexity
        assert paper.ops == sp.count_ops(paper.expression) and m.to_dict()["complexity_paper"] == paper.ops
        assert {str(v) for v in paper.expression.free_symbols} <= {"X0", "X1"}
        pred = formula_predict(paper.expression.subs({sp.Symbol("X0"): sp.Symbol("x"), sp.Symbol("X1"): sp.Symbol("y")}),
                               NAMES, X)
        assert np.nanmax(np.abs(pred - est.predict_member(m.index, X))) < 0.05 * (1 + np.abs(pred).max()), m.program
    # the formula string parses back and predicts like operon on the training data
    parse_formula(est.formula_, NAMES)
    pred = formula_predict(est.formula_, NAMES, X)
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.01
    assert np.allclose(est.predict(X), pred, atol=5e-3)
    # the front: simplest first, and the exact x*y + 0.1 is on it
    front = est.pareto_front_
    assert [m.length for m in front] == sorted(m.length for m in front)
    assert front[est.chosen_index_].formula == est.formula_
    best = min(np.sqrt(np.mean((formula_predict(m.formula, NAMES, X) - y) ** 2)) for m in front)
    assert best < 1e-3


def test_exact_conversion_equals_operon(fitted):
    """Every front member's unsimplified, unrounded SymPy form equals operon's own evaluation."""
    est, X, _ = fitted
    rng = np.random.default_rng(5)
    X_new = np.column_stack([np.exp(rng.uniform(np.log(0.1), np.log(2.0), 50)), rng.uniform(0.0, 1.0, 50)])
    for m in est.pareto_front_:
        for A in (X, X_new):
            ours = formula_predict(m.conversion.exact, NAMES, A)
            theirs = est.predict_member(m.index, A)
            ok = np.isfinite(theirs)
            assert np.array_equal(ok, np.isfinite(ours)), m.program
            assert np.allclose(ours[ok], theirs[ok], rtol=1e-4, atol=1e-5), m.program
        # rounding to 3 decimals moves predictions only a little on the training points
        rounded = formula_predict(m.formula, NAMES, X)
        assert np.nanmax(np.abs(rounded - est.predict_member(m.index, X))) < 0.05 * (1 + np.abs(rounded).max())


def test_deterministic_and_seeded():
    X, y = data(200, seed=1)
    a = make_regressor(small(), 3, NAMES).fit(X, y)
    b = make_regressor(small(), 3, NAMES).fit(X, y)
    assert [m.formula for m in a.pareto_front_] == [m.formula for m in b.pareto_front_]
    assert a.formula_ == b.formula_


def test_parsimony_selects_simpler_member():
    X, y = data(200, seed=2)
    y = y + 0.3 * np.sin(3 * X[:, 0])
    low = make_regressor(small(parsimony_coefficient=1e-6), 0, NAMES).fit(X, y)
    high = make_regressor(small(parsimony_coefficient=1.0), 0, NAMES).fit(X, y)
    assert high.chosen_index_ == 0  # the shortest member
    assert low.program_length_ >= high.program_length_
    assert len(low.pareto_front_) == len(high.pareto_front_)  # same run, another pick


def test_log_space_formula_in_raw_units():
    X, y = data(200, seed=3)
    y = np.log(X[:, 0]) + X[:, 1]
    est = make_regressor(small(log_space=True), 0, NAMES, [True, False]).fit(X, y)
    assert "log(x)" in est.formula_
    assert np.sqrt(np.mean((formula_predict(est.formula_, NAMES, X) - y) ** 2)) < 0.01
    assert est.program_.count("log_x") >= 1


def test_function_set_mapping_and_errors():
    from symexp.symbolic.operon import allowed_symbols

    assert allowed_symbols(("add", "mul", "neg", "inv")) == "add,mul,div,constant,variable"
    with pytest.raises(SymexpError, match="max not available with SR engine 'operon'"):
        allowed_symbols(("add", "max"))
    with pytest.raises(SymexpError, match="needs at least one of add, sub, mul, div"):
        allowed_symbols(("sin", "cos"))
    X, y = data(50)
    est = make_regressor(small(), 0, NAMES)
    with pytest.raises(SymexpError, match="not fitted"):
        est.predict(X)
    with pytest.raises(SymexpError, match="NaN or infinite"):
        est.fit(X, np.where(np.arange(50) == 3, np.nan, y))
    with pytest.raises(SymexpError, match="X has 50 rows but y has 49"):
        est.fit(X, y[:-1])
    with pytest.raises(SymexpError, match="feature name 'exp' clashes"):
        make_regressor(small(), 0, ["exp", "y"]).fit(X, y)


def test_time_limit_is_passed(monkeypatch):
    """time_limit_s reaches pyoperon as whole seconds (max_time), rounded up."""
    import pyoperon.sklearn as ops

    seen = {}
    original = ops.SymbolicRegressor.__init__

    def spy(self, *args, **kwargs):
        seen.update(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ops.SymbolicRegressor, "__init__", spy)
    X, y = data(50)
    make_regressor(small(time_limit_s=0.2, generations=2), 0, NAMES).fit(X, y)
    assert seen["max_time"] == 1 and seen["n_threads"] == 1 and seen["objectives"] == ["rmse", "length"]
    make_regressor(dataclasses.replace(small(generations=2), time_limit_s=None), 0, NAMES).fit(X, y)
    assert seen["max_time"] is None
