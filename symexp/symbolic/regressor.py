"""The symbolic-regression estimator: gplearn's SymbolicRegressor with a wall-clock cap and a
SymPy formula in raw units.

The evolution runs in :class:`~symexp.symbolic.fast_gplearn.FastSymbolicRegressor`, which gives
gplearn 0.4.3's programs bit for bit, faster; ``SYMEXP_SR_REFERENCE=1`` runs gplearn's own class.

Evolution runs generation by generation (``warm_start=True``, ``generations = 1, 2, ...``) so that
the elapsed time can be checked after each generation. This gives exactly the program of a single
``fit`` with the same seed: gplearn draws one block of ``population_size`` program seeds per
generation from ``RandomState(random_state)`` and, on a warm start, re-creates that RandomState and
discards the blocks of the generations already evolved (``gplearn/genetic.py``, ``BaseSymbolic.fit``);
nothing else in ``fit`` draws from it. gplearn's early stop (best raw fitness <= ``stopping_criteria``)
is reproduced after each generation.

When the elapsed time reaches ``time_limit_s`` after a generation, evolution stops, the best
program of the last finished generation is kept and ``timed_out_`` is True. A generation is never
interrupted, so a fit can overrun the cap by at most one generation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import sympy
from sklearn.base import BaseEstimator, RegressorMixin

from symexp.errors import SymexpError
from symexp.symbolic.convert import _as_matrix, check_feature_names, convert_program, formula_string, to_program_space
from symexp.symbolic.functions import gplearn_function_set
from symexp.symbolic.paper_complexity import gplearn_paper_complexity
from symexp.symbolic.settings import SRSettings


class SRBase(RegressorMixin, BaseEstimator):
    """Parameters and input validation shared by the SR engines (gplearn, operon)."""

    def __init__(self, settings: SRSettings, random_state: int, feature_names: Sequence[str],
                 log_features: Sequence[bool] | None = None):
        self.settings = settings
        self.random_state = random_state
        self.feature_names = feature_names
        self.log_features = log_features

    def _check_params(self) -> tuple[list[str], list[bool]]:
        if not isinstance(self.settings, SRSettings):
            raise SymexpError(f"settings must be an SRSettings, got {type(self.settings).__name__}")
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int | np.integer) \
                or not 0 <= int(self.random_state) < 2**32:
            raise SymexpError(f"random_state must be an integer in [0, 2**32), got {self.random_state!r}")
        if isinstance(self.feature_names, str):
            raise SymexpError(f"feature_names must be a list of names, got the string {self.feature_names!r}")
        names = check_feature_names(self.feature_names)
        if self.log_features is None:
            logs = [False] * len(names)
        else:
            logs = [bool(v) for v in self.log_features]
            if len(logs) != len(names):
                raise SymexpError(f"log_features has {len(logs)} entries for {len(names)} features {names}")
        return names, (logs if self.settings.log_space else [False] * len(names))

    @staticmethod
    def _check_y(y, n_rows: int) -> np.ndarray:
        try:
            yv = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            raise SymexpError("y must be a 1-D numeric array") from None
        if yv.ndim != 1:
            raise SymexpError(f"y must be a 1-D array, got shape {yv.shape}")
        if len(yv) != n_rows:
            raise SymexpError(f"X has {n_rows} rows but y has {len(yv)} values")
        if len(yv) < 2:
            raise SymexpError(f"need at least 2 training points, got {len(yv)}")
        if not np.all(np.isfinite(yv)):
            raise SymexpError("y contains NaN or infinite values")
        return yv

    def _check_X(self, X, names: list[str], logs: list[bool], what: str = "X") -> np.ndarray:
        A = _as_matrix(X, len(names), what)
        if not np.all(np.isfinite(A)):
            raise SymexpError(f"{what} contains NaN or infinite values")
        bad = [names[j] for j in range(len(names)) if logs[j] and not np.all(A[:, j] > 0)]
        if bad:
            raise SymexpError(f"log-space feature(s) {', '.join(bad)} need values > 0 in {what}")
        return A


class SymbolicRegression(SRBase):
    """Symbolic regression of ``y`` on the columns of ``X`` (raw units).

    Parameters
    ----------
    settings : SRSettings
    random_state : int
        The SR seed (gplearn's ``random_state``).
    feature_names : sequence of str
        One per column of ``X``; the formula's symbols. Must be Python identifiers.
    log_features : sequence of bool, optional
        Which features are log-scaled. Only used when ``settings.log_space`` is True: those
        features are fitted on ``log(x)`` and the formula substitutes ``log(x)`` back.

    Fitted attributes
    -----------------
    program_ : str                gplearn's program string (constants shown with 3 decimals)
    program_length_ : int         gplearn's program length (nodes)
    expression_ : sympy.Expr      simplified, rounded formula in raw units (see ``convert``)
    formula_ : str                ``formula_string(expression_)`` (round-trips with ``parse_formula``)
    latex_ : str                  ``sympy.latex(expression_)``
    complexity_ : int             ``sympy.count_ops(expression_)`` (the readable formula's count)
    complexity_paper_ : int       the paper's operation count: ``count_ops`` of the authors' conversion
                                  of the program (plain symbols, ``Abs`` kept, no guards; see
                                  :mod:`symexp.symbolic.paper_complexity`); what the analysis compares
                                  with the paper
    paper_complexity_ : PaperComplexity  the expression counted and how (simplified, note, seconds)
    simplified_ : bool            False when simplification was skipped (``conversion_note_``)
    conversion_note_ : str|None
    conversion_ : Conversion      all forms of the formula (exact, unrounded, rounded)
    timed_out_ : bool             evolution stopped by ``time_limit_s``
    generations_completed_ : int
    fit_seconds_ : float          wall time of the evolution
    convert_seconds_ : float      wall time of the SymPy conversion
    run_details_ : dict           gplearn's per-generation statistics
    gp_ : gplearn SymbolicRegressor (population history dropped to save memory); a
                                  :class:`~symexp.symbolic.fast_gplearn.FastSymbolicRegressor`
                                  (same programs, faster) unless ``SYMEXP_SR_REFERENCE=1``
    """

    # -- fit / predict ------------------------------------------------------------------------
    def fit(self, X, y, X_eval=None) -> SymbolicRegression:
        """Evolve a program on (X, y) and convert it to a formula.

        ``X_eval`` (optional, raw units): further points the formula will be used on, e.g. the
        test grid. Guards of protected functions are decided on ``X`` and ``X_eval`` together
        (see :mod:`symexp.symbolic.convert`); without it, the formula equals the program on
        the training points, and possibly not elsewhere (``predict`` always uses the program).
        """
        from symexp.symbolic.fast_gplearn import regressor_class

        names, logs = self._check_params()
        A = self._check_X(X, names, logs)
        yv = self._check_y(y, len(A))
        points = A
        if X_eval is not None:
            points = np.vstack([A, self._check_X(X_eval, names, logs, "X_eval")])

        s = self.settings
        gp_names = [f"log_{n}" if flag else n for n, flag in zip(names, logs)]
        gp = regressor_class()(**s.gplearn_kwargs(), function_set=gplearn_function_set(s.function_set, s.exp_cap),
                               feature_names=gp_names, random_state=int(self.random_state), warm_start=True)
        Ap = to_program_space(A, logs)

        timed_out = False
        done = 0
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            for k in range(1, s.generations + 1):
                gp.set_params(generations=k)
                gp.fit(Ap, yv)
                done = k
                if gp.run_details_["best_fitness"][-1] <= s.stopping_criteria:
                    break  # gplearn's own early stop
                if k < s.generations and s.time_limit_s is not None and time.perf_counter() - t0 >= s.time_limit_s:
                    timed_out = True
                    break
        self.fit_seconds_ = time.perf_counter() - t0
        self.timed_out_ = timed_out
        self.generations_completed_ = done
        self.run_details_ = gp.run_details_
        del gp._programs  # 'population_size x generations' programs; only _program is needed
        gp.__dict__.pop("_fast_memo", None)  # the fast fit's table of evaluated programs
        self.gp_ = gp
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self._names, self._logs = names, logs

        program = gp._program
        self.program_ = str(program)
        self.program_length_ = int(program.length_)
        conv = convert_program(program, names, s.n_decimals, X=points, log_features=logs, exp_cap=s.exp_cap,
                               simplify_timeout_s=s.simplify_timeout_s, max_simplify_nodes=s.max_simplify_nodes)
        self.conversion_ = conv
        self.expression_ = conv.expression
        self.formula_ = formula_string(conv.expression)
        self.latex_ = safe_latex(conv.expression)
        self.complexity_ = conv.complexity
        self.simplified_ = conv.simplified
        self.conversion_note_ = conv.note
        self.convert_seconds_ = conv.seconds
        paper = gplearn_paper_complexity(program, n_decimals=s.n_decimals, max_nodes=s.max_simplify_nodes,
                                         timeout_s=s.simplify_timeout_s)
        self.paper_complexity_ = paper
        self.complexity_paper_ = paper.ops
        return self

    def predict(self, X) -> np.ndarray:
        """The program's predictions on ``X`` (raw units), shape (n,). Exact gplearn semantics."""
        if not hasattr(self, "gp_"):
            raise SymexpError("this SymbolicRegression is not fitted yet; call fit(X, y) first")
        A = self._check_X(X, self._names, self._logs)
        with np.errstate(all="ignore"):
            return np.asarray(self.gp_._program.execute(to_program_space(A, self._logs)), dtype=float).reshape(-1)


def safe_latex(expr: sympy.Expr) -> str:
    """``sympy.latex(expr)``; SymPy's printer can raise on valid expressions (e.g. it probes
    ``Min(exp(x), cap)`` at x = 0 and hits NaN), so fall back to printing without evaluation,
    then to the plain text form: a formula that cannot be typeset is still a result."""
    try:
        return sympy.latex(expr)
    except Exception:  # noqa: BLE001 - any printer failure
        pass
    try:
        with sympy.evaluate(False):
            return sympy.latex(expr, fold_short_frac=True)
    except Exception:  # noqa: BLE001
        return r"\text{" + str(expr).replace("_", r"\_") + "}"
