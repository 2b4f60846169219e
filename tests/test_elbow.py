"""The elbow rule of Appendix A (symexp.symbolic.elbow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from symexp.symbolic.elbow import aggregate_sweep, elbow_of_sweep, elbow_point
from symexp.errors import SymexpError

# The parsimony grid of the paper's sweep (Fig. 5/8), as in the authors' plot_complexity_vs_rmse.py.
GRID = [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075]


def test_worked_example_appendix_a():
    """Appendix A: going from high to low parsimony, stop once the next value would add >= 2
    operations while reducing the RMSE by < 10 %. The paper prints the rule but not the
    numbers behind Fig. 8, so the points are typed in here to exercise each clause of the
    sentence along the paper's grid (high -> low):

    0.075 -> 0.05   : +0 ops, RMSE -0 %    (no added ops: continue)
    0.05  -> 0.025  : +1 op,  RMSE -2 %    (< 2 ops: continue)
    0.025 -> 0.01   : +3 ops, RMSE -40 %   (big gain: continue)
    0.01  -> 0.0075 : +2 ops, RMSE -20 %   (gain >= 10 %: continue)
    0.0075 -> 0.005 : +2 ops, RMSE -5 %    (>= 2 ops and < 10 %: STOP at 0.0075)
    (lower values keep adding operations for little gain.)
    """
    p = list(reversed(GRID))
    c = [0, 0, 1, 4, 6, 8, 9, 11, 12, 14, 15, 18]
    r = [0.100, 0.100, 0.098, 0.0588, 0.04704, 0.044688, 0.04, 0.039, 0.0385, 0.038, 0.0378, 0.0377]
    i = elbow_point(p, r, c)
    assert p[i] == 0.0075
    # order of the input does not matter: the index refers to the given arrays
    perm = np.random.default_rng(0).permutation(len(p))
    j = elbow_point(np.array(p)[perm], np.array(r)[perm], np.array(c)[perm])
    assert np.array(p)[perm][j] == 0.0075


def test_thresholds_are_inclusive_exclusive_as_stated():
    # exactly +2 ops ("at least two") with 9.9 % improvement ("less than 10 %") -> stop
    assert elbow_point([0.1, 0.01], [1.0, 0.901], [2, 4]) == 0
    # exactly 10 % improvement is not "less than 10 %" -> continue
    assert elbow_point([0.1, 0.01], [1.0, 0.9], [2, 4]) == 1
    # +1.99 ops (mean over seeds) is fewer than two -> continue
    assert elbow_point([0.1, 0.01], [1.0, 1.0], [2.0, 3.99]) == 1


def test_rmse_increase_with_more_ops_stops():
    assert elbow_point([0.1, 0.01, 0.001], [0.5, 0.6, 0.1], [1, 5, 9]) == 0


def test_no_stop_returns_lowest_parsimony():
    assert elbow_point([0.1, 0.01, 0.001], [0.5, 0.3, 0.1], [1, 5, 9]) == 2


def test_single_point_and_custom_thresholds():
    assert elbow_point([0.01], [0.2], [3]) == 0
    # with a 50 % threshold the 40 % step now stops the descent
    assert elbow_point([0.1, 0.01], [1.0, 0.6], [0, 4], min_rel_improvement=0.5) == 0
    # with min_ops=5 the same step is taken
    assert elbow_point([0.1, 0.01], [1.0, 0.99], [0, 4], min_ops=5) == 1


def test_non_finite_points_are_ignored_and_errors():
    assert elbow_point([0.1, 0.05, 0.01], [1.0, np.nan, 0.5], [0, 1, 3]) == 2
    with pytest.raises(SymexpError):
        elbow_point([0.1, 0.1], [1.0, 0.5], [0, 3])
    with pytest.raises(SymexpError):
        elbow_point([0.1], [np.nan], [1])
    with pytest.raises(SymexpError):
        elbow_point([0.1, 0.2], [1.0], [1, 2])


def test_zero_rmse_cannot_improve():
    assert elbow_point([0.1, 0.01], [0.0, 0.0], [1, 3]) == 0


def test_aggregate_sweep_means_and_elbow_column():
    rows = []
    for p, rmses, ops in [(0.01, [0.2, 0.4], [1, 3]), (0.001, [0.1, 0.1], [5, None])]:
        for k, (r, o) in enumerate(zip(rmses, ops)):
            rows.append({"parsimony": p, "test_rmse": r, "complexity": o, "sr_seed": k})
    df = pd.DataFrame(rows)
    pts = aggregate_sweep(df)
    assert list(pts["parsimony"]) == [0.01, 0.001]
    assert pts["rmse_mean"].tolist() == pytest.approx([0.3, 0.1])
    assert pts["rmse_std"].iloc[0] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert pts["complexity_mean"].tolist() == pytest.approx([2.0, 5.0])  # missing complexity left out
    assert pts["n_complexity"].tolist() == [2, 1]
    pts, chosen = elbow_of_sweep(df)
    assert chosen == 0.001  # +3 ops for a 67 % gain: continue to the lowest value
    assert pts["elbow"].tolist() == [False, True]
