"""Formulas of an explanation: the variables SR sees, the formula in the user's units, rounding,
guards, a safe JSON form, and typesetting.

Variables. Symbolic regression sees each explained hyperparameter either as it is or, for a
log-scaled one (the default, ``units="log10"``), as ``log10(x)``: over ``[1e-4, 10]`` a log-scaled
hyperparameter varies over five decades, and a formula in raw units (``sin(gamma)``,
``exp(-69*lr)``) has to bend where the run did its looking. :class:`Variables` does the transform;
the transformed hyperparameter is a variable of its own, ``log10_lr`` (the report states
``log10_lr = log10(lr)``), so that the formula uses one unit per hyperparameter: no simplification
can turn ``exp(a*log10_lr)`` into a raw power of ``lr``. ``units="raw"`` gives raw units throughout.
:func:`evaluate` re-evaluates a stored formula (``summary.json``) at raw configurations, exactly as
printed.

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
#: A log-scaled hyperparameter ``lr`` enters a log10-unit formula as the variable ``log10_lr``.
LOG10_PREFIX = "log10_"
#: A categorical ``kernel`` enters as indicators ``kernel_is_<choice>`` (all but the first choice).
INDICATOR_INFIX = "_is_"
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

def indicator_name(name: str, choice: str) -> str:
    """The formula variable of ``name == choice``: ``<name>_is_<choice>`` (an identifier)."""
    import re

    return f"{name}{INDICATOR_INFIX}{re.sub(r'[^0-9A-Za-z_]', '_', str(choice))}"


@dataclass(frozen=True)
class Variables:
    """The explained hyperparameters as SR sees them, as formula symbols.

    Attributes
    ----------
    space : SearchSpace
        The explained hyperparameters, in formula order, all numerical: a categorical one as its
        choice index ``0 .. k-1`` (integer).
    log10 : tuple of bool
        Per hyperparameter: SR sees ``log10(x)`` instead of ``x``; its formula symbol is then
        ``log10_<name>`` (:data:`LOG10_PREFIX`), a variable of its own, so that no simplification
        can turn it back into a power of ``x``: a log-scaled hyperparameter appears in every
        formula in one unit only.
    choices : tuple
        Per hyperparameter: None, or the choices of a categorical one. A categorical enters as
        one 0/1 indicator per choice but the first (the baseline): ``kernel_is_poly`` is 1 where
        ``kernel = poly``; the formula's terms in it are that choice's effect.
    """

    space: SearchSpace
    log10: tuple[bool, ...]
    choices: tuple[tuple[str, ...] | None, ...] = ()

    @classmethod
    def of(cls, space: SearchSpace, units: str, choices: dict[str, Sequence[str]] | None = None) -> Variables:
        if units not in UNITS:
            from symexp.errors import unknown_choice

            raise unknown_choice("units", units, UNITS)
        choices = choices or {}
        out = cls(space, tuple(bool(hp.log) and units == "log10" and hp.name not in choices for hp in space),
                  tuple(tuple(str(c) for c in choices[hp.name]) if hp.name in choices else None for hp in space))
        names = out.formula_names
        plain = {n for n, f, c in zip(space.names, out.log10, out.choices) if not f and c is None}
        clash = (set(names) - plain) & set(space.names)
        if clash or len(set(names)) != len(names):
            raise SymexpError(f"hyperparameter names clash with the formula's derived variables: "
                              f"{sorted(clash) or sorted(n for n in names if names.count(n) > 1)}")
        return out

    def _choices(self, j: int) -> tuple[str, ...] | None:
        return self.choices[j] if self.choices else None

    @property
    def names(self) -> list[str]:
        """The hyperparameters' names (formula order)."""
        return self.space.names

    @property
    def formula_names(self) -> list[str]:
        """The formula's variable names: ``log10_<name>`` for a log10 variable, ``<name>_is_<choice>``
        per non-baseline choice of a categorical, else ``<name>``."""
        out = []
        for j, (n, flag) in enumerate(zip(self.space.names, self.log10)):
            ch = self._choices(j)
            if ch is not None:
                out += [indicator_name(n, c) for c in ch[1:]]
            else:
                out.append(LOG10_PREFIX + n if flag else n)
        return out

    @property
    def owners(self) -> dict[str, str]:
        """Formula variable -> the hyperparameter it belongs to."""
        out = {}
        for j, n in enumerate(self.space.names):
            ch = self._choices(j)
            if ch is not None:
                out.update({indicator_name(n, c): n for c in ch[1:]})
            else:
                out[LOG10_PREFIX + n if self.log10[j] else n] = n
        return out

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Raw configurations (m, k) -> formula inputs (m, len(formula_names)): log10 for the
        flagged columns, indicators for a categorical's choice index."""
        X = np.asarray(X, dtype=float)
        cols = []
        for j, flag in enumerate(self.log10):
            ch = self._choices(j)
            if ch is not None:
                idx = np.clip(np.rint(X[:, j]), 0, len(ch) - 1)
                cols += [(idx == c).astype(float) for c in range(1, len(ch))]
            elif flag:
                with np.errstate(all="ignore"):
                    cols.append(np.log10(X[:, j]))
            else:
                cols.append(X[:, j].copy())
        return np.column_stack(cols) if cols else np.empty((len(X), 0))

    def symbols(self) -> list[sp.Symbol]:
        """The formula's symbols (:attr:`formula_names`); positive / nonnegative from the box."""
        out = []
        for j, (hp, flag) in enumerate(zip(self.space, self.log10)):
            ch = self._choices(j)
            if ch is not None:
                out += [sp.Symbol(indicator_name(hp.name, c), nonnegative=True) for c in ch[1:]]
                continue
            name = LOG10_PREFIX + hp.name if flag else hp.name
            lo = math.log10(hp.lower) if flag else hp.lower
            if lo > 0:
                out.append(sp.Symbol(name, positive=True))
            elif lo >= 0:
                out.append(sp.Symbol(name, nonnegative=True))
            else:
                out.append(sp.Symbol(name, real=True))
        return out

    def predict(self, expr: sp.Expr, X: np.ndarray) -> np.ndarray:
        """``expr`` (in the formula's symbols) at raw configurations ``X`` (m, k) -> (m,)."""
        return predict(expr, self.formula_names, self.transform(X))

    def describe(self) -> list[dict[str, Any]]:
        """One entry per formula variable: symbol, hyperparameter, how it enters, its range."""
        out = []
        for j, (hp, flag) in enumerate(zip(self.space, self.log10)):
            ch = self._choices(j)
            if ch is not None:
                for c in ch[1:]:
                    out.append({"symbol": indicator_name(hp.name, c), "name": hp.name,
                                "enters_as": f"1 if {hp.name} = {c} else 0 (baseline {ch[0]})", "log10": False,
                                "lower": 0, "upper": 1, "log_scaled": False, "integer": True,
                                "categorical": True, "choices": list(ch), "choice": c})
                continue
            entry = {"symbol": LOG10_PREFIX + hp.name if flag else hp.name, "name": hp.name,
                     "enters_as": f"log10({hp.name})" if flag else hp.name,
                     "log10": bool(flag), "lower": hp.lower, "upper": hp.upper, "log_scaled": bool(hp.log),
                     "integer": bool(hp.integer)}
            if flag:
                entry["enters_range"] = [math.log10(hp.lower), math.log10(hp.upper)]
            out.append(entry)
        return out

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> Variables:
        """The variables of a stored ``summary.json`` (its ``variables`` entries)."""
        from symexp.benchmarks.space import Numerical

        hps, flags, choices, seen = [], [], [], set()
        for v in summary["variables"]:
            if v["name"] in seen:
                continue
            seen.add(v["name"])
            if v.get("categorical"):
                hps.append(Numerical(v["name"], 0, len(v["choices"]) - 1, integer=True))
                flags.append(False)
                choices.append(tuple(v["choices"]))
                continue
            hps.append(Numerical(v["name"], float(v["lower"]), float(v["upper"]), log=bool(v["log_scaled"]),
                                 integer=bool(v["integer"])))
            flags.append(bool(v["log10"]))
            choices.append(None)
        return cls(SearchSpace(tuple(hps)), tuple(flags), tuple(choices))


def write_back(expr_z: sp.Expr, variables: Variables, mean: float, std: float) -> sp.Expr:
    """``mean + std * expr_z`` in the formula's symbols (``expr_z``'s symbols are named by
    :attr:`Variables.formula_names`): the objective in the run's units."""
    by_name = dict(zip(variables.formula_names, variables.symbols()))
    repl = {}
    for s in expr_z.free_symbols:
        if s.name not in by_name:
            raise SymexpError(f"formula uses unknown symbol {s.name}; valid: {', '.join(by_name)}")
        repl[s] = by_name[s.name]
    return absorb_numbers(sp.Float(mean) + sp.Float(std) * expr_z.xreplace(repl))


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


def guard_notes(expr: sp.Expr, variables: Variables, X_check: np.ndarray) -> list[str]:
    """For each guard left in ``expr`` (a ``Piecewise`` or ``Min``/``Max`` of gplearn's protected
    operations), where on the box (``X_check``, raw units) it acts."""
    space = variables.space
    notes = []
    for node in sorted(expr.atoms(sp.Piecewise, sp.Min, sp.Max), key=sp.default_sort_key):
        if isinstance(node, sp.Piecewise):
            first = node.args[0]
            cond = variables.predict(sp.Piecewise((1, first.cond), (0, True)), X_check) > 0.5
            active = ~cond
            what = (f"{sp.sstr(first.expr, full_prec=False)} is replaced by "
                    f"{sp.sstr(node.args[1].expr if len(node.args) > 1 else sp.nan, full_prec=False)}")
        else:
            values = [variables.predict(a, X_check) for a in node.args]
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


def storable(expr: sp.Expr) -> sp.Expr:
    """``expr`` in a form :func:`to_tree` can store: SymPy's ``ITE`` (if-then-else, which
    simplification can put into a guard's condition) rewritten with And / Or / Not. Raises
    :class:`SymexpError` for anything else that cannot be stored (``zoo``, unknown functions)."""
    from sympy.logic.boolalg import ITE

    if expr.atoms(ITE):
        expr = expr.replace(lambda e: isinstance(e, ITE), lambda e: e.to_nnf())
    if expr.has(sp.zoo):  # only in dead branches of a guard (a live one is caught as not finite)
        expr = expr.xreplace({sp.zoo: sp.nan})
    to_tree(expr)
    return expr


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


def evaluate(summary: dict[str, Any], configs: Any, position: int | None = None) -> np.ndarray:
    """A formula of a stored explanation (``summary.json``, as a dict) at raw configurations.

    Parameters
    ----------
    summary : dict
        The parsed ``summary.json`` of ``symexp explain``.
    configs : mapping or array
        Raw hyperparameter values (the run's own units, e.g. ``lr = 1e-3``, not ``log10_lr``):
        a mapping from each explained hyperparameter's name to values (extra keys are ignored;
        a categorical's values are its choices, e.g. ``"poly"``), or an array (m, k) with the
        explained hyperparameters in ``summary["explained"]`` order (a categorical as its choice
        index).
    position : int, optional
        Front position; default: the chosen formula (``summary["chosen"]``).

    Returns
    -------
    ndarray (m,)
        The formula's values, exactly as printed (the stored ``tree`` is the printed, rounded
        formula; no text is evaluated); NaN where it is undefined.
    """
    variables = Variables.from_summary(summary)
    formula = summary["chosen"] if position is None else summary["front"][int(position)]
    expr = from_tree(formula["tree"], variables.symbols())
    if isinstance(configs, dict):
        missing = [n for n in variables.names if n not in configs]
        if missing:
            raise SymexpError(f"configs lack the explained hyperparameter(s) {', '.join(missing)}")
        cols = []
        for j, n in enumerate(variables.names):
            ch = variables._choices(j)
            values = np.asarray(configs[n], dtype=object if ch is not None else float).reshape(-1)
            if ch is not None:  # a categorical: its choices (or their indices)
                bad = [v for v in values if str(v) not in ch and not isinstance(v, int | np.integer)]
                if bad:
                    raise SymexpError(f"{n}={bad[0]!r} is not a choice of {n}: {', '.join(ch)}")
                values = np.array([ch.index(str(v)) if str(v) in ch else int(v) for v in values], dtype=float)
            cols.append(values.astype(float))
        X = np.column_stack(cols)
    else:
        X = np.atleast_2d(np.asarray(configs, dtype=float))
        if X.shape[1] != len(variables.names):
            raise SymexpError(f"configs must have {len(variables.names)} columns ({', '.join(variables.names)}), "
                              f"got {X.shape[1]}")
    return variables.predict(expr, X)


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
