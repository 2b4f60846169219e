"""Reading formula text safely: a whitelisted grammar, never Python evaluation.

Records travel between users (that is the point of a reproduction suite), so stored formula
text must never go through ``eval``-based parsers (``sympy.sympify``, ``parse_expr``): a record
whose formula is ``__import__('os').system(...)`` would run it. :func:`parse_formula` reads the
text SymPy prints for symexp's formulas (``formula_string``) with a small recursive-descent
parser over this grammar (Python's precedence, as SymPy prints it)::

    comparison := disjunction [("<" | "<=" | ">" | ">=" | "==" | "!=") disjunction]
    disjunction := conjunction ("|" conjunction)*
    conjunction := sum ("&" sum)*
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+" | "~") unary | power
    power      := atom ["**" unary]
    atom       := NUMBER | NAME | FUNCTION "(" comparison ("," comparison)* ")" | "(" tuple_or_expr ")"

``NAME`` is one of the formula's hyperparameters or a constant (``pi``, ``E``, ``oo``, ``zoo``,
``nan``, ``True``, ``False``); ``FUNCTION`` is one of :data:`FUNCTIONS`. Anything else is a
one-line :class:`~symexp.errors.SymexpError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp

from symexp.errors import SymexpError

#: Functions a formula may call (everything symexp's SR engines and SymPy's simplification produce).
FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "Abs": sp.Abs, "sign": sp.sign, "Min": sp.Min, "Max": sp.Max, "Piecewise": sp.Piecewise, "ITE": sp.ITE,
    "Heaviside": sp.Heaviside, "floor": sp.floor, "ceiling": sp.ceiling, "sinc": sp.sinc,
    # sympy.simplify rewrites some programs with these (e.g. ``atan2(0, sin(...))`` from a square
    # root of a negative product: a committed xgb record's formula has it)
    "atan2": sp.atan2, "atan": sp.atan, "asin": sp.asin, "acos": sp.acos,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
}
CONSTANTS = {"pi": sp.pi, "E": sp.E, "oo": sp.oo, "zoo": sp.zoo, "nan": sp.nan, "True": sp.true, "False": sp.false}
COMPARISONS = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan,
               "==": sp.Eq, "!=": sp.Ne}
MAX_LENGTH = 100_000
MAX_DEPTH = 200

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/()<>,&|~]))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise SymexpError(f"cannot read formula at {text[pos:pos + 20]!r} (in {text[:80]!r})")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse_formula(text: str, feature_names: Sequence[str]) -> sp.Expr:
    """A formula string (e.g. a stored ``formula``) -> SymPy expression, without evaluating code.

    Symbols are real (no positivity), so parsing never changes the formula's meaning; only
    ``feature_names`` may occur as free symbols.
    """
    text = str(text)
    if len(text) > MAX_LENGTH:
        raise SymexpError(f"formula too long ({len(text)} characters, at most {MAX_LENGTH})")
    symbols = {str(n): sp.Symbol(str(n), real=True) for n in feature_names}
    toks = _tokens(text)
    i = 0

    def peek() -> str | None:
        return toks[i][1] if i < len(toks) else None

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal i
        if i >= len(toks):
            raise SymexpError(f"formula {text[:80]!r} ends early" + (f"; expected {expected!r}" if expected else ""))
        tok = toks[i]
        if expected is not None and tok[1] != expected:
            raise SymexpError(f"formula {text[:80]!r}: expected {expected!r}, got {tok[1]!r}")
        i += 1
        return tok

    def comparison(depth: int):
        if depth > MAX_DEPTH:
            raise SymexpError(f"formula nested deeper than {MAX_DEPTH} levels")
        left = disjunction(depth)
        if peek() in COMPARISONS:
            op = take()[1]
            return COMPARISONS[op](left, disjunction(depth))
        return left

    def disjunction(depth: int):
        value = conjunction(depth)
        while peek() == "|":
            take()
            value = sp.Or(value, conjunction(depth))
        return value

    def conjunction(depth: int):
        value = arith(depth)
        while peek() == "&":
            take()
            value = sp.And(value, arith(depth))
        return value

    def arith(depth: int):
        value = product(depth)
        while peek() in ("+", "-"):
            op = take()[1]
            rhs = product(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def product(depth: int):
        value = unary(depth)
        while peek() in ("*", "/"):
            op = take()[1]
            rhs = unary(depth)
            value = value * rhs if op == "*" else value / rhs
        return value

    def unary(depth: int):
        if peek() in ("-", "+", "~"):
            op = take()[1]
            operand = unary(depth + 1)
            return -operand if op == "-" else operand if op == "+" else sp.Not(operand)
        return power(depth)

    def power(depth: int):
        base = atom(depth)
        if peek() == "**":
            take()
            return base ** unary(depth + 1)
        return base

    def atom(depth: int):
        kind, tok = take()
        if kind == "num":
            return sp.Integer(int(tok)) if re.fullmatch(r"\d+", tok) else sp.Float(float(tok))
        if kind == "name":
            if peek() == "(":
                if tok not in FUNCTIONS:
                    raise SymexpError(f"formula calls unknown function {tok!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
                take("(")
                args = [comparison(depth + 1)]
                while peek() == ",":
                    take()
                    args.append(comparison(depth + 1))
                take(")")
                try:
                    return FUNCTIONS[tok](*args)
                except (TypeError, ValueError) as exc:
                    raise SymexpError(f"formula {text[:80]!r}: bad arguments to {tok}: {type(exc).__name__}") from None
            if tok in symbols:
                return symbols[tok]
            if tok in CONSTANTS:
                return CONSTANTS[tok]
            raise SymexpError(f"formula uses unknown symbol {tok!r}; valid: {', '.join(symbols) or 'none'}")
        if tok == "(":
            items = [comparison(depth + 1)]
            while peek() == ",":
                take()
                items.append(comparison(depth + 1))
            take(")")
            return items[0] if len(items) == 1 else sp.Tuple(*items)
        raise SymexpError(f"formula {text[:80]!r}: unexpected {tok!r}")

    if not toks:
        raise SymexpError("empty formula")
    expr = comparison(0)
    if i != len(toks):
        raise SymexpError(f"formula {text[:80]!r}: unexpected {toks[i][1]!r}")
    if not isinstance(expr, sp.Expr):
        raise SymexpError(f"formula {text[:80]!r} is not an expression")
    return expr
