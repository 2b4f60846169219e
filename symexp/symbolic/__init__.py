"""Symbolic regression (gplearn) and SymPy formulas for symexp.

- :class:`SRSettings`: the settings of a fit (validated, hashable).
- :class:`SymbolicRegression`: fit / predict, with a wall-clock cap, the formula in raw units.
- :func:`program_to_sympy`, :func:`convert_program`: gplearn program -> simplified SymPy
  expression with gplearn's protected semantics (see :mod:`symexp.symbolic.convert`).
- :func:`parse_formula`, :func:`formula_predict`, :func:`rmse`: re-evaluate stored formulas.
"""

from symexp.symbolic.convert import (
    Conversion,
    convert_program,
    formula_predict,
    formula_string,
    parse_formula,
    parse_program,
    program_to_sympy,
    rmse,
)
from symexp.symbolic.functions import capped_exp, make_exp
from symexp.symbolic.regressor import SymbolicRegression
from symexp.symbolic.settings import VALID_FUNCTIONS, VALID_METRICS, SRSettings

__all__ = [
    "Conversion",
    "SRSettings",
    "SymbolicRegression",
    "VALID_FUNCTIONS",
    "VALID_METRICS",
    "capped_exp",
    "convert_program",
    "formula_predict",
    "formula_string",
    "make_exp",
    "parse_formula",
    "parse_program",
    "program_to_sympy",
    "rmse",
]
