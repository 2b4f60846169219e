"""gplearn programs -> SymPy formulas, and evaluating stored formulas.

Conversion keeps gplearn's protected semantics (see :mod:`symexp.symbolic.functions`):

- ``div(a, b)`` -> ``Piecewise((a/b, |b| > 1/1000), (1, True))``
- ``log(a)``    -> ``Piecewise((log|a|, |a| > 1/1000), (0, True))``
- ``inv(a)``    -> ``Piecewise((1/a, |a| > 1/1000), (0, True))``
- ``sqrt(a)``   -> ``sqrt(|a|)``
- ``exp(a)``    -> ``Min(exp(a), cap)``

**Guards and the data.** A formula is only ever used on known points: the training points and
the test grid. When those points ``X`` are given, each guard is decided on them, using gplearn's
own numpy functions on the values of the argument subtree:

- a guard never active on ``X`` is dropped (``a/b``, ``log(a)``, ``exp(a)``), and ``|a|`` becomes
  ``a`` when ``a >= 0`` on ``X`` (``sqrt``) or ``a > 0`` (``log``);
- a guard active on all of ``X`` becomes its constant (``1``, ``0``, ``cap``);
- otherwise the exact guarded form is kept.

The result equals the gplearn program on every row of ``X`` (up to float rounding), reads like the
paper's formulas (``a/b``, ``log(x)``), but may differ from the program *off* ``X`` (e.g. where a
dropped ``div`` guard would have been active). Without ``X`` the exact guarded form is used
everywhere. The exact form is always available as :attr:`Conversion.exact`.

**Symbols** get assumptions from ``X``: positive when the whole column is > 0, nonnegative when
>= 0, otherwise real. This lets SymPy simplify ``Abs``, ``sqrt(x**2)``, ``log(x*y)`` etc.

**Simplification** uses ``sympy.simplify``. It is skipped (the unsimplified expression is kept and
:attr:`Conversion.note` says why) when the gplearn program has more than ``max_simplify_nodes``
nodes (the authors skipped programs with ``_program.length_ > 300``), when it takes longer than
``simplify_timeout_s`` (``SIGALRM``, so only in the main thread), or when SymPy raises.

**Rounding**: afterwards every Float in the tree (also inside functions and exponents) is rounded
to ``n_decimals`` (the authors' 3). This changes the formula's predictions slightly: a constant
``c`` moves by at most ``0.5 * 10**-n_decimals``, which matters most inside ``exp``/powers and for
small coefficients that round to 0. The tests bound the effect; records store both the program
(exact) and the rounded formula. :attr:`Conversion.complexity` is ``sympy.count_ops`` of this
readable formula; the paper's operation count (the authors' conversion: plain symbols, ``Abs``
kept, no guards) is :mod:`symexp.symbolic.paper_complexity`.
"""

from __future__ import annotations

import keyword
import math
import re
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from gplearn._program import _Program
from gplearn.functions import _Function

from symexp.errors import SymexpError
from symexp.symbolic.functions import PROTECTION_THRESHOLD, exp_cap_of, function_node
from symexp.symbolic.parse import parse_formula
from symexp.symbolic.settings import VALID_FUNCTIONS

_T = sp.Rational(1, 1000)  # gplearn's threshold, exact (not touched by Float rounding)
assert float(_T) == PROTECTION_THRESHOLD


@dataclass(frozen=True)
class Conversion:
    """The result of converting one program.

    Attributes
    ----------
    expression : sympy.Expr
        Simplified (unless ``note`` says otherwise), floats rounded to ``n_decimals``.
    unrounded : sympy.Expr
        The same before rounding: equals the program on ``X`` up to float rounding.
    exact : sympy.Expr
        Unsimplified, with every guard in place: equals the program everywhere.
    simplified : bool
        False when simplification was skipped or failed (see ``note``).
    note : str or None
        Why simplification (or rounding) was skipped, if it was.
    complexity : int
        ``sympy.count_ops(expression)``.
    seconds : float
        Wall time of the conversion.
    """

    expression: sp.Expr
    unrounded: sp.Expr
    exact: sp.Expr
    simplified: bool
    note: str | None
    complexity: int
    seconds: float


# ----------------------------------------------------------------------------------------------
# symbols and inputs
# ----------------------------------------------------------------------------------------------

#: Names SymPy prints in our formulas; a feature with one of them would not parse back.
RESERVED_NAMES = frozenset({"E", "I", "pi", "oo", "zoo", "nan", "Min", "Max", "Abs", "Piecewise", "ITE", "And",
                            "Or", "Not", "exp", "log", "sqrt", "sin", "cos", "tan", "sign", "re", "im", "S",
                            "Integer", "Float", "Rational", "Symbol"})


def check_feature_names(feature_names: Sequence[str]) -> list[str]:
    """Feature names must be distinct Python identifiers (they become SymPy symbols and are
    parsed back from formula strings) and must not be function or SymPy names."""
    names = [str(n) for n in feature_names]
    for n in names:
        if not n.isidentifier() or keyword.iskeyword(n):
            raise SymexpError(f"feature name {n!r} is not a valid identifier; use letters, digits and _")
        if n in VALID_FUNCTIONS or n in RESERVED_NAMES:
            raise SymexpError(f"feature name {n!r} clashes with a function or SymPy name; rename it "
                              f"(reserved: {', '.join(sorted(set(VALID_FUNCTIONS) | RESERVED_NAMES))})")
    if len(set(names)) != len(names):
        raise SymexpError(f"duplicate feature names in {names}")
    return names


def make_symbols(feature_names: Sequence[str], X: np.ndarray | None = None) -> list[sp.Symbol]:
    """One real symbol per feature; positive / nonnegative when the column of ``X`` allows it."""
    out = []
    for j, name in enumerate(feature_names):
        if X is not None and len(X) and np.all(X[:, j] > 0):
            out.append(sp.Symbol(name, positive=True))
        elif X is not None and len(X) and np.all(X[:, j] >= 0):
            out.append(sp.Symbol(name, nonnegative=True))
        else:
            out.append(sp.Symbol(name, real=True))
    return out


def to_program_space(X: np.ndarray, log_features: Sequence[bool] | None) -> np.ndarray:
    """The inputs the gplearn program sees: ``log(x)`` for log features, ``x`` otherwise."""
    if log_features is None or not any(log_features):
        return X
    Xp = np.array(X, dtype=float, copy=True)
    for j, flag in enumerate(log_features):
        if flag:
            Xp[:, j] = np.log(X[:, j])
    return Xp


def _as_matrix(X, d: int, what: str) -> np.ndarray:
    try:
        A = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise SymexpError(f"{what} must be a numeric array of shape (n, {d})") from None
    if A.ndim == 1 and d == 1:
        A = A.reshape(-1, 1)
    if A.ndim != 2 or A.shape[1] != d:
        raise SymexpError(f"{what} must have shape (n, {d}) for {d} feature(s), got {A.shape}")
    return A


# ----------------------------------------------------------------------------------------------
# program strings
# ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([(),]))")


def parse_program(text: str, feature_names: Sequence[str], exp_cap: float = 1e5) -> list:
    """A gplearn program string (``str(program)``) -> gplearn's prefix node list.

    Features may be written as their name, ``log_<name>`` (symexp's log-space names) or ``X<i>``.
    Note that gplearn prints constants with 3 decimals, so a program rebuilt from its string is
    not bit-identical to the fitted one; convert the fitted ``_Program`` when exactness matters.
    """
    index = {n: j for j, n in enumerate(feature_names)}
    for j, n in enumerate(feature_names):
        index.setdefault(f"log_{n}", j)
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = str(text)
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise SymexpError(f"cannot parse program at {text[pos:pos + 20]!r} (in {text[:80]!r})")
        kind = "name" if m.group(1) else "num" if m.group(2) else m.group(3)
        tokens.append((kind, m.group(m.lastindex)))
        pos = m.end()

    nodes: list = []
    i = 0

    def expect(sym: str) -> None:
        nonlocal i
        if i >= len(tokens) or tokens[i][0] != sym:
            got = tokens[i][1] if i < len(tokens) else "end of program"
            raise SymexpError(f"malformed program: expected {sym!r}, got {got!r} (in {text[:80]!r})")
        i += 1

    def node() -> None:
        nonlocal i
        if i >= len(tokens):
            raise SymexpError(f"malformed program: unexpected end (in {text[:80]!r})")
        kind, tok = tokens[i]
        i += 1
        if kind == "num":
            nodes.append(float(tok))
        elif kind == "name" and i < len(tokens) and tokens[i][0] == "(":
            try:
                fn = function_node(tok, exp_cap)
            except KeyError:
                raise SymexpError(f"unknown function {tok!r} in program; valid: {', '.join(VALID_FUNCTIONS)}") from None
            nodes.append(fn)
            expect("(")
            for k in range(fn.arity):
                if k:
                    expect(",")
                node()
            expect(")")
        elif kind == "name":
            if tok in index:
                nodes.append(index[tok])
            elif re.fullmatch(r"X\d+", tok) and int(tok[1:]) < len(feature_names):
                nodes.append(int(tok[1:]))
            else:
                raise SymexpError(f"unknown feature {tok!r} in program; valid: {', '.join(feature_names)}")
        else:
            raise SymexpError(f"malformed program: unexpected {tok!r} (in {text[:80]!r})")

    node()
    if i != len(tokens):
        raise SymexpError(f"malformed program: trailing {tokens[i][1]!r} (in {text[:80]!r})")
    return nodes


def _nodes_of(program) -> tuple[list, str | None]:
    """(prefix node list, program string) of a gplearn program, fitted regressor, or string."""
    if isinstance(program, _Program):
        return list(program.program), str(program)
    inner = getattr(program, "_program", None)
    if isinstance(inner, _Program):
        return list(inner.program), str(inner)
    raise TypeError(f"expected a gplearn program, fitted SymbolicRegressor or program string, got {type(program).__name__}")


# ----------------------------------------------------------------------------------------------
# tree -> sympy
# ----------------------------------------------------------------------------------------------

def _apply(node: _Function, args: list, exp_cap: float, with_values: bool, plain: bool = False):
    """SymPy expression and values of one function node applied to (expr, values) args.

    ``plain``: no guards at all (a/b, 1/a, log|a|, exp(a)); the fallback when the exact
    form is too expensive for SymPy to build."""
    exprs = [a for a, _ in args]
    vals = [v for _, v in args]
    name = node.name
    values = None
    if with_values:
        with np.errstate(all="ignore"):
            values = np.asarray(node.function(*vals), dtype=float)

    def guard(arg_vals):
        """(never active, always active) on the data for a ``|a| > 0.001`` guard."""
        if plain:
            return True, False
        if arg_vals is None:
            return False, False
        active = ~(np.abs(arg_vals) > PROTECTION_THRESHOLD)
        return not active.any(), bool(active.all())

    if name == "add":
        expr = exprs[0] + exprs[1]
    elif name == "sub":
        expr = exprs[0] - exprs[1]
    elif name == "mul":
        expr = exprs[0] * exprs[1]
    elif name == "neg":
        expr = -exprs[0]
    elif name == "abs":
        expr = sp.Abs(exprs[0])
    elif name == "max":
        expr = sp.Max(exprs[0], exprs[1])
    elif name == "min":
        expr = sp.Min(exprs[0], exprs[1])
    elif name == "sin":
        expr = sp.sin(exprs[0])
    elif name == "cos":
        expr = sp.cos(exprs[0])
    elif name == "tan":
        expr = sp.tan(exprs[0])
    elif name == "div":
        a, b = exprs
        never, always = guard(vals[1])
        if never:
            expr = a / b
        elif always:
            expr = sp.S.One
        else:
            expr = sp.Piecewise((a / b, sp.Abs(b) > _T), (sp.S.One, True))
    elif name == "inv":
        (a,) = exprs
        never, always = guard(vals[0])
        if never:
            expr = 1 / a
        elif always:
            expr = sp.S.Zero
        else:
            expr = sp.Piecewise((1 / a, sp.Abs(a) > _T), (sp.S.Zero, True))
    elif name == "log":
        (a,) = exprs
        never, always = guard(vals[0])
        if never:
            expr = sp.log(a) if vals[0] is not None and np.all(vals[0] > 0) else sp.log(sp.Abs(a))
        elif always:
            expr = sp.S.Zero
        else:
            expr = sp.Piecewise((sp.log(sp.Abs(a)), sp.Abs(a) > _T), (sp.S.Zero, True))
    elif name == "sqrt":
        (a,) = exprs
        if vals[0] is not None and np.all(vals[0] >= 0):
            expr = sp.sqrt(a)
        else:
            expr = sp.sqrt(sp.Abs(a))
    elif name == "exp":
        (a,) = exprs
        cap = exp_cap_of(node, exp_cap)
        cap_expr = sp.Integer(int(cap)) if float(cap).is_integer() else sp.Float(cap)
        if plain:
            expr = sp.exp(a)
        elif vals[0] is not None and not np.isnan(vals[0]).any():
            with np.errstate(over="ignore"):
                below = np.exp(vals[0]) < cap
            if below.all():
                expr = sp.exp(a)
            elif not below.any():
                expr = cap_expr
            else:
                expr = sp.Min(sp.exp(a), cap_expr)
        else:
            expr = sp.Min(sp.exp(a), cap_expr)
    else:
        raise SymexpError(f"cannot convert function {name!r} to SymPy; supported: {', '.join(VALID_FUNCTIONS)}")
    return expr, values


def _build(nodes: list, leaves: list[sp.Expr], Xp: np.ndarray | None, exp_cap: float, plain: bool = False) -> sp.Expr:
    """Evaluate the prefix node list symbolically (and numerically on ``Xp`` when given),
    the same way gplearn's ``_Program.execute`` walks it."""
    n = None if Xp is None else Xp.shape[0]

    def terminal(t):
        if isinstance(t, _Function):
            raise AssertionError("function node used as terminal")
        if isinstance(t, int | np.integer):
            return leaves[int(t)], (None if Xp is None else Xp[:, int(t)])
        return sp.Float(float(t)), (None if Xp is None else np.full(n, float(t)))

    first = nodes[0]
    if not isinstance(first, _Function):
        return terminal(first)[0]
    stack: list[list] = []
    for node in nodes:
        if isinstance(node, _Function):
            stack.append([node])
        else:
            stack[-1].append(terminal(node))
        while len(stack[-1]) == stack[-1][0].arity + 1:
            fn, *args = stack[-1]
            result = _apply(fn, args, exp_cap, Xp is not None, plain)
            if len(stack) == 1:
                return result[0]
            stack.pop()
            stack[-1].append(result)
    raise SymexpError("malformed program: missing arguments")


# ----------------------------------------------------------------------------------------------
# simplify and round
# ----------------------------------------------------------------------------------------------

class _SimplifyTimeout(BaseException):
    """Raised by the alarm handler; a BaseException so SymPy's ``except Exception`` can't eat it."""


def _simplify(expr: sp.Expr, timeout_s: float | None) -> sp.Expr:
    return _with_alarm(lambda: sp.simplify(expr), timeout_s)


def _with_alarm(fn, timeout_s: float | None):
    """``fn()``, interrupted by :class:`_SimplifyTimeout` after ``timeout_s`` (main thread only)."""
    use_alarm = (timeout_s is not None and hasattr(signal, "SIGALRM")
                 and threading.current_thread() is threading.main_thread())
    if not use_alarm:
        return fn()

    def on_alarm(signum, frame):
        raise _SimplifyTimeout

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer, _ = signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer > 0:  # someone else's alarm was pending: re-arm what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(previous_timer - (time.monotonic() - start), 1e-3))


def round_floats(expr: sp.Expr, n_decimals: int | None) -> sp.Expr:
    """Round every Float in the tree (also inside functions and powers) to ``n_decimals``."""
    if n_decimals is None:
        return expr
    repl = {}
    for f in expr.atoms(sp.Float):
        v = float(f)
        if math.isfinite(v):
            repl[f] = sp.Float(round(v, n_decimals))
    return expr.xreplace(repl) if repl else expr


def convert_program(program, feature_names: Sequence[str], n_decimals: int | None = 3,
                    X: np.ndarray | None = None, symbols: Sequence[sp.Symbol] | Mapping[str, sp.Symbol] | None = None,
                    *, log_features: Sequence[bool] | None = None, exp_cap: float = 1e5,
                    simplify_timeout_s: float | None = 60.0, max_simplify_nodes: int | None = 300,
                    simplify: bool = True) -> Conversion:
    """Convert a gplearn program to SymPy; see the module docstring for the rules.

    Parameters
    ----------
    program : gplearn ``_Program``, fitted ``SymbolicRegressor``, or program string
        Prefer the program object: its string has constants printed with 3 decimals.
    feature_names : names of the program's features, in column order (become the symbols).
    n_decimals : round floats of the final expression (None = no rounding).
    X : array (n, d) in raw units, optional
        The points the formula will be used on (training points + test grid). Decides guards
        and symbol assumptions.
    symbols : symbols to use instead of ones made from ``feature_names`` and ``X``.
    log_features : for features flagged True the program's input is ``log(x)``; the formula
        is in raw units (the leaf becomes ``log(x)``).
    exp_cap : cap of ``exp`` nodes whose cap is not stored in the node (program strings).
    max_simplify_nodes : programs with more nodes than this are not simplified (None: no limit).
    """
    t0 = time.perf_counter()
    names = [str(n) for n in feature_names]
    d = len(names)
    if log_features is not None and len(log_features) != d:
        raise SymexpError(f"log_features has {len(log_features)} entries for {d} features {names}")
    if isinstance(program, str):
        nodes, text = parse_program(program, names, exp_cap), program
    else:
        nodes, text = _nodes_of(program)
    used = [int(t) for t in nodes if isinstance(t, int | np.integer) and not isinstance(t, bool)]
    if used and max(used) >= d:
        raise SymexpError(f"program uses feature X{max(used)} but only {d} feature names were given: {names}")

    Xr = None if X is None else _as_matrix(X, d, "X")
    logs = [bool(v) for v in log_features] if log_features is not None else [False] * d
    if Xr is not None and any(logs):
        bad = [names[j] for j in range(d) if logs[j] and not np.all(Xr[:, j] > 0)]
        if bad:
            raise SymexpError(f"log-space feature(s) {', '.join(bad)} need values > 0")

    if symbols is None:
        syms = make_symbols(names, Xr)
    elif isinstance(symbols, Mapping):
        syms = [symbols[n] if n in symbols else sp.Symbol(n, real=True) for n in names]
    else:
        syms = list(symbols)
        if len(syms) != d:
            raise SymexpError(f"got {len(syms)} symbols for {d} features {names}")
    leaves = [sp.log(s) if flag else s for s, flag in zip(syms, logs)]

    Xp = None if Xr is None else to_program_space(Xr, logs)
    # The exact form holds for any real inputs, so its symbols carry no assumptions from X.
    real_syms = [sp.Symbol(s.name, real=True) for s in syms]
    real_leaves = [sp.log(s) if flag else s for s, flag in zip(real_syms, logs)]
    note = None
    try:
        # SymPy can take very long to build nested guards (Piecewise conditions that contain
        # Piecewise are folded and solved as inequalities): same budget as simplify.
        exact = _with_alarm(lambda: _build(nodes, real_leaves, None, exp_cap), simplify_timeout_s)
        on_data = _with_alarm(lambda: _build(nodes, leaves, Xp, exp_cap), simplify_timeout_s)
    except (_SimplifyTimeout, ValueError, TypeError, ZeroDivisionError, RecursionError) as exc:
        # Too slow, or a SymPy failure inside a guard's condition (e.g. Piecewise's logic
        # simplification substituting 0 into log(log(...)) and comparing nan): the fitted program
        # is fine, only its guarded closed form cannot be had. Keep the unguarded form.
        exact = _build(nodes, real_leaves, None, exp_cap, plain=True)
        on_data = _build(nodes, leaves, Xp, exp_cap, plain=True)
        why = (f"building them took more than {simplify_timeout_s:g} s" if isinstance(exc, _SimplifyTimeout)
               else f"SymPy raised {type(exc).__name__} building them")
        note = f"guards of protected operations dropped: {why} (predictions use the gplearn program)"
        simplify = False
    unrounded = on_data
    if note is not None:
        pass
    elif not simplify:
        note = "simplification not requested"
    elif max_simplify_nodes is not None and len(nodes) > max_simplify_nodes:
        note = f"not simplified: program has {len(nodes)} > {max_simplify_nodes} nodes"
    else:
        try:
            unrounded = _simplify(on_data, simplify_timeout_s)
        except _SimplifyTimeout:
            note = f"not simplified: sympy.simplify took more than {simplify_timeout_s:g} s"
        except Exception as exc:  # SymPy bugs on odd expressions (also RecursionError): keep it as is
            note = f"not simplified: sympy.simplify raised {type(exc).__name__}"
    simplified = note is None
    try:
        expression = round_floats(unrounded, n_decimals)
    except Exception as exc:  # re-evaluating a rounded tree can hit SymPy edge cases (e.g. 0.0**-1)
        expression = unrounded
        note = (note + "; " if note else "") + f"not rounded: {type(exc).__name__}"
    return Conversion(expression=expression, unrounded=unrounded, exact=exact, simplified=simplified,
                      note=note, complexity=int(sp.count_ops(expression)), seconds=time.perf_counter() - t0)


def program_to_sympy(program, feature_names: Sequence[str], n_decimals: int | None = 3,
                     X: np.ndarray | None = None, symbols=None, **kwargs) -> sp.Expr:
    """The simplified, rounded SymPy expression of a gplearn program (see :func:`convert_program`)."""
    return convert_program(program, feature_names, n_decimals, X, symbols, **kwargs).expression


# ----------------------------------------------------------------------------------------------
# evaluating formulas
# ----------------------------------------------------------------------------------------------

def formula_string(expression: sp.Expr) -> str:
    """The text form of a formula: ``str`` without trailing zeros on bare floats (``0.284``, not
    ``0.284000000000000``); all significant digits are kept, and :func:`parse_formula` reads it back."""
    return sp.sstr(expression, full_prec=False)


def _printer():
    """NumPy printer that also prints ``zoo`` (in dead Piecewise branches of exact forms, e.g.
    ``1/0``) as ``nan``; SymPy's own NumPy printer has no numpy name for it."""
    from sympy.printing.numpy import NumPyPrinter

    class _Printer(NumPyPrinter):
        def _print_ComplexInfinity(self, expr):
            return self._module_format(self._module + ".nan")

        # SymPy's version calls simplify_logic on conditions containing ITE, which can fail
        # on exact forms (it substitutes values into Max(1/x, ...)); print them as they are.
        def _print_Piecewise(self, expr):
            exprs = ",".join(self._print(arg.expr) for arg in expr.args)
            conds = ",".join(self._print(arg.cond) for arg in expr.args)
            return "{}([{}], [{}], default={})".format(
                self._module_format(self._module + ".select"), conds, exprs,
                self._module_format(self._module + ".nan"))

        def _print_ITE(self, expr):
            return "{}({}, {}, {})".format(self._module_format(self._module + ".where"),
                                           *(self._print(a) for a in expr.args))

    return _Printer({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                     "user_functions": {}})


def formula_predict(expression: sp.Expr | str, feature_names: Sequence[str], X) -> np.ndarray:
    """Evaluate a formula (SymPy expression or string) on ``X`` (n, d), raw units -> (n,)."""
    names = [str(n) for n in feature_names]
    if isinstance(expression, str):
        expr = parse_formula(expression, names)  # a whitelisted grammar: stored text never runs as code
    elif isinstance(expression, sp.Basic):
        expr = expression
    else:
        raise SymexpError(f"expected a formula (text or SymPy expression), got {type(expression).__name__}")
    A = _as_matrix(X, len(names), "X")
    by_name = {s.name: s for s in expr.free_symbols}
    extra = sorted(n for n in by_name if n not in names)
    if extra:
        raise SymexpError(f"formula uses unknown symbol(s) {', '.join(extra)}; valid: {', '.join(names)}")
    args = [by_name.get(n, sp.Symbol(n)) for n in names]
    fn = sp.lambdify(args, expr, modules="numpy", dummify=True, printer=_printer())
    with np.errstate(all="ignore"):
        out = fn(*[A[:, j] for j in range(A.shape[1])])
    out = np.asarray(out)
    if np.iscomplexobj(out):
        out = np.where(np.abs(out.imag) > 0, np.nan, out.real)
    return np.array(np.broadcast_to(out.astype(float), (A.shape[0],)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error of two 1-D arrays of equal length."""
    a = np.asarray(y_true, dtype=float).reshape(-1)
    b = np.asarray(y_pred, dtype=float).reshape(-1)
    if a.shape != b.shape:
        raise SymexpError(f"rmse: y_true has {a.size} values but y_pred has {b.size}")
    if a.size == 0:
        raise SymexpError("rmse: no values")
    return float(np.sqrt(np.mean((a - b) ** 2)))
