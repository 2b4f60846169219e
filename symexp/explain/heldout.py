"""The held-out quality of a formula: its own accuracy on evaluations not used to fit it.

Why. Every in-sample figure flatters: the GP surrogate interpolates the run's evaluations, the
formula is fitted to the surrogate, so the formula "vs the evaluations" partly sees its own
training data. The headline of a report (``chosen.heldout`` in ``summary.json``) is therefore a
cross-validated figure of the formula *alone*, against the observed objective.

How (``K``-fold cross-validation over the run's evaluations, the folds of the surrogate's own
cross-validation, :func:`symexp.explain.surrogate.cross_validated_models`). For each fold ``k``:

1. the GP surrogate is refitted without the evaluations of fold ``k`` (the same GP, seed and
   restarts as the surrogate's cross-validation; its fits are shared with it);
2. the SR training configurations are relabelled by that fold's surrogate, the other
   hyperparameters integrated out by partial dependence exactly as in the full run;
3. every front formula keeps its *form* and has its numeric constants refitted by least squares
   to those labels (:func:`refit_constants`, started from the full-data values);
4. the refitted formula, alone, predicts fold ``k``'s evaluations from their explained
   hyperparameters (the others at their evaluated values: the formula does not use them).

The held-out predictions of all folds give ``r2`` and ``rmse`` against the observed values, and
the split-conformal half-width ``interval`` (:func:`conformal_halfwidth`): at least
``COVERAGE`` of held-out evaluations lay within +- that much of the formula.

This is cheaper than refitting symbolic regression per fold (which would multiply the run's time
by ``K + 1``): the formula's form is still chosen on all evaluations. The form is a handful of
discrete choices against 400 surrogate labels; what overfits the evaluations is the surrogate and
the constants, and both are refitted per fold. bench/bench_explain.py (``--full-cv``) compares the
two on the benchmark cases (docs/explain.md).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from symexp.explain.formula import Variables
from symexp.explain.quality import fit_stats

COVERAGE = 0.9
#: Levenberg-Marquardt evaluations per constant when refitting constants per fold (they start
#: from the full-data values, so a few steps suffice).
MAX_NFEV = 20
METHOD = ("{k}-fold cross-validation over the run's evaluations: per fold, the GP surrogate refitted without the "
          "fold, the formula's constants refitted to that surrogate's labels (its form kept), the formula alone "
          "predicting the fold's observed values")


def _lambdify_with_params(expr: sp.Expr, variables: Variables):
    """``expr`` as ``f(U, params)`` with its Floats as parameters; returns (f, p0)."""
    from symexp.symbolic.convert import _printer

    floats = sorted(expr.atoms(sp.Float), key=lambda f: (float(f), str(f)))
    params = [sp.Dummy(f"p{i}") for i in range(len(floats))]
    body = expr.xreplace(dict(zip(floats, params)))
    by_name = {s.name: s for s in expr.free_symbols}
    args = [by_name.get(n, sp.Symbol(n)) for n in variables.formula_names]
    fn = sp.lambdify(args + params, body, modules="numpy", dummify=True, printer=_printer())

    def f(U: np.ndarray, p: Sequence[float]) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*[U[:, j] for j in range(U.shape[1])], *p))
        if np.iscomplexobj(out):
            out = np.where(np.abs(out.imag) > 0, np.nan, out.real)
        return np.array(np.broadcast_to(out.astype(float), (U.shape[0],)))

    return f, np.array([float(v) for v in floats])


def refit_constants(f, p0: np.ndarray, U: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares constants of ``f(U, p)`` for ``y``, from ``p0``; ``p0`` when the fit fails
    or does not improve."""
    if len(p0) == 0:
        return p0
    from scipy.optimize import least_squares

    def resid(p):
        r = f(U, p) - y
        return np.where(np.isfinite(r), r, 1e6)

    start = float(np.sum(resid(p0) ** 2))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = least_squares(resid, p0, method="lm", ftol=1e-6, xtol=1e-6, max_nfev=MAX_NFEV * (len(p0) + 1))
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return p0
    if not np.all(np.isfinite(sol.x)) or float(np.sum(resid(sol.x) ** 2)) > start:
        return p0
    return sol.x


def conformal_halfwidth(residuals: np.ndarray, coverage: float = COVERAGE) -> float | None:
    """Split-conformal half-width: the ``ceil((n + 1) coverage)``-th smallest absolute held-out
    residual (None when there are too few residuals for that coverage)."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    n = len(r)
    k = math.ceil((n + 1) * coverage)
    if n == 0 or k > n or not np.all(np.isfinite(r)):
        return None
    return float(r[k - 1])


def heldout_predictions(expr: sp.Expr, variables: Variables, U_train: np.ndarray, fold_labels: list[np.ndarray],
                        fold_tests: list[np.ndarray], X_runs: np.ndarray) -> np.ndarray:
    """Held-out predictions (n,) of ``expr`` at the run's explained configurations ``X_runs``
    (raw): row ``i`` from the formula refitted to the labels of the fold that left ``i`` out."""
    f, p0 = _lambdify_with_params(expr, variables)
    U_runs = variables.transform(X_runs)
    pred = np.full(len(X_runs), np.nan)
    for labels, test in zip(fold_labels, fold_tests):
        p = refit_constants(f, p0, U_train, labels)
        pred[test] = f(U_runs[test], p)
    return pred


def heldout_metrics(pred: np.ndarray, y: np.ndarray, folds: int) -> dict[str, Any]:
    """``{"r2", "rmse", "interval", "coverage", "n", "method"}`` of held-out predictions."""
    stats = fit_stats(pred, y)
    finite = np.isfinite(pred)
    interval = conformal_halfwidth((pred - y)[finite]) if finite.all() else None
    return {"r2": stats["r2"], "rmse": stats["rmse"], "interval": interval, "coverage": COVERAGE,
            "n": int(len(y)), "folds": int(folds), "method": METHOD.format(k=folds)}
