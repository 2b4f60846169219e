"""Explain your own HPO run: a formula of how the hyperparameters drive the objective.

``explain(path)`` reads a SMAC3 run directory, an Optuna study or a CSV (:mod:`.readers`), fits
a GP surrogate on the run's evaluations (SMAC's GP, :mod:`.surrogate`), ranks the hyperparameters
by fANOVA on the surrogate, and fits symbolic regression on random configurations of the top-k
numerical hyperparameters labelled by the surrogate (the paper's BO-GP idea, Section 4.1.1),
with the other hyperparameters integrated out by partial dependence (Section 4.1.3).

SR fits the standardised target, with a log-scaled hyperparameter ``lr`` entering only as the
variable ``log10_lr = log10(lr)`` (:mod:`.formula`, :mod:`.search`). Every candidate is scored
against the surrogate and the run's own evaluations (:mod:`.quality`), and every front member on
evaluations not used to fit it (:mod:`.heldout`: cross-validation, surrogate and constants refitted
per fold; the report's headline, with a split-conformal interval); the default formula is the knee
of the front on held-out error (:mod:`.front`), and :mod:`.report` writes a report that starts with
any warning about its quality. A candidate that cannot be stored or is undefined on the box is
dropped with a note. The steps are in :mod:`.explanation`; the defaults in :mod:`.defaults`.

    from symexp.explain import explain
    result = explain("smac3_output/run/0", out_dir="explanation")
    print(result.chosen.formula, result.chosen.metrics["heldout"], result.warnings)

    # a stored report's formula at raw hyperparameter values, exactly as printed:
    from symexp.explain import evaluate
    values = evaluate(json.load(open("explanation/summary.json")), {"lr": [1e-3, 1e-2], "depth": [3, 6]})

Categorical hyperparameters enter the surrogate (SMAC's Hamming kernel on the choice index) and
the importances, but never a formula: they are integrated out, and asking for one in the formula
is refused with a message.

This package imports its heavy parts (NumPy, SymPy, SMAC) on first use, so that the command-line
parser stays fast.
"""

from __future__ import annotations

from typing import Any

from symexp.explain.defaults import DEFAULTS, ENGINES

__all__ = ["DEFAULTS", "ENGINES", "Explanation", "RunData", "box_axis", "check_select", "evaluate", "explain",
           "explain_run", "label", "read_run"]

_LAZY = {"Explanation": "explanation", "explain": "explanation", "explain_run": "explanation",
         "box_axis": "explanation", "check_select": "explanation", "label": "explanation",
         "evaluate": "formula", "RunData": "readers", "read_run": "readers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"symexp.explain.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'symexp.explain' has no attribute {name!r}")
