"""Settings of one symbolic-regression fit (gplearn ``SymbolicRegressor`` plus symexp's extras).

Defaults are gplearn 0.4.3's own defaults wherever gplearn has the parameter (except ``metric``,
which defaults to ``"rmse"``), so that nothing the experiment depends on is hidden here: the
experiment config (``conf/sr/*.yaml``) passes every protocol value explicitly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from symexp.errors import SymexpError, unknown_choice

#: gplearn's built-in function names (``gplearn.functions._function_map``).
GPLEARN_FUNCTIONS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "sqrt", "log", "abs", "neg", "inv", "max", "min", "sin", "cos", "tan",
)
#: Every name accepted in ``function_set``: gplearn's built-ins plus symexp's capped ``exp``.
VALID_FUNCTIONS: tuple[str, ...] = GPLEARN_FUNCTIONS + ("exp",)
#: Fitness metrics that make ``predict`` return values on the scale of ``y``.
VALID_METRICS: tuple[str, ...] = ("rmse", "mse", "mean absolute error")
VALID_INIT_METHODS: tuple[str, ...] = ("half and half", "grow", "full")
#: Symbolic-regression engines: gplearn (the paper's) and operon (``pyoperon``, optional).
VALID_ENGINES: tuple[str, ...] = ("gplearn", "operon")
#: Settings only one engine reads: they are no part of the other engine's results (or record identity).
ENGINE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {"operon": ("max_length", "local_iterations")}
#: Settings that change how a fit runs but never its result.
RESULT_NEUTRAL_FIELDS: tuple[str, ...] = ("n_jobs", "low_memory")
#: Settings added after records were stored, with the value every earlier fit ran with: at that
#: value they are left out of a record's identity, so the earlier records keep their ids.
IDENTITY_OMITTED_AT: dict[str, Any] = {"local_iterations": 0}


@dataclass(frozen=True)
class SRSettings:
    """Everything that determines a symbolic-regression fit except the seed and the data.

    Parameters (gplearn's meaning unless said otherwise)
    ----------
    population_size, generations : int
        Programs per generation; generations to evolve (both >= 1).
    metric : str
        ``"rmse"`` (the paper), ``"mse"`` or ``"mean absolute error"``.
    parsimony_coefficient : float
        Length penalty (> 0). gplearn's ``"auto"`` is not supported.
    function_set : tuple of str
        Names from :data:`VALID_FUNCTIONS`. ``exp`` is symexp's protected exponential
        ``min(exp(x), exp_cap)`` (the authors' form).
    exp_cap : float
        Upper cap of the protected ``exp`` (> 0).
    time_limit_s : float or None
        Wall-clock cap of the evolution, checked after each generation; ``None`` = no cap.
    n_jobs : int
        gplearn's own ``n_jobs`` (programs of a generation evaluated in parallel).
    log_space : bool
        Fit on ``log(x)`` for the features flagged as log-scaled; the formula is rewritten in
        raw units either way.
    n_decimals : int or None
        Floats in the simplified formula are rounded to this many decimals (None = no rounding).
    simplify_timeout_s : float or None
        Give up ``sympy.simplify`` after this many seconds and keep the unsimplified expression
        (enforced with ``SIGALRM`` in the main thread only; elsewhere only the size limit applies).
        Applies to the readable formula and, separately, to the paper's complexity count.
    max_simplify_nodes : int or None
        Programs with more nodes than this are not simplified (None: no limit). The authors'
        cutoff: gplearn ``_program.length_ > 300`` (nodes; counted after inserting an ``abs``
        under every ``sqrt`` / ``log``, which is how the paper's complexity counts it, see
        :mod:`symexp.symbolic.paper_complexity`; the readable formula counts the program's own
        nodes, operon its tree length).
    tournament_size, stopping_criteria, const_range, init_depth, init_method, p_crossover,
    p_subtree_mutation, p_hoist_mutation, p_point_mutation, p_point_replace, max_samples,
    low_memory : gplearn's parameters, gplearn's defaults.
    engine : str
        ``"gplearn"`` (default, the paper's) or ``"operon"`` (:mod:`symexp.symbolic.operon`:
        pyoperon's NSGA-II on (error, length); see there which settings it uses). Build the
        estimator of either with :func:`symexp.symbolic.make_regressor`.
    max_length : int
        Operon only: the maximum tree length (nodes) of a program (pyoperon's default 50).
        gplearn has no length cap and ignores it.
    local_iterations : int
        Operon only: Levenberg-Marquardt iterations tuning each program's coefficients during
        evolution (pyoperon's ``optimizer_iterations``; its default 0 = linear scaling only).
        gplearn ignores it.
    """

    population_size: int = 1000
    generations: int = 20
    metric: str = "rmse"
    parsimony_coefficient: float = 0.001
    function_set: tuple[str, ...] = ("add", "sub", "mul", "div")
    exp_cap: float = 1e5
    time_limit_s: float | None = None  # the paper's 900 s cap is set in conf/sr/paper.yaml
    n_jobs: int = 1
    log_space: bool = False
    n_decimals: int | None = 3
    simplify_timeout_s: float | None = 60.0
    max_simplify_nodes: int | None = 300
    tournament_size: int = 20
    stopping_criteria: float = 0.0
    const_range: tuple[float, float] | None = (-1.0, 1.0)
    init_depth: tuple[int, int] = (2, 6)
    init_method: str = "half and half"
    p_crossover: float = 0.9
    p_subtree_mutation: float = 0.01
    p_hoist_mutation: float = 0.01
    p_point_mutation: float = 0.01
    p_point_replace: float = 0.05
    max_samples: float = 1.0
    low_memory: bool = False
    engine: str = "gplearn"
    max_length: int = 50
    local_iterations: int = 0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        # Lists (e.g. from YAML) become tuples so that the settings stay hashable.
        fs = self.function_set
        if isinstance(fs, str) or not hasattr(fs, "__iter__"):
            raise SymexpError(f"function_set must be a list of names, got {fs!r}; valid: {', '.join(VALID_FUNCTIONS)}")
        put("function_set", tuple(str(f) for f in fs))
        for f in self.function_set:
            if f not in VALID_FUNCTIONS:
                raise unknown_choice("function in function_set", f, VALID_FUNCTIONS)
        if not self.function_set:
            raise SymexpError(f"function_set is empty; valid names: {', '.join(VALID_FUNCTIONS)}")
        if len(set(self.function_set)) != len(self.function_set):
            raise SymexpError(f"function_set has duplicates: {list(self.function_set)}")

        if self.engine not in VALID_ENGINES:
            raise unknown_choice("SR engine", self.engine, VALID_ENGINES)
        put("max_length", _int("max_length", self.max_length, minimum=1))
        put("local_iterations", _int("local_iterations", self.local_iterations, minimum=0))
        put("population_size", _int("population_size", self.population_size, minimum=1))
        put("generations", _int("generations", self.generations, minimum=1))
        put("tournament_size", _int("tournament_size", self.tournament_size, minimum=1))
        put("n_jobs", _int("n_jobs", self.n_jobs, minimum=1))
        if self.metric not in VALID_METRICS:
            raise unknown_choice("metric", self.metric, VALID_METRICS)
        p = _float("parsimony_coefficient", self.parsimony_coefficient)
        if not p > 0:
            raise SymexpError(f"parsimony_coefficient must be > 0, got {self.parsimony_coefficient!r}")
        put("parsimony_coefficient", p)
        cap = _float("exp_cap", self.exp_cap)
        if not cap > 0:
            raise SymexpError(f"exp_cap must be > 0, got {self.exp_cap!r}")
        put("exp_cap", cap)
        for name in ("time_limit_s", "simplify_timeout_s"):
            v = getattr(self, name)
            if v is not None:
                v = _float(name, v)
                if not v > 0:
                    raise SymexpError(f"{name} must be > 0 or null (no limit), got {getattr(self, name)!r}")
                put(name, v)
        if self.n_decimals is not None:
            put("n_decimals", _int("n_decimals", self.n_decimals, minimum=0))
        if self.max_simplify_nodes is not None:
            put("max_simplify_nodes", _int("max_simplify_nodes", self.max_simplify_nodes, minimum=0))
        for name in ("log_space", "low_memory"):
            if not isinstance(getattr(self, name), bool):
                raise SymexpError(f"{name} must be true or false, got {getattr(self, name)!r}")

        put("stopping_criteria", _float("stopping_criteria", self.stopping_criteria))
        if self.const_range is not None:
            cr = _pair("const_range", self.const_range, float)
            if cr[0] > cr[1]:
                raise SymexpError(f"const_range must be (low, high) with low <= high, got {self.const_range!r}")
            put("const_range", cr)
        depth = _pair("init_depth", self.init_depth, int)
        if not 0 <= depth[0] <= depth[1]:
            raise SymexpError(f"init_depth must be (min, max) with 0 <= min <= max, got {self.init_depth!r}")
        put("init_depth", depth)
        if self.init_method not in VALID_INIT_METHODS:
            raise unknown_choice("init_method", self.init_method, VALID_INIT_METHODS)
        probs = ("p_crossover", "p_subtree_mutation", "p_hoist_mutation", "p_point_mutation", "p_point_replace")
        for name in probs:
            v = _float(name, getattr(self, name))
            if not 0 <= v <= 1:
                raise SymexpError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
            put(name, v)
        total = self.p_crossover + self.p_subtree_mutation + self.p_hoist_mutation + self.p_point_mutation
        if total > 1 + 1e-12:
            raise SymexpError(f"p_crossover + p_subtree_mutation + p_hoist_mutation + p_point_mutation must be <= 1, got {total:g}")
        ms = _float("max_samples", self.max_samples)
        if not 0 < ms <= 1:
            raise SymexpError(f"max_samples must be in (0, 1], got {self.max_samples!r}")
        put("max_samples", ms)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SRSettings:
        """Build settings from a mapping (e.g. a config section); unknown keys raise one line."""
        unknown = [k for k in values if k not in cls.field_names()]
        if unknown:
            raise SymexpError(f"unknown SR setting(s) {', '.join(map(str, unknown))}; valid: {', '.join(cls.field_names())}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def gplearn_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``gplearn.genetic.SymbolicRegressor`` except ``function_set``,
        ``random_state``, ``feature_names`` and ``warm_start`` (set by the caller)."""
        keys = ("population_size", "generations", "tournament_size", "stopping_criteria", "const_range",
                "init_depth", "init_method", "metric", "parsimony_coefficient", "p_crossover",
                "p_subtree_mutation", "p_hoist_mutation", "p_point_mutation", "p_point_replace",
                "max_samples", "low_memory", "n_jobs")
        return {k: getattr(self, k) for k in keys}


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value != int(value):
        raise SymexpError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise SymexpError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SymexpError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise SymexpError(f"{name} must be finite, got {value!r}")
    return v


def _pair(name: str, value: Any, kind: type) -> tuple:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise SymexpError(f"{name} must be a pair (low, high), got {value!r}") from None
    conv = _float if kind is float else (lambda n, v: _int(n, v, minimum=0))
    return (conv(name, a), conv(name, b))
