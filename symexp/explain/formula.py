"""Formulas of an explanation: the variables SR sees, the formula in the user's units, rounding,
guards, a safe JSON form, and typesetting.

Variables. Symbolic regression sees each explained hyperparameter either as it is or, for a
log-scaled one (the default, ``units="log10"``), as ``log10(x)``: over ``[1e-4, 10]`` a log-scaled
hyperparameter varies over five decades, and a formula in raw units (``sin(gamma)``,
``exp(-69*lr)``) has to bend where the run did its looking. :class:`Variables` does the transform;
:func:`write_back` substitutes ``log10(x)`` for the transformed variable, so the formula reads in
the hyperparameter's own units with an explicit ``log10``.

Target. SR fits the standardised target ``z = (y - mean) / std`` (gplearn's constant range and
parsimony assume values of order one; costs in a narrow band such as 0.06 to 0.11 otherwise
collapse to a constant); :func:`write_back` returns ``mean + std * f(z)`` in the run's units.

Rounding (:func:`round_adaptive`): floats are rounded to the fewest significant digits (3, 4, ...)
that change the formula by at most ``ROUNDING_TOLERANCE`` of the target's standard deviation on the
check points; whole numbers become integers (``x**2``, not ``x**2.0``).

Guards (:func:`guard_notes`): gplearn's protected operations are kept only where they act on the
space's box (the conversion drops guards inactive on the training points and the check grid, which
spans the box); for each one left, the note says on which share of the box and where it acts.

JSON (:func:`to_tree`, :func:`from_tree`): a formula is stored as a tree of whitelisted SymPy
node names, so that a stored report can be read back without evaluating text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log10

from symexp.errors import SymexpError
from symexp.benchmarks.space import SearchSpace

UNITS = ("log10", "raw")
ROUNDING_TOLERANCE = 0.002
ROUNDING_DIGITS = (3, 4, 5, 6, 8, 12)

#: What each function in a formula means (for the report's glossary).
FUNCTION_MEANINGS: dict[str, str] = {
    "log10": "log10(x): base-10 logarithm (log10(1e-3) = -3)",
    "log": "log(x): natural logarithm ln(x), base e",
    "exp": "exp(x): e to the power x",
    "sqrt": "sqrt(x): square root",
    "Abs": "Abs(x): absolute value |x|",
    "sin": "sin(x): sine, x in radians",
    "cos": "cos(x): cosine, x in radians",
    "tan": "tan(x): tangent, x in radians",
    "Min": "Min(a, b): the smaller of a and b",
    "Max": "Max(a, b): the larger of a and b",
    "Piecewise": "Piecewise((a, condition), (b, True)): a where the condition holds, else b "
                 "(a protected operation of gplearn)",
}


# ----------------------------------------------------------------------------------------------
# variables
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variables:
    """The explained hyperparameters as SR sees them.

    Attributes
    ----------
    space : SearchSpace
        The explained hyperparameters (numerical), in formula order; names are formula symbols.
    log10 : tuple of bool
        Per hyperparameter: SR sees ``log10(x)`` instead of ``x``.
    """

    space: SearchSpace
    log10: tuple[bool, ...]

    @classmethod
    def of(cls, space: SearchSpace, units: str) -> Variables:
        if units not in UNITS:
            from symexp.errors import unknown_choice

            raise unknown_choice("units", units, UNITS)
        return cls(space, tuple(bool(hp.log) and units == "log10" for hp in space))

    @property
    def names(self) -> list[str]:
        return self.space.names

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Raw configurations (m, k) -> SR inputs (m, k): log10 for the flagged columns."""
        U = np.array(X, dtype=float, copy=True)
        for j, flag in enumerate(self.log10):
            if flag:
                U[:, j] = np.log10(U[:, j])
        return U

    def symbols(self) -> list[sp.Symbol]:
        """The formula's symbols in raw units; positive / nonnegative from the box."""
        out = []
        for hp in self.space:
            if hp.lower > 0:
                out.append(sp.Symbol(hp.name, positive=True))
            elif hp.lower >= 0:
                out.append(sp.Symbol(hp.name, nonnegative=True))
            else:
                out.append(sp.Symbol(hp.name, real=True))
        return out

    def leaves(self) -> list[sp.Expr]:
        """What each SR input stands for in raw units: ``log10(x)`` or ``x``."""
        return [log10(s) if flag else s for s, flag in zip(self.symbols(), self.log10)]

    def describe(self) -> list[dict[str, Any]]:
        """One entry per variable: symbol, how it enters, its range (for the report and JSON)."""
        out = []
        for hp, flag in zip(self.space, self.log10):
            entry = {"symbol": hp.name, "enters_as": f"log10({hp.name})" if flag else hp.name,
                     "lower": hp.lower, "upper": hp.upper, "log_scaled": bool(hp.log), "integer": bool(hp.integer)}
            if flag:
                entry["enters_range"] = [math.log10(hp.lower), math.log10(hp.upper)]
            out.append(entry)
        return out


def write_back(expr_z: sp.Expr, variables: Variables, mean: float, std: float) -> sp.Expr:
    """``mean + std * expr_z`` with each SR input replaced by what it stands for (raw units),
    and exponentials of log10 terms written as powers (:func:`log10_powers`)."""
    leaves = dict(zip(variables.names, variables.leaves()))
    repl = {}
    for s in expr_z.free_symbols:
        if s.name not in leaves:
            raise SymexpError(f"formula uses unknown symbol {s.name}; valid: {', '.join(variables.names)}")
        repl[s] = leaves[s.name]
    return absorb_numbers(log10_powers(sp.Float(mean) + sp.Float(std) * expr_z.xreplace(repl)))


def absorb_numbers(expr: sp.Expr) -> sp.Expr:
    """``c*x*(a + b)`` -> ``x*(c*a + c*b)``: a product's number goes into its one sum, so that the
    coefficients read in the objective's units (SymPy distributes a number over a sum only when
    nothing else multiplies it, which leaves the scale of the write-back outside)."""

    def fits(e) -> bool:
        if not isinstance(e, sp.Mul):
            return False
        c, rest = e.as_coeff_Mul()
        return c.is_Number and c not in (1, -1) and sum(isinstance(f, sp.Add) for f in sp.Mul.make_args(rest)) == 1

    def absorb(e):
        c, rest = e.as_coeff_Mul()
        return sp.Mul(*[c * f if isinstance(f, sp.Add) else f for f in sp.Mul.make_args(rest)])

    return expr.replace(fits, absorb)


def log10_powers(expr: sp.Expr) -> sp.Expr:
    """``exp(a + b*log10(x) + ...)`` -> ``e**a * x**(b / ln 10) * ...``: a power law reads better
    than an exponential of a logarithm (``n**1.007``, not ``exp(2.318*log10(n))``). Other
    exponentials are left as they are."""
    ln10 = math.log(10.0)

    def is_linear_log10(e) -> bool:
        if not isinstance(e, sp.exp):
            return False
        terms = sp.Add.make_args(sp.expand(e.args[0]))
        found = False
        for t in terms:
            c, rest = t.as_coeff_Mul()
            if rest == 1:
                continue
            if isinstance(rest, log10) and rest.args[0].is_Symbol:
                found = True
                continue
            return False
        return found

    def rewrite(e):
        out = sp.Integer(1)
        for t in sp.Add.make_args(sp.expand(e.args[0])):
            c, rest = t.as_coeff_Mul()
            out *= sp.exp(c) if rest == 1 else rest.args[0] ** (float(c) / ln10)
        return out

    return expr.replace(is_linear_log10, rewrite)


# ----------------------------------------------------------------------------------------------
# evaluating and rounding
# ----------------------------------------------------------------------------------------------

def predict(expr: sp.Expr, names: Sequence[str], X: np.ndarray) -> np.ndarray:
    """``expr`` (free symbols named from ``names``) on raw configurations ``X`` (m, k) -> (m,);
    NaN where it is undefined."""
    from symexp.symbolic.convert import formula_predict

    return formula_predict(expr, names, X)


def round_significant(expr: sp.Expr, digits: int) -> sp.Expr:
    """Every Float rounded to ``digits`` significant digits; whole numbers become Integers."""
    repl = {}
    for f in expr.atoms(sp.Float):
        v = float(f)
        if not math.isfinite(v):
            continue
        r = float(f"{v:.{digits}g}")
        repl[f] = sp.Integer(int(r)) if r.is_integer() and abs(r) < 1e6 else sp.Float(r)
    return expr.xreplace(repl) if repl else expr


def round_adaptive(expr: sp.Expr, names: Sequence[str], X_check: np.ndarray, scale: float) -> sp.Expr:
    """The shortest rounding of ``expr`` that moves it by at most ``ROUNDING_TOLERANCE * scale``
    (RMSE on ``X_check``); ``expr`` itself if none does."""
    exact = predict(expr, names, X_check)
    ok = np.isfinite(exact)
    for digits in ROUNDING_DIGITS:
        rounded = round_significant(expr, digits)
        if not ok.any():
            return rounded
        with np.errstate(all="ignore"):
            diff = predict(rounded, names, X_check)[ok] - exact[ok]
        if np.all(np.isfinite(diff)) and math.sqrt(float(np.mean(diff**2))) <= ROUNDING_TOLERANCE * scale:
            return rounded
    return expr


def is_constant(expr: sp.Expr) -> bool:
    return not expr.free_symbols


def functions_used(exprs: Sequence[sp.Expr]) -> list[str]:
    """Names of the functions (as printed) used in ``exprs``, in :data:`FUNCTION_MEANINGS` order."""
    used = set()
    for e in exprs:
        for node in sp.preorder_traversal(e):
            name = type(node).__name__
            if name in FUNCTION_MEANINGS:
                used.add(name)
            elif isinstance(node, sp.Pow) and node.exp == sp.Rational(1, 2):
                used.add("sqrt")
    return [n for n in FUNCTION_MEANINGS if n in used]


# ----------------------------------------------------------------------------------------------
# guards
# ----------------------------------------------------------------------------------------------

def _where(active: np.ndarray, X: np.ndarray, space: SearchSpace) -> str:
    parts = []
    for j, hp in enumerate(space):
        lo, hi = float(np.min(X[active, j])), float(np.max(X[active, j]))
        if lo <= hp.lower and hi >= hp.upper:
            continue  # all of this hyperparameter's range
        parts.append(f"{hp.name} in [{lo:.3g}, {hi:.3g}]")
    return ", ".join(parts) if parts else "spread over the whole box"


def guard_notes(expr: sp.Expr, space: SearchSpace, X_check: np.ndarray) -> list[str]:
    """For each guard left in ``expr`` (a ``Piecewise`` or ``Min``/``Max`` of gplearn's protected
    operations), where on the box (``X_check``, raw units) it acts."""
    names = space.names
    notes = []
    for node in sorted(expr.atoms(sp.Piecewise, sp.Min, sp.Max), key=sp.default_sort_key):
        if isinstance(node, sp.Piecewise):
            first = node.args[0]
            cond = predict(sp.Piecewise((1, first.cond), (0, True)), names, X_check) > 0.5
            active = ~cond
            what = (f"{sp.sstr(first.expr, full_prec=False)} is replaced by "
                    f"{sp.sstr(node.args[1].expr if len(node.args) > 1 else sp.nan, full_prec=False)}")
        else:
            values = [predict(a, names, X_check) for a in node.args]
            chosen = np.argmin(values, axis=0) if isinstance(node, sp.Min) else np.argmax(values, axis=0)
            active = chosen != chosen[0] if len(set(chosen.tolist())) > 1 else np.zeros(len(X_check), bool)
            what = f"{type(node).__name__}{tuple(node.args)} switches branch"
        if active.any():
            share = float(np.mean(active))
            notes.append(f"{what} on {share:.0%} of the box ({_where(active, X_check, space)})")
    return notes


# ----------------------------------------------------------------------------------------------
# JSON form
# ----------------------------------------------------------------------------------------------

_NODES: dict[str, Any] = {
    "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow, "exp": sp.exp, "log": sp.log, "log10": log10,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "Abs": sp.Abs, "Min": sp.Min, "Max": sp.Max,
    "Piecewise": sp.Piecewise, "ExprCondPair": lambda e, c: (e, c),
    "StrictGreaterThan": sp.StrictGreaterThan, "StrictLessThan": sp.StrictLessThan,
    "GreaterThan": sp.GreaterThan, "LessThan": sp.LessThan, "Equality": sp.Eq, "Unequality": sp.Ne,
    "And": sp.And, "Or": sp.Or, "Not": sp.Not, "tanh": sp.tanh,
}
_CONSTANTS: dict[str, Any] = {"E": sp.E, "pi": sp.pi, "true": sp.true, "false": sp.false, "nan": sp.nan}


def to_tree(expr: Any) -> Any:
    """A JSON-able tree of ``expr``: ``{"symbol": name}``, ``{"int": n}``, ``{"rational": [p, q]}``,
    ``{"float": v}``, ``{"const": E|pi|true|false|nan}`` or ``{"op": name, "args": [...]}``."""
    if isinstance(expr, sp.Symbol):
        return {"symbol": expr.name}
    if isinstance(expr, sp.Integer):
        return {"int": int(expr)}
    if isinstance(expr, sp.Rational):
        return {"rational": [int(expr.p), int(expr.q)]}
    if isinstance(expr, sp.Float):
        return {"float": float(expr)}
    for name, value in _CONSTANTS.items():
        if expr is value:  # SymPy singletons
            return {"const": name}
    name = type(expr).__name__
    if name not in _NODES:
        raise SymexpError(f"cannot store a formula with {name} nodes")
    return {"op": name, "args": [to_tree(a) for a in expr.args]}


def from_tree(tree: Any, symbols: Sequence[sp.Symbol]) -> sp.Expr:
    """The expression of a :func:`to_tree` tree; only whitelisted nodes and the given symbols."""
    by_name = {s.name: s for s in symbols}

    def build(t: Any) -> Any:
        if not isinstance(t, dict) or len(t) not in (1, 2):
            raise SymexpError(f"malformed formula tree node {str(t)[:60]}")
        if "symbol" in t:
            if t["symbol"] not in by_name:
                raise SymexpError(f"formula tree uses unknown symbol {t['symbol']!r}")
            return by_name[t["symbol"]]
        if "int" in t and isinstance(t["int"], int):
            return sp.Integer(t["int"])
        if "rational" in t and isinstance(t["rational"], list) and len(t["rational"]) == 2:
            return sp.Rational(int(t["rational"][0]), int(t["rational"][1]))
        if "float" in t and isinstance(t["float"], int | float):
            return sp.Float(float(t["float"]))
        if "const" in t and t["const"] in _CONSTANTS:
            return _CONSTANTS[t["const"]]
        if t.get("op") in _NODES and isinstance(t.get("args"), list):
            return _NODES[t["op"]](*[build(a) for a in t["args"]])
        raise SymexpError(f"malformed formula tree node {str(t)[:60]}")

    return build(tree)


# ----------------------------------------------------------------------------------------------
# printing
# ----------------------------------------------------------------------------------------------

def formula_text(expr: sp.Expr) -> str:
    """The text form (SymPy's ``str`` without trailing zeros)."""
    return sp.sstr(expr, full_prec=False)


def _latex_printer():
    from sympy.printing.latex import LatexPrinter

    class Printer(LatexPrinter):
        def _print_Symbol(self, expr, style="plain"):
            return r"\mathit{" + expr.name.replace("_", r"\_") + "}"

        def _print_log10(self, expr, exp=None):
            inner = r"\log_{10}\left(" + self._print(expr.args[0]) + r"\right)"
            return inner if exp is None else r"\left(" + inner + r"\right)^{" + exp + "}"

    return Printer({"full_prec": False})


def latex(expr: sp.Expr) -> str:
    """LaTeX of ``expr``; symbols verbatim (``max_depth``, not ``max`` with subscript ``depth``),
    ``\\log_{10}`` for log10."""
    try:
        return _latex_printer().doprint(expr)
    except Exception:  # noqa: BLE001 - a formula that cannot be typeset is still a result
        return r"\text{" + formula_text(expr).replace("_", r"\_") + "}"


def mathml(expr: sp.Expr) -> str:
    """Presentation MathML of ``expr`` (a ``<math>`` element), rendered by browsers without any
    script or network access; symbols verbatim, log10 as log with subscript 10."""
    from sympy.printing.mathml import MathMLPresentationPrinter

    class Printer(MathMLPresentationPrinter):
        def _print_Symbol(self, sym, style="plain"):
            x = self.dom.createElement("mi")
            x.appendChild(self.dom.createTextNode(sym.name))
            return x

        def _print_log10(self, expr):
            row = self.dom.createElement("mrow")
            sub = self.dom.createElement("msub")
            for tag, text in (("mi", "log"), ("mn", "10")):
                el = self.dom.createElement(tag)
                el.appendChild(self.dom.createTextNode(text))
                sub.appendChild(el)
            row.appendChild(sub)
            row.appendChild(self._paren(self._print(expr.args[0])))
            return row

        def _print_Relational(self, e):
            # SymPy writes '<' unescaped into the raw text node; HTML needs the entity
            row = self.dom.createElement("mrow")
            row.appendChild(self._print(e.lhs))
            op = self.dom.createElement("mo")
            op.appendChild(self.dom.createTextNode({"<": "&lt;", ">": "&gt;"}.get(self.mathml_tag(e),
                                                                                 self.mathml_tag(e))))
            row.appendChild(op)
            row.appendChild(self._print(e.rhs))
            return row

        def _print_Piecewise(self, expr):
            table = self.dom.createElement("mtable")
            for piece in expr.args:
                tr = self.dom.createElement("mtr")
                value = self.dom.createElement("mtd")
                value.appendChild(self._print(piece.expr))
                when = self.dom.createElement("mtd")
                text = self.dom.createElement("mtext")
                text.appendChild(self.dom.createTextNode("otherwise" if piece.cond is sp.true else "if\u00a0"))
                when.appendChild(text)
                if piece.cond is not sp.true:
                    when.appendChild(self._print(piece.cond))
                tr.appendChild(value)
                tr.appendChild(when)
                table.appendChild(tr)
            row = self.dom.createElement("mrow")
            brace = self.dom.createElement("mo")
            brace.appendChild(self.dom.createTextNode("{"))
            row.appendChild(brace)
            row.appendChild(table)
            return row

        def _paren(self, inner):
            row = self.dom.createElement("mrow")
            for text, node in (("(", None), (None, inner), (")", None)):
                if node is None:
                    mo = self.dom.createElement("mo")
                    mo.appendChild(self.dom.createTextNode(text))
                    row.appendChild(mo)
                else:
                    row.appendChild(node)
            return row

    try:
        body = Printer().doprint(expr)
    except Exception:  # noqa: BLE001
        import html

        body = f"<mtext>{html.escape(formula_text(expr))}</mtext>"
    return f'<math display="block">{body}</math>'
