"""The paper's complexity of a formula: ``sympy.count_ops`` of the authors' conversion.

The paper's operation counts (Fig. 5, Fig. 8, the elbow rule) come from the authors' code
(automl/symbolic-explanations v0.1.0, ``utils/run_utils.py: convert_symb`` and
``run_symbolic_explanation_hpobench.py``). For a fitted gplearn program it

1. inserts an ``abs`` node under every ``sqrt`` and ``log`` (gplearn's protected versions act on
   ``|a|``), so ``sqrt(a)`` -> ``sqrt(Abs(a))``, ``log(a)`` -> ``log(Abs(a))``;
2. if the program then has more than 300 nodes (``_program.length_ > 300``, counted *after*
   the insertions), stops and counts the unconverted program (step 6);
3. builds the SymPy expression of the program's text ``str(program)`` with plain symbols
   ``X0, X1, ...`` (no assumptions), constants as printed by gplearn (``'%.3f'``), ``div`` ->
   ``a / b`` and ``exp`` -> ``exp(a)`` without guards or cap, ``abs`` -> ``Abs`` kept;
4. ``sympy.simplify``;
5. rounds every Float to 3 decimals, one ``subs`` per Float met in a pre-order traversal of the
   simplified expression;
6. ``sympy.count_ops``.

:func:`gplearn_paper_complexity` does exactly this, building the expression from the program's
node list (never by parsing text): the constants are ``Float('%.3f' % c)``, which is what
``sympify`` makes of gplearn's text. Differences, on purpose:

* Step 2: the authors passed the program *text* to ``count_ops``, which sympifies it: ``add``,
  ``sub``, ``mul`` become undefined functions counted as one operation each, and ``div`` becomes
  SymPy's polynomial division (a tuple; for non-polynomial arguments an exception, after which the
  count fell back to -1). symexp counts the unsimplified expression of step 3 instead.
* Simplification is bounded in time (``timeout_s``, SIGALRM in the main thread only); past it, the
  unsimplified expression is counted and ``note`` says so. The authors had no separate bound (a
  fit whose conversion outlasted the 900 s cap of fit + conversion was dropped).
* A SymPy error in steps 3-5 gives the count of the unsimplified expression with a note (the
  authors' code then counted an empty string, i.e. failed).
* Functions outside the authors' set (``neg``, ``inv``, ``max``, ``min``, ``tan``) map to
  ``-a``, ``1/a``, ``Max``, ``Min``, ``tan``.

:func:`sympy_paper_complexity` applies steps 2 and 4-6 to a plain SymPy expression (operon's
formulas: unprotected functions, full-precision constants).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from gplearn.functions import _Function

from symexp.errors import SymexpError
from symexp.symbolic.convert import _SimplifyTimeout, _with_alarm

#: The authors' cutoff: programs longer than this many nodes (after inserting the abs nodes) are
#: not simplified.
AUTHORS_MAX_NODES = 300


@dataclass(frozen=True)
class PaperComplexity:
    """The paper's complexity of one formula.

    Attributes
    ----------
    ops : int
        ``sympy.count_ops(expression)``.
    expression : sympy.Expr
        The expression counted (simplified and rounded unless ``simplified`` is False).
    simplified : bool
    length : int
        Program nodes the cutoff was applied to (gplearn: including the inserted ``abs`` nodes).
    note : str or None
        Why the expression was not simplified, if it was not.
    seconds : float
        Wall time.
    """

    ops: int
    expression: sp.Expr
    simplified: bool
    length: int
    note: str | None
    seconds: float


def authors_round(expr: sp.Expr, n_decimals: int) -> sp.Expr:
    """Round Floats as the authors did: for each Float met in a pre-order traversal of ``expr``
    (the original tree), ``expr = expr.subs(f, round(f, n_decimals))``."""
    out = expr
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Float):
            out = out.subs(node, round(node, n_decimals))
    return out


def _apply(name: str, args: list[sp.Expr]) -> sp.Expr:
    if name == "add":
        return args[0] + args[1]
    if name == "sub":
        return args[0] - args[1]
    if name == "mul":
        return args[0] * args[1]
    if name == "div":
        return args[0] / args[1]
    if name == "sqrt":  # the inserted abs node is applied by the caller's node list
        return sp.sqrt(args[0])
    if name == "log":
        return sp.log(args[0])
    if name == "abs":
        return sp.Abs(args[0])
    if name == "exp":
        return sp.exp(args[0])
    if name == "sin":
        return sp.sin(args[0])
    if name == "cos":
        return sp.cos(args[0])
    if name == "tan":
        return sp.tan(args[0])
    if name == "neg":
        return -args[0]
    if name == "inv":
        return 1 / args[0]
    if name == "max":
        return sp.Max(args[0], args[1])
    if name == "min":
        return sp.Min(args[0], args[1])
    raise SymexpError(f"no paper-style conversion for function {name!r}")


def _with_abs_nodes(nodes: Sequence) -> list:
    """The authors' step 1: an ``abs`` node right after every ``sqrt`` and ``log`` node."""
    from gplearn.functions import abs1

    out: list = []
    for node in nodes:
        out.append(node)
        if isinstance(node, _Function) and node.name in ("sqrt", "log"):
            out.append(abs1)
    return out


def _authors_expression(nodes: Sequence) -> sp.Expr:
    """Step 3: the expression of a prefix node list with plain symbols X<j> and '%.3f' constants."""

    def terminal(t) -> sp.Expr:
        if isinstance(t, int | np.integer):
            return sp.Symbol(f"X{int(t)}")
        return sp.Float("%.3f" % float(t))

    if not isinstance(nodes[0], _Function):
        return terminal(nodes[0])
    stack: list[list] = []
    for node in nodes:
        if isinstance(node, _Function):
            stack.append([node])
        else:
            stack[-1].append(terminal(node))
        while len(stack[-1]) == stack[-1][0].arity + 1:
            fn, *args = stack[-1]
            value = _apply(fn.name, args)
            if len(stack) == 1:
                return value
            stack.pop()
            stack[-1].append(value)
    raise SymexpError("malformed program: missing arguments")


def _count(build, length: int, n_decimals: int | None, max_nodes: int | None,
           timeout_s: float | None, t0: float) -> PaperComplexity:
    """Steps 2-6 around ``build()`` (which makes the unsimplified expression)."""
    raw = build()  # plain operations only (no guards): fast
    if max_nodes is not None and length > max_nodes:
        return PaperComplexity(int(sp.count_ops(raw)), raw, False, length,
                               f"not simplified: {length} > {max_nodes} nodes", time.perf_counter() - t0)

    def simplify_and_round():
        out = sp.simplify(raw)
        return authors_round(out, n_decimals) if n_decimals is not None else out

    try:
        expr = _with_alarm(simplify_and_round, timeout_s)
    except _SimplifyTimeout:
        return PaperComplexity(int(sp.count_ops(raw)), raw, False, length,
                               f"not simplified: simplify took more than {timeout_s:g} s", time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - SymPy bugs on odd expressions
        return PaperComplexity(int(sp.count_ops(raw)), raw, False, length,
                               f"not simplified: sympy raised {type(exc).__name__}", time.perf_counter() - t0)
    return PaperComplexity(int(sp.count_ops(expr)), expr, True, length, None, time.perf_counter() - t0)


def gplearn_paper_complexity(program, n_decimals: int | None = 3, max_nodes: int | None = AUTHORS_MAX_NODES,
                             timeout_s: float | None = 60.0) -> PaperComplexity:
    """The paper's complexity of a gplearn program (``_Program`` or fitted ``SymbolicRegressor``).

    See the module docstring; ``n_decimals`` (authors: 3), ``max_nodes`` (authors: 300) and
    ``timeout_s`` (bound on simplify + rounding) are the knobs.
    """
    t0 = time.perf_counter()
    inner = getattr(program, "_program", program)
    nodes = getattr(inner, "program", None)
    if not isinstance(nodes, list) or not nodes:
        raise SymexpError(f"expected a gplearn program or fitted SymbolicRegressor, got {type(program).__name__}")
    with_abs = _with_abs_nodes(nodes)
    return _count(lambda: _authors_expression(with_abs), len(with_abs), n_decimals, max_nodes, timeout_s, t0)


def sympy_paper_complexity(expression: sp.Expr, length: int, n_decimals: int | None = 3,
                           max_nodes: int | None = AUTHORS_MAX_NODES,
                           timeout_s: float | None = 60.0) -> PaperComplexity:
    """The paper's complexity of a plain SymPy expression (plain symbols, no guards) of a
    program with ``length`` nodes: steps 2 and 4-6 of the module docstring."""
    t0 = time.perf_counter()
    return _count(lambda: expression, int(length), n_decimals, max_nodes, timeout_s, t0)
