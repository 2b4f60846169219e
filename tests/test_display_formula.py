"""Formulas as the paper prints them: protection guards shown only where they act on the space."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symexp.errors import SymexpError
from symexp.symbolic import formula_predict
from symexp.symbolic.display import box_grid, readable_formula

ROOT = Path(__file__).resolve().parents[1]


def same_on(a: str, b: str, names, X) -> bool:
    ya, yb = formula_predict(a, names, X), formula_predict(b, names, X)
    return bool(np.allclose(ya, yb, rtol=1e-9, atol=1e-12, equal_nan=True))


def test_a_cap_that_never_acts_on_the_box_is_left_out():
    r = readable_formula("Min(100000, exp(0.5*x))", ["x"], [(0.0, 10.0)], [False])
    assert r.text == "exp(0.5*x)"
    assert r.footnotes == [] and r.removed == 1


def test_a_cap_that_acts_on_part_of_the_box_is_kept_with_where_and_how_much():
    r = readable_formula("Min(100000, exp(0.5*x))", ["x"], [(0.0, 30.0)], [False])
    assert "Min" in r.text
    [note] = r.footnotes
    # exp(0.5 x) >= 1e5 for x >= 2 ln(1e5) = 23.03: 23 % of [0, 30]
    share = float(note.split(" on ")[1].split(" %")[0])
    assert share == pytest.approx(100 * (30 - 2 * np.log(1e5)) / 30, abs=1.0)
    assert "23" in note.split("(")[-1]


def test_abs_is_dropped_or_negated_by_the_sign_of_its_argument_on_the_box():
    pos = readable_formula("sqrt(Abs(x - 1))", ["x"], [(1.0, 5.0)], [False])
    neg = readable_formula("sqrt(Abs(x - 9))", ["x"], [(1.0, 5.0)], [False])
    mixed = readable_formula("sqrt(Abs(x - 3))", ["x"], [(1.0, 5.0)], [False])
    assert pos.text == "sqrt(x - 1)" and pos.footnotes == []
    assert neg.text == "sqrt(9 - x)" and neg.footnotes == []
    assert "Abs" in mixed.text and len(mixed.footnotes) == 1 and "negative" in mixed.footnotes[0]


def test_a_division_guard_is_resolved_where_the_denominator_never_nears_zero():
    text = "Piecewise((C/gamma, Abs(gamma) > 0.001), (1, True))"
    far = readable_formula(text, ["C", "gamma"], [(1.0, 10.0), (0.01, 1.0)], [False, True])
    near = readable_formula(text, ["C", "gamma"], [(1.0, 10.0), (0.0001, 1.0)], [False, True])
    assert far.text == "C/gamma" and far.footnotes == []
    assert "Piecewise" in near.text and len(near.footnotes) == 1


def test_the_grid_is_log_spaced_on_log_axes_and_includes_the_bounds():
    X = box_grid([(1e-3, 1e3), (0.0, 1.0)], [True, False], points_per_axis=7)
    assert X.shape == (49, 2)
    assert X[:, 0].min() == pytest.approx(1e-3) and X[:, 0].max() == pytest.approx(1e3)
    assert np.allclose(np.unique(np.log10(X[:, 0])), np.linspace(-3, 3, 7))
    with pytest.raises(SymexpError, match="positive lower bound"):
        box_grid([(0.0, 1.0)], [True])


def test_text_that_is_not_a_formula_is_refused_not_run():
    with pytest.raises(SymexpError):
        readable_formula("__import__('os').system('true')", ["x"], [(0.0, 1.0)], [False])


def test_every_committed_formula_reads_the_same_on_its_search_space():
    """The display form equals the stored formula on the grid it is decided on, for every SR
    formula of the committed paper subset, and leaves no guard that never acts."""
    from analysis.views import search_space

    store = ROOT / "results" / "paper_subset" / "store"
    paths = sorted(p for p in store.rglob("*.json") if "/sr_" in str(p))
    assert len(paths) >= 50
    checked = removed = 0
    for path in paths:
        rec = json.loads(path.read_text())
        if rec.get("status") != "ok" or not rec.get("formula"):
            continue
        names = list(rec["hyperparameters"])
        space = search_space(rec["model"], rec["dataset"], rec["protocol"], names)
        bounds = [(float(space[h].lower), float(space[h].upper)) for h in names]
        log = [bool(space[h].log) for h in names]
        r = readable_formula(rec["formula"], names, bounds, log, points_per_axis=61)
        X = box_grid(bounds, log, points_per_axis=61)
        assert same_on(rec["formula"], r.text, names, X), path.name
        checked += 1
        removed += r.removed
    assert checked >= 50 and removed > 0


def test_where_the_argument_is_undefined_a_guard_changes_nothing_and_is_dropped():
    # sqrt(x - 2) is NaN for x < 2; Abs of it is NaN there too, and >= 0 elsewhere
    r = readable_formula("Abs(sqrt(x - 2)) + Min(100000, exp(sqrt(x - 2)))", ["x"], [(0.0, 5.0)], [False])
    assert "Abs" not in r.text and "Min" not in r.text and r.footnotes == [] and r.removed == 2
    assert same_on("Abs(sqrt(x - 2)) + Min(100000, exp(sqrt(x - 2)))", r.text, ["x"], box_grid([(0.0, 5.0)], [False]))
