"""Explain your own HPO run: a formula of how the hyperparameters drive the objective.

``explain(path)`` reads a SMAC3 run directory, an Optuna study or a CSV (:mod:`.readers`), fits
a GP surrogate on the run's evaluations (SMAC's GP, :mod:`.surrogate`), ranks the hyperparameters
by fANOVA on the surrogate, and fits symbolic regression on random configurations of the top-k
numerical hyperparameters labelled by the surrogate (the paper's BO-GP idea, Section 4.1.1),
with the other hyperparameters integrated out by partial dependence (Section 4.1.3).

SR fits the standardised target, with log-scaled hyperparameters entering as ``log10(x)``
(:mod:`.formula`, :mod:`.search`); formulas are written back in the run's units. Every candidate
is scored against the surrogate and the run's own evaluations (:mod:`.quality`); the Pareto front
of accuracy vs complexity (:mod:`.front`) gives the default formula (the simplest within 0.005 of
the best R^2 against the surrogate), and :mod:`.report` writes a report that starts with any
warning about its quality. The steps are in :mod:`.explanation`; the defaults in :mod:`.defaults`.

    from symexp.explain import explain
    result = explain("smac3_output/run/0", out_dir="explanation")
    print(result.chosen.formula, result.warnings)

Categorical hyperparameters enter the surrogate (SMAC's Hamming kernel on the choice index) and
the importances, but never a formula: they are integrated out, and asking for one in the formula
is refused with a message.

This package imports its heavy parts (NumPy, SymPy, SMAC) on first use, so that the command-line
parser stays fast.
"""

from __future__ import annotations

from typing import Any

from symexp.explain.defaults import DEFAULTS, ENGINES

__all__ = ["DEFAULTS", "ENGINES", "Explanation", "RunData", "box_axis", "check_select", "explain", "explain_run",
           "label", "read_run"]

_LAZY = {"Explanation": "explanation", "explain": "explanation", "explain_run": "explanation",
         "box_axis": "explanation", "check_select": "explanation", "label": "explanation",
         "RunData": "readers", "read_run": "readers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"symexp.explain.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'symexp.explain' has no attribute {name!r}")
