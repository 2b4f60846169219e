"""The quality gate of an explanation: how well each formula reproduces the surrogate and the
run's own evaluations, and the warnings a reader must see first.

For a formula ``f`` of the explained hyperparameters ``S`` (the others ``C`` integrated out):

* **vs the surrogate** (``metrics["surrogate"]``): RMSE and R^2 of ``f`` against the surrogate's
  partial dependence ``PD(x_S)`` on the check grid, a grid that spans the box of ``S`` with its
  bounds. R^2 = 1 - SSE / SST is the share of the surrogate's variation over ``S`` the formula
  reproduces.
* **vs the evaluations** (``metrics["evaluations"]``): at each evaluated configuration
  ``x_i = (x_S, x_C)``, the prediction is ``f(x_S) + s(x_i) - PD(x_S)``: the formula for the
  explained part, and the surrogate's effect of the other hyperparameters at their evaluated
  values (what partial dependence averaged away). RMSE and R^2 against the observed ``y_i``.
  With nothing integrated out this is ``f(x_S)`` against ``y_i``. ``r2_alone`` is the R^2 of
  ``f(x_S)`` alone: the share of the run's variation the formula accounts for by itself.
* **the surrogate** itself: R^2 of its cross-validated predictions (every evaluation predicted by
  a GP fitted without it).
* **held out** (``metrics["heldout"]``, the report's headline): the formula alone on evaluations
  not used to fit it (:mod:`symexp.explain.heldout`). The two figures above are in-sample.

Warnings (:func:`warnings_for`), shown at the top of the report, in the command's output and in
``summary.json``: "nothing to explain" when neither the surrogate nor the formula predicts
held-out evaluations (R^2 below ``NOTHING_R2``), a held-out R^2 below ``R2_WARNING`` or more than
``HELDOUT_GAP`` below the surrogate's cross-validated one, R^2 vs the surrogate below
``R2_WARNING``, a constant
formula or a missing variable while a hyperparameter has importance above
``IMPORTANCE_WARNING``, a surrogate whose cross-validated R^2 is below ``SURROGATE_WARNING``, and
a formula that is undefined somewhere on the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symexp.explain.formula import Variables

R2_WARNING = 0.5
IMPORTANCE_WARNING = 0.2
SURROGATE_WARNING = 0.5
#: Warn when the formula's held-out R^2 is this far below the surrogate's cross-validated R^2.
HELDOUT_GAP = 0.2
#: "Nothing to explain" when both the surrogate's cross-validated and the formula's held-out R^2 are below this.
NOTHING_R2 = 0.1


@dataclass(frozen=True)
class Reference:
    """What formulas are checked against.

    Attributes
    ----------
    variables : Variables           the explained hyperparameters and the formula's symbols
    X_check : ndarray (m, k)        check grid over the box of the explained hyperparameters (raw)
    y_check : ndarray (m,)          surrogate PD there
    X_runs : ndarray (n, k)         the run's evaluated values of the explained hyperparameters
    y_runs : ndarray (n,)           the run's observed values
    others_effect : ndarray (n,)    ``s(x_i) - PD(x_S,i)``: the surrogate's effect of the other
                                    hyperparameters at their evaluated values (zeros if none)
    """

    variables: Variables
    X_check: np.ndarray
    y_check: np.ndarray
    X_runs: np.ndarray
    y_runs: np.ndarray
    others_effect: np.ndarray


def fit_stats(pred: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """``{"rmse", "r2"}`` of ``pred`` against ``target``; None where not finite / defined."""
    pred, target = np.asarray(pred, float), np.asarray(target, float)
    if not np.all(np.isfinite(pred)):
        return {"rmse": None, "r2": None}
    sse = float(np.sum((pred - target) ** 2))
    sst = float(np.sum((target - target.mean()) ** 2))
    return {"rmse": math.sqrt(sse / len(target)), "r2": (1.0 - sse / sst) if sst > 0 else None}


def score(expr, ref: Reference) -> dict[str, Any]:
    """The metrics of one formula (see the module docstring)."""
    on_grid = ref.variables.predict(expr, ref.X_check)
    finite = bool(np.all(np.isfinite(on_grid)))
    alone = ref.variables.predict(expr, ref.X_runs)
    runs = fit_stats(alone + ref.others_effect, ref.y_runs)
    runs["r2_alone"] = fit_stats(alone, ref.y_runs)["r2"]
    return {"surrogate": fit_stats(on_grid, ref.y_check), "evaluations": runs, "finite_on_box": finite}


def _pct(v: float) -> str:
    return f"{v:.2f}"


def warnings_for(metrics: dict[str, Any], free_names: set[str], explained: list[str],
                 importance: dict[str, float], surrogate_cv_r2: float | None, label: dict[str, str]) -> list[str]:
    """Warnings about the chosen formula (``metrics`` from :func:`score`, with ``heldout`` when
    computed; ``free_names`` the hyperparameters it uses); ``label`` maps names to display names.
    The held-out R^2 (:mod:`symexp.explain.heldout`) is the figure judged; the in-sample R^2 vs
    the evaluations only when there is none (cross-validation skipped)."""
    out = []
    if not metrics.get("finite_on_box", True):
        out.append("The formula is undefined (NaN or infinite) on part of the space's box; do not use it there.")
    r2s = metrics.get("surrogate", {}).get("r2")
    if r2s is None or r2s < R2_WARNING:
        out.append(f"The formula reproduces only {'an undefined share' if r2s is None else f'R^2 = {_pct(r2s)}'} of "
                   f"the surrogate's variation over {', '.join(label.get(n, n) for n in explained)} (threshold "
                   f"{R2_WARNING}); it explains little. Look at the front for a richer formula and at the landscape plot.")
    held = metrics.get("heldout")
    if held is not None:
        r2h = held.get("r2")
        flat = surrogate_cv_r2 is not None and surrogate_cv_r2 < NOTHING_R2 and (r2h is None or r2h < NOTHING_R2)
        if flat:
            out.insert(0, f"Nothing to explain: neither the surrogate (cross-validated R^2 = {_pct(surrogate_cv_r2)}) "
                          f"nor the formula (held-out R^2 = {'undefined' if r2h is None else _pct(r2h)}) predicts "
                          f"held-out evaluations better than their mean; over this space the objective varies like "
                          f"noise, and no formula here is a finding.")
        elif r2h is None or r2h < R2_WARNING:
            out.append(f"On evaluations not used to fit it, the formula alone reaches only "
                       f"{'an undefined R^2' if r2h is None else f'R^2 = {_pct(r2h)}'} (held-out, threshold "
                       f"{R2_WARNING}); it does not predict what the run observed.")
        elif surrogate_cv_r2 is not None and surrogate_cv_r2 - r2h > HELDOUT_GAP:
            out.append(f"The formula's held-out R^2 ({_pct(r2h)}) is far below the surrogate's cross-validated R^2 "
                       f"({_pct(surrogate_cv_r2)}, gap over {HELDOUT_GAP}): the hyperparameters integrated out or "
                       f"a richer formula of the front explain what this one misses.")
    else:
        r2e = metrics.get("evaluations", {}).get("r2")
        if r2e is None or r2e < R2_WARNING:
            out.append(f"Against the run's own evaluations the formula reaches only "
                       f"{'an undefined R^2' if r2e is None else f'R^2 = {_pct(r2e)}'} (threshold {R2_WARNING}); it "
                       f"does not describe what the run observed.")
    top = sorted(importance.items(), key=lambda kv: -kv[1])
    strong = [(n, v) for n, v in top if v > IMPORTANCE_WARNING]
    if not free_names and strong:
        out.append(f"The formula is constant although {', '.join(f'{label.get(n, n)} (importance {v:.2f})' for n, v in strong)} "
                   f"clearly matter{'s' if len(strong) == 1 else ''}; it explains nothing about them.")
    elif free_names:
        unused = [(n, v) for n, v in strong if n in explained and n not in free_names]
        if unused:
            out.append(f"{', '.join(f'{label.get(n, n)} (importance {v:.2f})' for n, v in unused)} "
                       f"{'does' if len(unused) == 1 else 'do'} not appear in the formula although "
                       f"{'it matters' if len(unused) == 1 else 'they matter'}.")
    if surrogate_cv_r2 is not None and surrogate_cv_r2 < SURROGATE_WARNING:
        out.append(f"The GP surrogate predicts held-out evaluations poorly (cross-validated R^2 = "
                   f"{_pct(surrogate_cv_r2)}, threshold {SURROGATE_WARNING}); every formula here describes the "
                   f"surrogate, so treat it with caution (more evaluations help).")
    return out
