"""Unit tests of the pieces of ``symexp explain`` that need no fit: formulas in the user's units
(:mod:`symexp.explain.formula`), the quality gate (:mod:`symexp.explain.quality`), the default
choice on the front, the check grid and the readers' space inference; one small operon fit checks
that operon's formulas need no ``sympy.simplify``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import log10

from symexp.errors import SymexpError
from symexp.explain.explanation import box_grid
from symexp.explain.formula import (
    Variables,
    from_tree,
    functions_used,
    guard_notes,
    evaluate,
    latex,
    mathml,
    predict,
    round_adaptive,
    round_significant,
    to_tree,
    write_back,
)
from symexp.explain.front import accuracy_choice
from symexp.explain.quality import Reference, fit_stats, score, warnings_for
from symexp.benchmarks.space import Numerical, SearchSpace

SPACE = SearchSpace((Numerical("lr", 1e-4, 1.0, log=True), Numerical("max_depth", 1, 12, integer=True)))


def test_variables_log10_by_default_and_raw_on_request():
    v = Variables.of(SPACE, "log10")
    assert v.log10 == (True, False)
    X = np.array([[1e-3, 4.0], [0.1, 7.0]])
    assert np.allclose(v.transform(X), [[-3.0, 4.0], [-1.0, 7.0]])
    assert v.describe()[0]["enters_as"] == "log10(lr)" and v.describe()[0]["enters_range"] == [-4.0, 0.0]
    assert v.formula_names == ["log10_lr", "max_depth"] and v.describe()[0]["symbol"] == "log10_lr"
    raw = Variables.of(SPACE, "raw")
    assert raw.log10 == (False, False) and np.allclose(raw.transform(X), X)
    assert raw.formula_names == ["lr", "max_depth"]
    with pytest.raises(SymexpError, match="unknown units"):
        Variables.of(SPACE, "ln")


def test_write_back_gives_user_units():
    """A formula fitted on z = (y - mean) / std over u = log10(lr) predicts y from raw lr."""
    v = Variables.of(SPACE, "log10")
    u, d = sp.Symbol("log10_lr", real=True), sp.Symbol("max_depth", real=True)
    expr_z = 0.5 * u**2 - sp.exp(-0.3 * d)
    expr = write_back(expr_z, v, mean=0.08, std=0.01)
    X = np.array([[1e-3, 2.0], [0.5, 11.0]])
    expected = 0.08 + 0.01 * (0.5 * np.log10(X[:, 0]) ** 2 - np.exp(-0.3 * X[:, 1]))
    assert np.allclose(v.predict(expr, X), expected)
    assert "log10_lr" in str(expr)
    with pytest.raises(SymexpError, match="unknown symbol"):
        write_back(sp.Symbol("w"), v, 0.0, 1.0)


def test_one_unit_per_hyperparameter_survives_simplification():
    """An exponential of the log10 variable stays one: simplification cannot turn it into a raw
    power of lr, so lr appears only as log10_lr."""
    v = Variables.of(SPACE, "log10")
    u = sp.Symbol("log10_lr", real=True)
    expr = write_back(0.4 * sp.exp(2.303 * u) + sp.log(10 ** u), v, 0.1, 1.0)
    for e in (expr, sp.simplify(expr), sp.powsimp(sp.expand(expr), force=True)):
        assert {s.name for s in e.free_symbols} == {"log10_lr"}
        assert not any(isinstance(n, log10) for n in sp.preorder_traversal(e))
    X = np.array([[1e-3, 2.0], [0.5, 11.0]])
    assert np.allclose(v.predict(sp.simplify(expr), X), v.predict(expr, X))


def test_stored_formula_evaluates_exactly_as_printed():
    """symexp.explain.evaluate reads a summary's tree and takes raw hyperparameter values; it
    gives what the printed text gives with log10_lr = log10(lr)."""
    v = Variables.of(SPACE, "log10")
    lr_u, d = v.symbols()
    expr = round_significant(0.2971 * lr_u**2 + 0.05123 * d + 0.00397 * sp.exp(-0.5 * lr_u), 4)
    summary = {"variables": v.describe(), "explained": v.names,
               "chosen": {"tree": json.loads(json.dumps(to_tree(expr))), "formula": str(expr)},
               "front": [{"tree": to_tree(d)}]}
    X = np.array([[1e-3, 2.0], [0.5, 11.0]])
    printed = sp.sympify(summary["chosen"]["formula"])  # test only: the text as a reader would type it
    by_text = [float(printed.subs({"log10_lr": math.log10(lr), "max_depth": dd})) for lr, dd in X]
    assert np.allclose(evaluate(summary, X), by_text, rtol=1e-12)
    assert np.allclose(evaluate(summary, {"lr": X[:, 0], "max_depth": X[:, 1], "other": [0, 0]}), by_text)
    assert np.allclose(evaluate(summary, X, position=0), X[:, 1])
    with pytest.raises(SymexpError, match="lack"):
        evaluate(summary, {"lr": X[:, 0]})
    from symexp.explain import evaluate as public

    assert public is evaluate


def test_numbers_go_into_the_one_sum_of_a_product():
    from symexp.explain.formula import absorb_numbers

    n, d = sp.Symbol("n", positive=True), sp.Symbol("d", positive=True)
    expr = 121.1 * n**0.896 * (0.0003684 * d + 0.001601) - 8.25
    out = absorb_numbers(expr)
    assert str(out) == "n**0.896*(0.04461324*d + 0.1938811) - 8.25"
    assert absorb_numbers(2 * n * (d + 1) * (d + 2)) == 2 * n * (d + 1) * (d + 2)  # two sums: unchanged
    X = np.array([[10.0, 3.0], [500.0, 7.0]])
    assert np.allclose(predict(out, ["n", "d"], X), predict(expr, ["n", "d"], X))


def test_rounding_is_as_short_as_the_tolerance_allows():
    x = sp.Symbol("x", positive=True)
    X = np.linspace(1, 2, 50).reshape(-1, 1)
    expr = 0.0812345678 + 0.0123456789 * x
    assert str(round_adaptive(expr, ["x"], X, scale=0.1)) == "0.0123*x + 0.0812"
    assert str(round_adaptive(expr, ["x"], X, scale=0.01)) == "0.01235*x + 0.08123"  # a tighter spread
    # a cost of order 1000 with a small spread needs more digits than 3
    big = 1000.123456 + 0.5 * x
    kept = round_adaptive(big, ["x"], X, scale=0.15)
    assert np.sqrt(np.mean((predict(kept, ["x"], X) - predict(big, ["x"], X)) ** 2)) <= 0.002 * 0.15
    assert str(round_significant(2.0 * x**2.0, 3)) == "2*x**2"


def test_unfaithful_simplification_falls_back():
    """A formula that does not reproduce the engine's own values on the box (here sqrt(u) for a
    program computing sqrt(|u|) over negative u) is replaced by the unsimplified form."""
    from symexp.explain.search import faithful

    u = sp.Symbol("u", real=True)
    U = np.linspace(-2, 2, 41).reshape(-1, 1)
    exact = sp.sqrt(sp.Abs(u))
    expr, note = faithful(sp.sqrt(u), np.sqrt(np.abs(U[:, 0])), ["u"], U, lambda: exact)
    assert expr == exact and "unsimplified" in note
    assert faithful(exact, np.sqrt(np.abs(U[:, 0])), ["u"], U, lambda: None) == (exact, None)


def test_tree_round_trip_and_refusal():
    lr = sp.Symbol("lr", positive=True)
    d = sp.Symbol("max_depth", positive=True)
    expr = (0.1 * log10(lr) ** 2 + sp.Rational(1, 3) * sp.exp(-0.5 * d) + sp.sqrt(d) / (lr + 2)
            + sp.Piecewise((1 / (lr - 0.5), sp.Abs(lr - 0.5) > sp.Rational(1, 1000)), (1, True))
            + sp.Min(sp.exp(d), 100000) + sp.E)
    tree = json.loads(json.dumps(to_tree(expr)))
    back = from_tree(tree, [lr, d])
    X = np.array([[0.1, 2.0], [0.9, 5.0]])
    assert np.allclose(predict(back, ["lr", "max_depth"], X), predict(expr, ["lr", "max_depth"], X))
    with pytest.raises(SymexpError, match="malformed"):
        from_tree({"op": "__import__", "args": []}, [lr])
    with pytest.raises(SymexpError, match="unknown symbol"):
        from_tree({"symbol": "os"}, [lr])
    with pytest.raises(SymexpError, match="cannot store"):
        to_tree(sp.gamma(lr))


def test_guard_notes_say_where_a_guard_acts():
    x = sp.Symbol("x", real=True)
    space = Variables.of(SearchSpace((Numerical("x", 0.0, 1.0),)), "raw")
    X = np.linspace(0, 1, 101).reshape(-1, 1)
    expr = sp.Piecewise((1 / (x - 0.2), sp.Abs(x - 0.2) > 0.045), (1, True))
    notes = guard_notes(expr, space, X)
    assert len(notes) == 1 and "x in [0.16, 0.24]" in notes[0] and "9%" in notes[0] and "of the box" in notes[0]
    assert guard_notes(1 / (x + 1), space, X) == []
    capped = sp.Min(sp.exp(10 * x), 100)
    assert "x in [0.47" in guard_notes(capped, space, X)[0]


def test_typesetting_is_offline_and_verbatim():
    lr = sp.Symbol("learning_rate", positive=True)
    expr = 0.5 * log10(lr) ** 2 + sp.Piecewise((lr, lr < 0.5), (0, True))
    tex = latex(expr)
    assert r"\log_{10}" in tex and r"\mathit{learning\_rate}" in tex
    mml = mathml(expr)
    assert mml.startswith("<math") and "<mi>learning_rate</mi>" in mml
    assert "<msub><mi>log</mi><mn>10</mn></msub>" in mml
    assert "<mo><</mo>" not in mml and "&lt;" in mml  # HTML-safe
    assert functions_used([expr]) == ["log10", "Piecewise"]


def test_fit_stats_and_score_with_integrated_out_effect():
    assert fit_stats(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == {"rmse": 0.0, "r2": 1.0}
    assert fit_stats(np.array([np.nan, 1.0]), np.array([1.0, 2.0]))["r2"] is None
    assert fit_stats(np.array([1.0, 1.0]), np.array([2.0, 2.0]))["r2"] is None  # no variance to explain
    x = sp.Symbol("x", real=True)
    Xc = np.linspace(0, 1, 11).reshape(-1, 1)
    Xr = np.array([[0.1], [0.5], [0.9]])
    effect = np.array([0.2, -0.1, 0.0])
    v = Variables.of(SearchSpace((Numerical("x", 0.0, 1.0),)), "raw")
    ref = Reference(v, Xc, 2 * Xc[:, 0], Xr, 2 * Xr[:, 0] + effect, effect)
    m = score(2 * x, ref)
    assert m["surrogate"]["r2"] == pytest.approx(1.0) and m["evaluations"]["r2"] == pytest.approx(1.0)
    assert m["evaluations"]["r2_alone"] < 1.0 and m["finite_on_box"]
    assert not score(sp.log(x), ref)["finite_on_box"]  # log(0) on the box


def _metrics(r2s, r2e, finite=True):
    return {"surrogate": {"rmse": 0.1, "r2": r2s}, "evaluations": {"rmse": 0.1, "r2": r2e, "r2_alone": r2e},
            "finite_on_box": finite}


def test_warnings_for_each_kind_of_poor_result():
    imp = {"a": 0.6, "b": 0.3, "c": 0.01}
    assert warnings_for(_metrics(0.99, 0.95), {"a", "b"}, ["a", "b"], imp, 0.9, {}) == []
    w = warnings_for(_metrics(0.3, 0.2), {"a"}, ["a", "b"], imp, 0.9, {})  # no held-out figure: in-sample judged
    assert any("R^2 = 0.30" in x for x in w) and any("evaluations" in x and "0.20" in x for x in w)
    assert any(x.startswith("b (importance 0.30) does not appear") for x in w)
    w = warnings_for(_metrics(0.0, 0.0), set(), ["a", "b"], imp, 0.9, {"a": "classifier:a"})
    assert any("constant" in x and "classifier:a (importance 0.60)" in x for x in w)
    w = warnings_for(_metrics(0.99, 0.95), {"a", "b"}, ["a", "b"], imp, 0.2, {})
    assert len(w) == 1 and "cross-validated R^2 = 0.20" in w[0]
    assert any("undefined" in x for x in warnings_for(_metrics(None, 0.9, finite=False), {"a"}, ["a"], imp, None, {}))


def _held(r2s, r2h):
    return dict(_metrics(r2s, 0.99), heldout={"r2": r2h, "rmse": 0.1})


def test_warnings_judge_the_held_out_figure():
    """The held-out R^2 is judged, not the flattering in-sample one: below 0.5, far below the
    surrogate's cross-validated R^2, and 'nothing to explain' when neither predicts."""
    imp = {"a": 0.6, "b": 0.3}
    assert warnings_for(_held(0.99, 0.9), {"a", "b"}, ["a", "b"], imp, 0.95, {}) == []
    w = warnings_for(_held(0.99, 0.4), {"a", "b"}, ["a", "b"], imp, 0.95, {})
    assert len(w) == 1 and "held-out" in w[0] and "0.40" in w[0]
    w = warnings_for(_held(0.99, 0.6), {"a", "b"}, ["a", "b"], imp, 0.9, {})
    assert len(w) == 1 and "far below" in w[0] and "0.60" in w[0] and "0.90" in w[0]
    w = warnings_for(_held(0.9, 0.05), {"a", "b"}, ["a", "b"], imp, 0.02, {})
    assert w[0].startswith("Nothing to explain")


def test_knee_rule_along_the_front():
    """The paper's elbow rule along the held-out error: a step of 1 operation that helps is taken;
    a 2+ operation step needs 10 % less error, looked for past small steps; tiny gains (below 2 %
    of the objective's std) never count."""
    from symexp.explain.front import knee_index

    c = [1, 3, 5, 6, 7, 13]
    #    0.30 -> 0.29 (+2, 3 %) is not worth it, but 0.20 (+4, 33 %) is; 0.199 (+1) is taken;
    #    0.25 is worse; 0.18 at +7 operations is 9.5 % less: stop.
    r = [0.30, 0.29, 0.20, 0.199, 0.25, 0.18]
    assert knee_index(c, r) == 3
    assert knee_index(c, [0.30, 0.29, 0.20, 0.199, 0.25, 0.17]) == 5  # 14.6 % less: worth 7 operations
    assert knee_index(c, [0.30, 0.29, 0.20, 0.199, 0.25, 0.17], scale=2.0) == 3  # 0.029 < 2 % of 2.0
    assert knee_index(c, [None, 0.5, None, 0.4, 0.45, 0.1]) == 5
    assert knee_index([1, 2], [None, float("nan")]) == 0


def test_conformal_halfwidth_covers_the_stated_share():
    from symexp.explain.heldout import conformal_halfwidth

    r = np.arange(1, 20, dtype=float)  # 19 residuals: the ceil(20 * 0.9) = 18th smallest
    assert conformal_halfwidth(r) == 18.0
    assert conformal_halfwidth(-r) == 18.0
    assert conformal_halfwidth(np.arange(1, 11, dtype=float)) == 10.0  # ceil(11 * 0.9) = 10th of 10, not the 9th
    assert conformal_halfwidth(np.arange(1, 5, dtype=float)) is None  # too few for 90 %
    rng = np.random.default_rng(0)
    res = rng.normal(size=2000)
    q = conformal_halfwidth(res[:1000])
    assert 0.87 <= np.mean(np.abs(res[1000:]) <= q) <= 0.93


def test_constants_refitted_per_fold_keep_the_form():
    """Held-out predictions come from the formula's form with constants refitted to each fold's
    labels: a form that is right recovers the fold's constants."""
    from symexp.explain.heldout import heldout_predictions

    v = Variables.of(SPACE, "log10")
    u, d = v.symbols()
    expr = 0.3 * u**2 + 0.01 * d + 0.5
    rng = np.random.default_rng(1)
    X_train = np.column_stack([10 ** rng.uniform(-4, 0, 100), rng.integers(1, 13, 100).astype(float)])
    U = v.transform(X_train)
    labels = [0.2 * U[:, 0] ** 2 + 0.05 * U[:, 1] + 0.1, 0.3 * U[:, 0] ** 2 + 0.01 * U[:, 1] + 0.5]
    X_runs = X_train[:10]
    tests = [np.arange(0, 5), np.arange(5, 10)]
    pred = heldout_predictions(expr, v, U, labels, tests, X_runs)
    assert np.allclose(pred[:5], labels[0][:5], atol=1e-6) and np.allclose(pred[5:], labels[1][5:10], atol=1e-6)


def test_unstorable_candidates_are_guarded_or_dropped():
    """ITE (from simplified guards) is rewritten with And/Or; zoo in a dead branch becomes nan; a
    candidate undefined on the box is dropped with a note, never a crash."""
    from sympy.logic.boolalg import ITE

    from symexp.explain.formula import storable
    from symexp.explain.search import Unusable, _finish, drop_note

    x, y = sp.symbols("x y", real=True)
    with_ite = sp.Piecewise((x, ITE(x > 0, y > 0, y < -1)), (0, True))
    out = storable(with_ite)
    assert not out.atoms(ITE) and to_tree(out)
    X = np.array([[1.0, 1.0], [1.0, -0.5], [-1.0, -2.0], [-1.0, 0.5]])
    assert np.allclose(predict(out, ["x", "y"], X), predict(with_ite, ["x", "y"], X))
    assert to_tree(storable(sp.Piecewise((sp.zoo, x > 5), (x, True))))
    v = Variables.of(SearchSpace((Numerical("x", 0.0, 1.0),)), "raw")
    U = np.linspace(0, 1, 11).reshape(-1, 1)
    with pytest.raises(Unusable, match="NaN or infinite"):
        _finish(sp.log(sp.Symbol("x")), v, 0.0, 1.0, U)
    with pytest.raises(Unusable):  # a function the store does not know
        _finish(sp.gamma(sp.Symbol("x") + 1), v, 0.0, 1.0, U)
    assert "2 gplearn (NaN or infinite on the box)" in drop_note([("gplearn", "NaN or infinite on the box")] * 2)
    assert drop_note([]) is None


def test_accuracy_choice_takes_the_simplest_near_the_best():
    assert accuracy_choice([0.34, 0.41, 0.84, 0.9972, 0.9975, 0.999]) == 3
    assert accuracy_choice([0.5, 0.6, 0.7]) == 2
    assert accuracy_choice([None, 0.8, 0.805]) == 1
    assert accuracy_choice([0.2, 0.2], tolerance=0.0) == 0


def test_box_grid_spans_bounds_and_integers():
    G = box_grid(SPACE, 400)
    assert G[:, 0].min() == pytest.approx(1e-4) and G[:, 0].max() == pytest.approx(1.0)
    assert set(np.unique(G[:, 1])) == set(range(1, 13))  # every integer of a short range
    assert len(G) == 20 * 12
    lr = np.unique(G[:, 0])
    assert np.allclose(np.diff(np.log(lr)), math.log(1e4) / 19)  # log-spaced


def test_inferred_space_is_log_scaled_for_wide_positive_columns(tmp_path):
    import pandas as pd

    from symexp.explain import read_run

    rng = np.random.default_rng(0)
    pd.DataFrame({"lr": 10 ** rng.uniform(-4, 0, 20), "frac": rng.uniform(0.1, 0.9, 20),
                  "cost": rng.uniform(size=20)}).to_csv(tmp_path / "r.csv", index=False)
    run = read_run(tmp_path / "r.csv")
    assert run.space["lr"].log and not run.space["frac"].log
    assert any("log-scaled when positive" in n for n in run.notes)


def test_operon_formulas_unsimplified_by_default_predict_like_simplified():
    """Skipping ``sympy.simplify`` for operon (the default) changes only the printed form: the same
    programs (same seed) give formulas with the same values on the box, in the user's units."""
    from symexp.explain.explanation import sr_settings
    from symexp.explain.search import search

    rng = np.random.default_rng(0)
    X = np.column_stack([10 ** rng.uniform(-4, 0, 60), rng.integers(1, 13, 60).astype(float)])
    y = 0.1 + 0.02 * np.log10(X[:, 0]) ** 2 + 0.003 * X[:, 1]
    X_check = box_grid(SPACE, 200)
    v = Variables.of(SPACE, "log10")
    base = sr_settings(population_size=200, generations=5, time_limit_s=None)
    plain = search(X, y, X_check, v, "operon", base, [0], [])
    simplified = search(X, y, X_check, v, "operon", base, [0], [], simplify_operon=True)
    assert [f.program for f in plain] == [f.program for f in simplified] and len(plain) > 1
    for a, b in zip(plain, simplified):
        pa, pb = v.predict(a.expression, X_check), v.predict(b.expression, X_check)
        assert np.allclose(pa, pb, rtol=1e-3, atol=1e-3 * np.std(y)), (a.formula, b.formula)
    best = min(plain, key=lambda f: float(np.mean((v.predict(f.expression, X) - y) ** 2)))
    assert math.sqrt(float(np.mean((v.predict(best.expression, X) - y) ** 2))) < 0.2 * np.std(y)
