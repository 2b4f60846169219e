"""Symbolic regression (gplearn, or operon) and SymPy formulas for symexp.

- :class:`SRSettings`: the settings of a fit (validated, hashable), including the ``engine``.
- :class:`SymbolicRegression`: fit / predict, with a wall-clock cap, the formula in raw units.
- :class:`OperonRegression`: the same interface on pyoperon, plus its Pareto front
  (:mod:`symexp.symbolic.operon`).
- :func:`make_regressor`: the estimator of ``settings.engine``.
- :func:`program_to_sympy`, :func:`convert_program`: gplearn program -> simplified SymPy
  expression with gplearn's protected semantics (see :mod:`symexp.symbolic.convert`).
- :func:`parse_formula` (a whitelisted grammar, never ``eval``), :func:`formula_predict`, :func:`rmse`:
  re-evaluate stored formulas.
- :func:`gplearn_paper_complexity`: the paper's operation count of a program (the authors'
  conversion, :mod:`symexp.symbolic.paper_complexity`); fitted estimators expose it as
  ``complexity_paper_``.
"""

from symexp.symbolic.convert import (
    Conversion,
    convert_program,
    formula_predict,
    formula_string,
    parse_program,
    program_to_sympy,
    rmse,
)
from symexp.symbolic.functions import capped_exp, make_exp
from symexp.symbolic.operon import OperonRegression, operon_status
from symexp.symbolic.paper_complexity import PaperComplexity, gplearn_paper_complexity
from symexp.symbolic.parse import parse_formula
from symexp.symbolic.regressor import SymbolicRegression
from symexp.symbolic.settings import VALID_ENGINES, VALID_FUNCTIONS, VALID_METRICS, SRSettings


def make_regressor(settings: SRSettings, random_state: int, feature_names, log_features=None):
    """A :class:`SymbolicRegression` (``settings.engine == "gplearn"``) or an
    :class:`OperonRegression` (``"operon"``), unfitted; both have the same fit / predict /
    ``formula_`` / ``complexity_`` / ... interface."""
    from symexp.errors import SymexpError, unknown_choice

    if not isinstance(settings, SRSettings):
        raise SymexpError(f"settings must be an SRSettings, got {type(settings).__name__}")
    if settings.engine == "gplearn":
        cls = SymbolicRegression
    elif settings.engine == "operon":
        cls = OperonRegression
    else:  # pragma: no cover - SRSettings validates the engine
        raise unknown_choice("SR engine", settings.engine, VALID_ENGINES)
    return cls(settings, random_state=random_state, feature_names=feature_names, log_features=log_features)


__all__ = [
    "Conversion",
    "OperonRegression",
    "PaperComplexity",
    "SRSettings",
    "SymbolicRegression",
    "VALID_ENGINES",
    "VALID_FUNCTIONS",
    "VALID_METRICS",
    "capped_exp",
    "convert_program",
    "formula_predict",
    "formula_string",
    "gplearn_paper_complexity",
    "make_exp",
    "make_regressor",
    "operon_status",
    "parse_formula",
    "parse_program",
    "program_to_sympy",
    "rmse",
]
