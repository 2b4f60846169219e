"""Hyperparameter search spaces: validation, random sampling, the test grid, ConfigSpace export.

symexp keeps its own small description of a space (a tuple of hyperparameters with bounds,
log scale and integer flag) so that everything downstream (sampling, grids, formulas, records)
works on plain arrays with one column per hyperparameter, in raw (not log) units. SMAC gets a
``ConfigSpace.ConfigurationSpace`` built from it by :meth:`SearchSpace.to_configspace`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from symexp.errors import SymexpError, unknown_choice

Value = float | int | str


@dataclass(frozen=True)
class Numerical:
    """A numerical hyperparameter on ``[lower, upper]``, optionally log-scaled and/or integer.

    Parameters
    ----------
    name : str
    lower, upper : float
        Inclusive bounds in raw units.
    log : bool
        Sample and grid uniformly in ``log(value)``.
    integer : bool
        Values are integers (bounds must be integers too).
    default : float or int
        Value used when the hyperparameter is not being explained (HPOBench's default).
    """

    name: str
    lower: float
    upper: float
    log: bool = False
    integer: bool = False
    default: float | int | None = None

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise SymexpError(f"hyperparameter {self.name}: lower {self.lower} must be < upper {self.upper}")
        if self.log and self.lower <= 0:
            raise SymexpError(f"hyperparameter {self.name}: log scale needs lower > 0, got {self.lower}")
        if self.default is not None and not self.lower <= self.default <= self.upper:
            raise SymexpError(f"hyperparameter {self.name}: default {self.default} outside [{self.lower}, {self.upper}]")

    @property
    def is_numerical(self) -> bool:
        return True

    def describe(self) -> str:
        kind = "int" if self.integer else "float"
        scale = ", log" if self.log else ""
        return f"{self.name}: {kind} [{self.lower:g}, {self.upper:g}]{scale}"

    def validate(self, value: object) -> float | int:
        """Return ``value`` as int/float if it lies in the bounds, else raise a one-line error."""
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise SymexpError(f"hyperparameter {self.name} must be a number, got {value!r}; valid: {self.describe()}")
        v = float(value)
        if not math.isfinite(v) or not self.lower <= v <= self.upper:
            raise SymexpError(f"{self.name}={value!r} is outside the space; valid: {self.describe()}")
        if self.integer:
            if v != round(v):
                raise SymexpError(f"{self.name}={value!r} must be an integer; valid: {self.describe()}")
            return int(round(v))
        return v

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values drawn uniformly (in log space when ``log``); integers equally likely."""
        lo, hi = float(self.lower), float(self.upper)
        if self.integer:
            # Widen by half a step so that each integer gets the same mass before rounding.
            lo, hi = lo - 0.4999, hi + 0.4999
            if self.log:
                lo = max(lo, float(self.lower) * 0.5)  # stay positive for log
        if self.log:
            x = np.exp(rng.uniform(math.log(lo), math.log(hi), size=n))
        else:
            x = rng.uniform(lo, hi, size=n)
        if self.integer:
            x = np.clip(np.rint(x), self.lower, self.upper)
        return x

    def grid(self, n_points: int) -> np.ndarray:
        """Test-grid values: centres of ``n_points`` equal cells (in log space when ``log``).

        Integers are truncated and de-duplicated, and the upper bound is appended, as in the
        paper's code.
        """
        lo, hi = (math.log(self.lower), math.log(self.upper)) if self.log else (self.lower, self.upper)
        half = 0.5 * (hi - lo) / n_points
        pts = np.linspace(lo + half, hi - half, n_points)
        if self.log:
            pts = np.exp(pts)
        if self.integer:
            pts = np.unique(np.concatenate([np.trunc(pts), [self.upper]])).astype(float)
        return pts


@dataclass(frozen=True)
class Categorical:
    """A categorical hyperparameter. Supported for description only: formulas need numbers."""

    name: str
    choices: tuple[str, ...]
    default: str | None = None

    @property
    def is_numerical(self) -> bool:
        return False

    def describe(self) -> str:
        return f"{self.name}: one of {{{', '.join(self.choices)}}}"

    def validate(self, value: object) -> str:
        if value not in self.choices:
            raise SymexpError(f"{self.name}={value!r} is not a valid choice; valid: {self.describe()}")
        return str(value)


Hyperparameter = Numerical | Categorical


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of hyperparameters. Arrays use this order for their columns."""

    hyperparameters: tuple[Hyperparameter, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [hp.name for hp in self.hyperparameters]
        if len(set(names)) != len(names):
            raise SymexpError(f"duplicate hyperparameter names in {names}")
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})

    # -- access -----------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [hp.name for hp in self.hyperparameters]

    @property
    def dim(self) -> int:
        return len(self.hyperparameters)

    def __len__(self) -> int:
        return self.dim

    def __iter__(self):
        return iter(self.hyperparameters)

    def __getitem__(self, name: str) -> Hyperparameter:
        if name not in self._index:
            raise unknown_choice("hyperparameter", name, self.names)
        return self.hyperparameters[self._index[name]]

    def subspace(self, names: Sequence[str]) -> SearchSpace:
        """The space of ``names`` only (in the given order); unknown names raise."""
        return SearchSpace(tuple(self[n] for n in names))

    def defaults(self) -> dict[str, Value]:
        return {hp.name: hp.default for hp in self.hyperparameters if hp.default is not None}

    def describe(self) -> str:
        return "; ".join(hp.describe() for hp in self.hyperparameters)

    # -- validation -------------------------------------------------------------------------
    def require_numerical(self, purpose: str = "symbolic regression") -> SearchSpace:
        """Raise if any hyperparameter is categorical; return self for chaining."""
        cats = [hp.name for hp in self.hyperparameters if not hp.is_numerical]
        if cats:
            raise SymexpError(
                f"categorical hyperparameter(s) {', '.join(cats)} not supported for {purpose}; "
                f"only numerical ones are: {', '.join(n for n in self.names if n not in cats) or 'none'}"
            )
        return self

    def validate(self, config: Mapping[str, object]) -> dict[str, Value]:
        """Check that ``config`` sets exactly this space's hyperparameters to valid values.

        Returns the configuration with ints as ``int`` and floats as ``float`` (a canonical
        form used for cache keys). Raises :class:`SymexpError` otherwise.
        """
        unknown = [k for k in config if k not in self._index]
        if unknown:
            raise SymexpError(f"unknown hyperparameter(s) {', '.join(map(str, unknown))}; valid: {', '.join(self.names)}")
        missing = [n for n in self.names if n not in config]
        if missing:
            raise SymexpError(f"configuration is missing {', '.join(missing)}; the space is: {self.describe()}")
        return {hp.name: hp.validate(config[hp.name]) for hp in self.hyperparameters}

    # -- arrays -----------------------------------------------------------------------------
    def to_array(self, configs: Iterable[Mapping[str, object]]) -> np.ndarray:
        """Configurations -> array of shape (n, dim), raw units, columns in space order."""
        self.require_numerical("an array")
        rows = [[float(c[n]) for n in self.names] for c in configs]
        return np.asarray(rows, dtype=float).reshape(len(rows), self.dim)

    def from_array(self, X: np.ndarray) -> list[dict[str, Value]]:
        """Array of shape (n, dim) in raw units -> validated configurations (ints rounded)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise SymexpError(f"expected an array of shape (n, {self.dim}) for {self.names}, got {X.shape}")
        out = []
        for row in X:
            cfg = {}
            for hp, v in zip(self.hyperparameters, row):
                cfg[hp.name] = int(round(v)) if hp.integer else float(v)
            out.append(self.validate(cfg))
        return out

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random configurations as an array (n, dim), each column independent."""
        self.require_numerical("random sampling")
        if n < 0:
            raise SymexpError(f"number of samples must be >= 0, got {n}")
        return np.column_stack([hp.sample(rng, n) for hp in self.hyperparameters]) if n else np.empty((0, self.dim))

    def test_grid(self, points_per_dim: int) -> np.ndarray:
        """The Cartesian grid of :meth:`Numerical.grid` values, shape (m, dim).

        Row order: the first hyperparameter varies slowest (``itertools.product`` order).
        """
        self.require_numerical("the test grid")
        if points_per_dim < 1:
            raise SymexpError(f"points per dimension must be >= 1, got {points_per_dim}")
        axes = [hp.grid(points_per_dim) for hp in self.hyperparameters]
        return np.array(list(itertools.product(*axes)), dtype=float)

    def in_unit_cube(self, X: np.ndarray) -> np.ndarray:
        """Map raw values to [0, 1] per column (log-transformed for log hyperparameters)."""
        X = np.asarray(X, dtype=float)
        cols = []
        for j, hp in enumerate(self.hyperparameters):
            lo, hi, x = float(hp.lower), float(hp.upper), X[:, j]
            if hp.log:
                lo, hi, x = math.log(lo), math.log(hi), np.log(x)
            cols.append((x - lo) / (hi - lo))
        return np.column_stack(cols) if cols else np.empty((len(X), 0))

    # -- ConfigSpace ------------------------------------------------------------------------
    def to_configspace(self, seed: int | None = None):
        """A ``ConfigSpace.ConfigurationSpace`` with the same hyperparameters (for SMAC)."""
        from ConfigSpace import Categorical as CSCategorical
        from ConfigSpace import ConfigurationSpace, Float, Integer

        cs = ConfigurationSpace(seed=seed)
        for hp in self.hyperparameters:
            if isinstance(hp, Categorical):
                kw = {} if hp.default is None else {"default": hp.default}  # ConfigSpace rejects None
                cs.add(CSCategorical(hp.name, list(hp.choices), **kw))
            elif hp.integer:
                kw = {} if hp.default is None else {"default": int(hp.default)}
                cs.add(Integer(hp.name, (int(hp.lower), int(hp.upper)), log=hp.log, **kw))
            else:
                kw = {} if hp.default is None else {"default": float(hp.default)}
                cs.add(Float(hp.name, (float(hp.lower), float(hp.upper)), log=hp.log, **kw))
        return cs
