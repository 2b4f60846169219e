"""The operon engine: pyoperon's multi-objective symbolic regression behind the interface of
:class:`symexp.symbolic.SymbolicRegression`.

`pyoperon <https://github.com/heal-research/pyoperon>`_ (0.6.2, a binary wheel; nothing is
downloaded at run time) evolves programs with NSGA-II on two objectives, the training error
(``settings.metric``) and the program length, optimises every program's coefficients by
Levenberg-Marquardt and applies linear scaling (``a + b * program``). One fit therefore gives a
whole Pareto front of formulas (:attr:`OperonRegression.pareto_front_`), from the simplest to the
most accurate.

How :class:`~symexp.symbolic.SRSettings` maps onto operon
-----------------------------------------------------------

===========================  ========================================================================
setting                      use
===========================  ========================================================================
population_size              pyoperon ``population_size``
generations                  pyoperon ``generations``
metric                       first objective: ``rmse`` / ``mse`` / ``mae``; the second is ``length``
function_set                 pyoperon ``allowed_symbols`` (see :data:`OPERON_SYMBOLS`); ``neg`` is
                             implicit (every operon leaf carries a coefficient), ``inv`` is ``div``;
                             ``max`` / ``min`` are refused (pyoperon 0.6.2 mislabels them)
parsimony_coefficient        picks the single formula of ``formula_`` / ``predict`` from the front:
                             the member minimising ``error + parsimony * length``, the penalised
                             fitness gplearn selects with (so a parsimony sweep needs one fit only)
max_length                   pyoperon ``max_length`` (tree nodes)
local_iterations             pyoperon ``optimizer_iterations`` (Levenberg-Marquardt steps per program)
time_limit_s                 pyoperon ``max_time`` (whole seconds, rounded up)
n_jobs                       pyoperon ``n_threads`` (results are reproducible with 1 thread)
log_space, n_decimals,       as for gplearn
simplify_*, max_simplify_*
===========================  ========================================================================

gplearn's other parameters (tournament size, crossover and mutation probabilities, ``const_range``,
``init_*``, ``max_samples``, ``low_memory``, ``exp_cap``, ``stopping_criteria``) have no
operon counterpart and are ignored. operon's functions are *not* protected: ``log``, ``sqrt`` and
``div`` are the plain functions, and ``exp`` is not capped. Programs that are not finite on the
training data get the worst fitness and die out, so the front's formulas are finite there; off the
training points a formula may be undefined (NaN), like any formula.

Formulas. The operon tree is converted to SymPy node by node (leaves ``w * x``, constants ``c``,
linear scaling included), simplified and rounded exactly like gplearn's formulas
(:mod:`symexp.symbolic.convert`): same symbol assumptions from the data, same simplification
limits, floats rounded to ``n_decimals``, complexity ``sympy.count_ops``. The paper-style count
(``complexity_paper_``) is that of the tree's plain SymPy form (symbols ``X0, X1, ...`` without
assumptions, the program's own inputs) simplified and rounded as the authors did
(:func:`symexp.symbolic.paper_complexity.sympy_paper_complexity`), with the tree length as the
node count. operon evaluates in 32-bit floats, so ``predict`` (operon's own evaluation) and the
formula agree to about 1e-6 relative.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symexp.errors import SymexpError
from symexp.symbolic.convert import (
    Conversion,
    _simplify,
    _SimplifyTimeout,
    formula_string,
    make_symbols,
    round_floats,
    to_program_space,
)
from symexp.symbolic.paper_complexity import PaperComplexity, sympy_paper_complexity
from symexp.symbolic.regressor import SRBase, safe_latex
from symexp.symbolic.settings import SRSettings

#: symexp function names -> pyoperon symbols (``None``: implicit, nothing to add).
OPERON_SYMBOLS: dict[str, str | None] = {
    "add": "add", "sub": "sub", "mul": "mul", "div": "div", "sqrt": "sqrt", "log": "log", "exp": "exp",
    "sin": "sin", "cos": "cos", "tan": "tan", "abs": "abs", "neg": None, "inv": "div",
}
#: ``settings.metric`` -> pyoperon objective.
OPERON_METRICS: dict[str, str] = {"rmse": "rmse", "mse": "mse", "mean absolute error": "mae"}
OPERON_VERSION = "0.6.2"


def operon_status() -> str | None:
    """None if pyoperon imports; else a one-line reason (for skips and error messages)."""
    try:
        import pyoperon  # noqa: F401
        from pyoperon.sklearn import SymbolicRegressor  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken binary wheel (OSError)
        return f"pyoperon is not usable here ({type(exc).__name__}: {exc}); install pyoperon=={OPERON_VERSION}"
    return None


def require_operon() -> None:
    reason = operon_status()
    if reason is not None:
        raise SymexpError(f"SR engine 'operon' unavailable: {reason}")


def allowed_symbols(function_set: Sequence[str]) -> str:
    """pyoperon's ``allowed_symbols`` string for a symexp ``function_set``."""
    refused = [f for f in function_set if f not in OPERON_SYMBOLS]
    if refused:
        raise SymexpError(f"function(s) {', '.join(refused)} not available with SR engine 'operon'; "
                          f"valid: {', '.join(OPERON_SYMBOLS)}")
    symbols: list[str] = []
    for f in function_set:
        s = OPERON_SYMBOLS[f]
        if s is not None and s not in symbols:
            symbols.append(s)
    if not any(s in symbols for s in ("add", "sub", "mul", "div")):
        raise SymexpError(f"function_set {list(function_set)} needs at least one of add, sub, mul, div for operon")
    return ",".join(symbols + ["constant", "variable"])


# ----------------------------------------------------------------------------------------------
# operon tree -> SymPy
# ----------------------------------------------------------------------------------------------

def tree_to_sympy(tree, leaves: Sequence[sp.Expr], column_of_hash: dict[int, int]) -> sp.Expr:
    """The SymPy expression of an operon tree (postfix node list; the first argument of a node
    is the subtree right before it). ``leaves[j]`` stands for input column ``j``."""
    import pyoperon as op

    T = op.NodeType
    stack: list[sp.Expr] = []
    for node in tree.Nodes:
        t = node.Type
        if node.IsConstant:
            stack.append(sp.Float(float(node.Value)))
            continue
        if node.IsVariable:
            j = column_of_hash[int(node.HashValue)]
            w = float(node.Value)
            stack.append(leaves[j] if w == 1.0 else sp.Float(w) * leaves[j])
            continue
        k = int(node.Arity)
        if k < 1 or len(stack) < k:
            raise SymexpError(f"malformed operon tree at node {node.Name!r}")
        args = [stack.pop() for _ in range(k)]  # args[0] is the first argument
        if t == T.Add:
            e = sp.Add(*args)
        elif t == T.Mul:
            e = sp.Mul(*args)
        elif t == T.Sub:
            e = -args[0] if k == 1 else args[0] - sp.Add(*args[1:])
        elif t == T.Div:
            e = 1 / args[0] if k == 1 else args[0] / sp.Mul(*args[1:])
        elif t == T.Exp:
            e = sp.exp(args[0])
        elif t == T.Log:
            e = sp.log(args[0])
        elif t == T.Logabs:
            e = sp.log(sp.Abs(args[0]))
        elif t == T.Sqrt:
            e = sp.sqrt(args[0])
        elif t == T.Sqrtabs:
            e = sp.sqrt(sp.Abs(args[0]))
        elif t == T.Sin:
            e = sp.sin(args[0])
        elif t == T.Cos:
            e = sp.cos(args[0])
        elif t == T.Tan:
            e = sp.tan(args[0])
        elif t == T.Abs:
            e = sp.Abs(args[0])
        elif t == T.Square:
            e = args[0] ** 2
        elif t == T.Pow:
            e = args[0] ** args[1]
        elif t == T.Tanh:
            e = sp.tanh(args[0])
        else:
            raise SymexpError(f"cannot convert operon node {node.Name!r} to SymPy")
        stack.append(e)
    if len(stack) != 1:
        raise SymexpError("malformed operon tree: leftover operands")
    return stack[0]


def convert_tree(tree, program: str, names: Sequence[str], column_of_hash: dict[int, int], settings: SRSettings,
                 X: np.ndarray | None, log_features: Sequence[bool]) -> Conversion:
    """Simplify and round an operon tree like :func:`symexp.symbolic.convert_program` does."""
    t0 = time.perf_counter()
    syms = make_symbols(names, X)
    leaves = [sp.log(s) if flag else s for s, flag in zip(syms, log_features)]
    real_leaves = [sp.log(sp.Symbol(s.name, real=True)) if flag else sp.Symbol(s.name, real=True)
                   for s, flag in zip(syms, log_features)]
    exact = tree_to_sympy(tree, real_leaves, column_of_hash)
    raw = tree_to_sympy(tree, leaves, column_of_hash)
    note = None
    unrounded = raw
    limit = settings.max_simplify_nodes
    length = len(tree.Nodes)
    if limit is not None and length > limit:
        note = f"not simplified: program has {length} > {limit} nodes"
    else:
        try:
            unrounded = _simplify(raw, settings.simplify_timeout_s)
        except _SimplifyTimeout:
            note = f"not simplified: sympy.simplify took more than {settings.simplify_timeout_s:g} s"
        except Exception as exc:  # noqa: BLE001 - SymPy bugs on odd expressions
            note = f"not simplified: sympy.simplify raised {type(exc).__name__}"
    simplified = note is None
    try:
        expression = round_floats(unrounded, settings.n_decimals)
    except Exception as exc:  # noqa: BLE001
        expression = unrounded
        note = (note + "; " if note else "") + f"not rounded: {type(exc).__name__}"
    return Conversion(expression=expression, unrounded=unrounded, exact=exact, simplified=simplified, note=note,
                      complexity=int(sp.count_ops(expression)), seconds=time.perf_counter() - t0)


def tree_paper_complexity(tree, column_of_hash: dict[int, int], n_features: int, settings: SRSettings) -> PaperComplexity:
    """The paper-style operation count of an operon tree (see the module docstring)."""
    plain = tree_to_sympy(tree, [sp.Symbol(f"X{j}") for j in range(n_features)], column_of_hash)
    return sympy_paper_complexity(plain, len(tree.Nodes), n_decimals=settings.n_decimals,
                                  max_nodes=settings.max_simplify_nodes, timeout_s=settings.simplify_timeout_s)


# ----------------------------------------------------------------------------------------------
# the estimator
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FrontMember:
    """One formula of operon's Pareto front.

    ``length``: operon tree nodes (linear-scaling terms included); ``train_error``: the metric of
    ``settings`` on the training data (operon's evaluation); the rest as on the estimator.
    """

    index: int
    program: str
    length: int
    train_error: float
    expression: sp.Expr
    formula: str
    latex: str
    complexity: int
    simplified: bool
    conversion_note: str | None
    conversion: Conversion
    paper_complexity: PaperComplexity

    @property
    def complexity_paper(self) -> int:
        return self.paper_complexity.ops

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "program": self.program, "length": self.length,
                "train_error": self.train_error, "formula": self.formula, "latex": self.latex,
                "complexity": self.complexity, "complexity_paper": self.complexity_paper,
                "simplified": self.simplified, "conversion_note": self.conversion_note}


def _error(metric: str, y: np.ndarray, pred: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        r = np.asarray(pred, dtype=float) - y
        if metric == "rmse":
            v = float(np.sqrt(np.mean(r**2)))
        elif metric == "mse":
            v = float(np.mean(r**2))
        else:
            v = float(np.mean(np.abs(r)))
    return v if math.isfinite(v) else math.inf


class OperonRegression(SRBase):
    """Symbolic regression with pyoperon; the same interface as
    :class:`symexp.symbolic.SymbolicRegression` (see the module docstring for the settings).

    Fitted attributes (as :class:`SymbolicRegression`, where they apply)
    -----------------------------------------------------------------
    program_, program_length_   operon's infix string (6 decimals) and tree length of the chosen member
    expression_, formula_, latex_, complexity_, simplified_, conversion_note_, conversion_
    complexity_paper_, paper_complexity_   the paper-style count of the chosen member (module docstring)
    timed_out_                  operon stopped at ``time_limit_s`` before ``generations``
    generations_completed_, fit_seconds_, convert_seconds_
    run_details_                pyoperon's ``stats_``
    chosen_index_               position of the chosen member in ``pareto_front_``
    pareto_front_               list of :class:`FrontMember`, by increasing length (converted on
                                first access; the chosen member is converted at fit)
    """

    # -- fit / predict ---------------------------------------------------------------------------
    def fit(self, X, y, X_eval=None) -> OperonRegression:
        """Run operon on (X, y), keep its Pareto front and convert the chosen member.

        ``X_eval``: further points the formulas will be used on (symbol assumptions only).
        """
        require_operon()
        from pyoperon.sklearn import SymbolicRegressor as OperonSR

        names, logs = self._check_params()
        A = self._check_X(X, names, logs)
        yv = self._check_y(y, len(A))
        points = A if X_eval is None else np.vstack([A, self._check_X(X_eval, names, logs, "X_eval")])

        s = self.settings
        symbols = allowed_symbols(s.function_set)
        max_time = None if s.time_limit_s is None else max(1, math.ceil(s.time_limit_s))
        model = OperonSR(
            allowed_symbols=symbols, objectives=[OPERON_METRICS[s.metric], "length"],
            population_size=s.population_size, generations=s.generations, max_length=s.max_length,
            n_threads=s.n_jobs, max_time=max_time, random_state=int(self.random_state),
            optimizer_iterations=s.local_iterations,
        )
        Ap = to_program_space(A, logs)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            model.fit(Ap, yv)
        self.fit_seconds_ = time.perf_counter() - t0
        stats = dict(model.stats_)
        self.generations_completed_ = int(stats.get("generations", s.generations))
        self.timed_out_ = bool(s.time_limit_s is not None and self.generations_completed_ < s.generations
                               and self.fit_seconds_ >= s.time_limit_s * 0.99)
        self.run_details_ = stats
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self._names, self._logs, self._points = names, logs, points
        self._model = model
        self._column_of_hash = {int(h): j for j, h in enumerate(model.variables_)}
        prog_names = {h: (f"log_{n}" if flag else n) for h, n, flag in zip(model.variables_, names, logs)}

        import pyoperon as op

        raw = []
        for m in model.pareto_front_:
            tree = m["tree"]
            with np.errstate(all="ignore"):
                pred = model.evaluate_model(tree, Ap)
            raw.append({"tree": tree, "length": int(m["length"]), "train_error": _error(s.metric, yv, pred),
                        "program": op.InfixFormatter.Format(tree, prog_names, 6)})
        raw.sort(key=lambda r: (r["length"], r["train_error"]))
        if not raw:
            raise SymexpError("operon returned an empty Pareto front")
        self._raw_front = raw
        self._front_cache: dict[int, FrontMember] = {}

        penalised = [r["train_error"] + s.parsimony_coefficient * r["length"] for r in raw]
        self.chosen_index_ = int(np.argmin(penalised))
        chosen = self._member(self.chosen_index_)
        self.program_ = chosen.program
        self.program_length_ = chosen.length
        self.conversion_ = chosen.conversion
        self.expression_ = chosen.expression
        self.formula_ = chosen.formula
        self.latex_ = chosen.latex
        self.complexity_ = chosen.complexity
        self.simplified_ = chosen.simplified
        self.conversion_note_ = chosen.conversion_note
        self.convert_seconds_ = chosen.conversion.seconds
        self.paper_complexity_ = chosen.paper_complexity
        self.complexity_paper_ = chosen.complexity_paper
        return self

    def _member(self, i: int) -> FrontMember:
        if i not in self._front_cache:
            r = self._raw_front[i]
            conv = convert_tree(r["tree"], r["program"], self._names, self._column_of_hash, self.settings,
                                self._points, self._logs)
            paper = tree_paper_complexity(r["tree"], self._column_of_hash, len(self._names), self.settings)
            self._front_cache[i] = FrontMember(
                index=i, program=r["program"], length=r["length"], train_error=r["train_error"],
                expression=conv.expression, formula=formula_string(conv.expression), latex=safe_latex(conv.expression),
                complexity=conv.complexity, simplified=conv.simplified, conversion_note=conv.note, conversion=conv,
                paper_complexity=paper)
        return self._front_cache[i]

    @property
    def pareto_front_(self) -> list[FrontMember]:
        self._require_fitted()
        return [self._member(i) for i in range(len(self._raw_front))]

    def _require_fitted(self) -> None:
        if not hasattr(self, "_raw_front"):
            raise SymexpError("this OperonRegression is not fitted yet; call fit(X, y) first")

    def predict(self, X) -> np.ndarray:
        """The chosen member's predictions on ``X`` (raw units), shape (n,), operon's evaluation."""
        return self.predict_member(getattr(self, "chosen_index_", 0), X)

    def predict_member(self, index: int, X) -> np.ndarray:
        """Predictions of front member ``index`` on ``X`` (raw units), shape (n,)."""
        self._require_fitted()
        if not 0 <= int(index) < len(self._raw_front):
            raise SymexpError(f"front member {index} does not exist; the front has {len(self._raw_front)} members")
        A = self._check_X(X, self._names, self._logs)
        with np.errstate(all="ignore"):
            out = self._model.evaluate_model(self._raw_front[int(index)]["tree"], to_program_space(A, self._logs))
        return np.asarray(out, dtype=float).reshape(-1)
