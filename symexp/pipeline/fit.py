"""One symbolic-regression fit of a cell, scored on the test set (runs in a worker process)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from symexp.symbolic.convert import rmse
from symexp.benchmarks.objective import ENVIRONMENT_ERRORS


def fit_symbolic(sr_settings, sr_seed: int, parsimony: float, names: Sequence[str], log_features: Sequence[bool],
                 X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Fit one symbolic regression and score it; returns record fields.

    ``X`` (n, d) and ``X_test`` (k, d) in raw units, ``y`` (n,), ``y_test`` (k,). A fit that
    raises is a result (``status: failed`` with the reason); a failure of the environment
    (out of memory, disk full) propagates and is never recorded.
    """
    from symexp.symbolic import make_regressor

    w0, c0 = time.perf_counter(), time.process_time()
    try:
        settings = dataclasses.replace(sr_settings, parsimony_coefficient=float(parsimony))
        est = make_regressor(settings, int(sr_seed), list(names), list(log_features))
        est.fit(X, y, X_eval=X_test)  # guards of protected ops decided on training + test points
        fields = {
            "status": "ok",
            "test_rmse": rmse(y_test, est.predict(X_test)),
            "train_rmse": rmse(y, est.predict(X)),
            "complexity": int(est.complexity_paper_),  # the paper's count: what the analysis uses
            "formula_complexity": int(est.complexity_),
            "formula": est.formula_,
            "formula_latex": est.latex_,
            "program": est.program_,
            "sr_timed_out": bool(est.timed_out_),
        }
        if not np.isfinite(fields["test_rmse"]):  # e.g. overflow on a grid point: no score to report
            fields = {"status": "failed", "error": "the formula is not finite on the test set",
                      "program": est.program_, "formula": est.formula_}
    except ENVIRONMENT_ERRORS:
        raise
    except Exception as exc:  # a crashed fit is a result to record, not a reason to stop the cell
        fields = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    fields["timings"] = {"sr_fit": {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}}
    return fields
