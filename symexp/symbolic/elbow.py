"""The elbow rule for choosing the parsimony coefficient (paper, Section 4.1.2 and Appendix A).

Appendix A: start with a high parsimony (a simple formula, usually a higher error) and lower it
step by step; "we stop decreasing the parsimony parameter once the next value of the parsimony
parameter would increase the operation count by at least two while decreasing the RMSE by less
than 10%". The chosen value is the last one *before* that step.

Each parsimony value is summarised by one point: the mean test RMSE and the mean operation
count over its runs (sampling seeds x SR seeds). That is how the authors' sweep script
(``plot_complexity_vs_rmse.py`` in automl/symbolic-explanations-hpo) builds the points of
Fig. 5/8: ``rmse_test.mean()`` and ``program_operations.mean()`` per parsimony value, runs whose
complexity could not be computed left out of the complexity mean. :func:`aggregate_sweep` does
the same on symexp records; :func:`elbow_point` applies the rule to the points.

Details the paper leaves open, decided here:

- "adds at least 2 operations" compares mean operation counts: ``c[next] - c[current] >= min_ops``;
- "reduces RMSE by less than 10 %" is relative to the current value:
  ``(r[current] - r[next]) / r[current] < min_rel_improvement``; an RMSE that *grows* is a
  reduction below 10 % too, so such a step stops the descent when it also adds >= 2 operations;
- a step that adds fewer than ``min_ops`` operations is always taken (it costs no
  interpretability by the rule's measure), whatever it does to the RMSE;
- if no step meets the stop condition, the lowest parsimony value is chosen;
- points with a non-finite RMSE or complexity are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from symexp.errors import SymexpError

MIN_OPS = 2
MIN_REL_IMPROVEMENT = 0.10
_EPS = 1e-9


def elbow_point(
    parsimony: Sequence[float] | np.ndarray,
    rmse: Sequence[float] | np.ndarray,
    complexity: Sequence[float] | np.ndarray,
    min_ops: float = MIN_OPS,
    min_rel_improvement: float = MIN_REL_IMPROVEMENT,
) -> int:
    """Index (into the given arrays) of the parsimony value chosen by the elbow rule.

    Parameters
    ----------
    parsimony, rmse, complexity : array-like of equal length
        One point per parsimony value (any order; values must be distinct), e.g. mean test
        RMSE and mean operation count over the runs of that value (see :func:`aggregate_sweep`).
    min_ops : float
        Stop when the next lower parsimony adds at least this many operations ...
    min_rel_improvement : float
        ... while reducing the RMSE by less than this fraction of the current RMSE.

    Returns
    -------
    int
        Position of the chosen point in the input arrays; ``parsimony[index]`` is the value.
    """
    p = np.asarray(parsimony, dtype=float)
    r = np.asarray(rmse, dtype=float)
    c = np.asarray(complexity, dtype=float)
    if not (p.ndim == r.ndim == c.ndim == 1 and len(p) == len(r) == len(c)):
        raise SymexpError(f"parsimony, rmse and complexity must be 1-d and of equal length, got {p.shape}, {r.shape}, {c.shape}")
    valid = np.flatnonzero(np.isfinite(p) & np.isfinite(r) & np.isfinite(c))
    if len(valid) == 0:
        raise SymexpError("elbow rule needs at least one parsimony value with finite RMSE and complexity")
    if len(np.unique(p[valid])) != len(valid):
        raise SymexpError("parsimony values must be distinct (aggregate the runs of each value first)")
    order = valid[np.argsort(-p[valid], kind="stable")]  # high -> low parsimony
    current = order[0]
    for nxt in order[1:]:
        added_ops = c[nxt] - c[current]
        if r[current] > 0:
            rel_improvement = (r[current] - r[nxt]) / r[current]
        else:  # nothing left to improve
            rel_improvement = 0.0
        if added_ops >= min_ops - _EPS and rel_improvement < min_rel_improvement - _EPS:
            return int(current)
        current = nxt
    return int(current)


def aggregate_sweep(records: pd.DataFrame) -> pd.DataFrame:
    """One point per parsimony value from the ok records of one sweep (one model/dataset/method).

    Returns columns ``parsimony, rmse_mean, rmse_std, complexity_mean, complexity_std, n_runs,
    n_complexity`` sorted by decreasing parsimony. Standard deviations use ``ddof=1``. The
    complexity mean leaves out runs without a complexity (as the authors leave out ``-1``).
    """
    cols = ["parsimony", "rmse_mean", "rmse_std", "complexity_mean", "complexity_std", "n_runs", "n_complexity"]
    if len(records) == 0:
        return pd.DataFrame(columns=cols)
    df = records.assign(
        parsimony=pd.to_numeric(records["parsimony"], errors="coerce").astype(float),
        test_rmse=pd.to_numeric(records["test_rmse"], errors="coerce").astype(float),
        complexity=pd.to_numeric(records["complexity"], errors="coerce").astype(float),
    )
    df = df[np.isfinite(df["parsimony"]) & np.isfinite(df["test_rmse"])]
    if len(df) == 0:
        return pd.DataFrame(columns=cols)
    g = df.groupby("parsimony")
    out = pd.DataFrame({
        "rmse_mean": g["test_rmse"].mean(),
        "rmse_std": g["test_rmse"].std(ddof=1),
        "complexity_mean": g["complexity"].mean(),
        "complexity_std": g["complexity"].std(ddof=1),
        "n_runs": g["test_rmse"].count(),
        "n_complexity": g["complexity"].count(),
    }).reset_index()
    return out.sort_values("parsimony", ascending=False, ignore_index=True)[cols]


def elbow_of_sweep(records: pd.DataFrame, min_ops: float = MIN_OPS,
                   min_rel_improvement: float = MIN_REL_IMPROVEMENT) -> tuple[pd.DataFrame, float | None]:
    """:func:`aggregate_sweep` plus an ``elbow`` column; also returns the chosen parsimony (or None)."""
    pts = aggregate_sweep(records)
    pts["elbow"] = False
    ok = np.isfinite(pts["rmse_mean"].to_numpy(dtype=float)) & np.isfinite(pts["complexity_mean"].to_numpy(dtype=float))
    if not ok.any():
        return pts, None
    i = elbow_point(pts["parsimony"], pts["rmse_mean"], pts["complexity_mean"], min_ops, min_rel_improvement)
    pts.loc[i, "elbow"] = True
    return pts, float(pts.loc[i, "parsimony"])
