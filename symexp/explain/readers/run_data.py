"""What every reader returns (:class:`RunData`), the names formulas can use, and the checks of a run."""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symexp.errors import SymexpError, unknown_choice
from symexp.benchmarks.space import Categorical, Numerical, SearchSpace

KINDS = ("smac3", "optuna", "csv")
DIRECTIONS = ("minimize", "maximize")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
MIN_EVALUATIONS = 10


@dataclass
class RunData:
    """The evaluations of one HPO run, whatever tool made them.

    Attributes
    ----------
    space : SearchSpace
        Hyperparameters under their formula names (see the module docstring).
    X : ndarray (n, d)
        Evaluated configurations in raw units, columns in ``space`` order; categorical columns
        hold the choice index (0 .. k-1).
    y : ndarray (n,)
        The objective's values as the run recorded them (SMAC: cost; Optuna: the objective value,
        whatever its direction; CSV: the cost column).
    source : dict
        ``kind`` (smac3 | optuna | csv), ``path`` and what else identifies the run.
    original_names : dict
        Formula name -> the name in the run files (only names that were changed).
    notes : list of str
        What the reader decided (dropped trials, renamed or ignored hyperparameters, ...).
    objective : str
        The objective's name (SMAC's objective, Optuna's metric name, the CSV column), or
        ``"objective"`` / ``"objective k"`` when the run does not name it.
    direction : str
        ``minimize`` (lower is better) or ``maximize`` (higher is better).
    n_objectives : int
        Objectives the run recorded (``objective`` is one of them).
    """

    space: SearchSpace
    X: np.ndarray
    y: np.ndarray
    source: dict[str, Any]
    original_names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    objective: str = "cost"
    direction: str = "minimize"
    n_objectives: int = 1

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def better(self) -> str:
        """``higher is better`` or ``lower is better``."""
        return "higher is better" if self.maximize else "lower is better"

    def best_index(self) -> int:
        """Row of the best evaluation (the maximum of a maximised objective)."""
        return int(np.argmax(self.y) if self.maximize else np.argmin(self.y))

    def display_name(self, name: str) -> str:
        """The hyperparameter's name in the run files (for axes and tables)."""
        return self.original_names.get(name, name)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def categorical(self) -> list[str]:
        return [hp.name for hp in self.space if not hp.is_numerical]

    @property
    def numerical(self) -> list[str]:
        return [hp.name for hp in self.space if hp.is_numerical]

    def numeric_space(self) -> SearchSpace:
        """The space with each categorical as a continuous index on ``[-0.5, k - 0.5]``.

        Uniform sampling and equal-width grids of this space give every choice the same weight
        after rounding (:func:`round_categoricals`); fANOVA and partial dependence use it.
        """
        hps = []
        for hp in self.space:
            if hp.is_numerical:
                hps.append(hp)
            else:
                hps.append(Numerical(hp.name, -0.5, len(hp.choices) - 0.5))
        return SearchSpace(tuple(hps))

    def resolve(self, name: str) -> str:
        """The formula name of ``name`` (either form); unknown names raise one line."""
        if name in self.space.names:
            return name
        back = {v: k for k, v in self.original_names.items()}
        if name in back:
            return back[name]
        valid = [f"{n} ({self.original_names[n]})" if n in self.original_names else n for n in self.space.names]
        raise unknown_choice("hyperparameter", name, valid)

    def describe_config(self, row: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for hp, v in zip(self.space, row):
            if hp.is_numerical:
                out[hp.name] = int(round(v)) if hp.integer else float(v)
            else:
                out[hp.name] = hp.choices[int(round(v))]
        return out


def round_categoricals(space: SearchSpace, X: np.ndarray) -> np.ndarray:
    """Round and clip the categorical columns of ``X`` (numeric-space values) to choice indices."""
    X = np.array(X, dtype=float, copy=True)
    for j, hp in enumerate(space):
        if not hp.is_numerical:
            X[:, j] = np.clip(np.rint(X[:, j]), 0, len(hp.choices) - 1)
    return X


# ----------------------------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------------------------

def _reserved() -> frozenset[str]:
    from symexp.symbolic.convert import RESERVED_NAMES
    from symexp.symbolic.settings import VALID_FUNCTIONS

    return frozenset(RESERVED_NAMES) | frozenset(VALID_FUNCTIONS) | {"log10"}


def safe_names(names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Formula names for ``names`` and the map formula name -> original for the changed ones."""
    reserved = _reserved()
    out: list[str] = []
    changed: dict[str, str] = {}
    for name in names:
        s = re.sub(r"\W", "_", str(name), flags=re.ASCII)
        if not s or s[0].isdigit():
            s = "h_" + s
        if keyword.iskeyword(s) or s in reserved:
            s += "_"
        base, k = s, 2
        while s in out or (s != name and s in names):
            s = f"{base}_{k}"
            k += 1
        out.append(s)
        if s != name:
            changed[s] = str(name)
    return out, changed


def _renamed_note(changed: Mapping[str, str]) -> list[str]:
    if not changed:
        return []
    pairs = ", ".join(f"{orig!r} -> {new}" for new, orig in changed.items())
    return [f"renamed hyperparameters to formula symbols: {pairs}"]


def _rename(hp: Numerical | Categorical, name: str) -> Numerical | Categorical:
    if isinstance(hp, Categorical):
        return Categorical(name, hp.choices, hp.default)
    return Numerical(name, hp.lower, hp.upper, log=hp.log, integer=hp.integer, default=hp.default)


# ----------------------------------------------------------------------------------------------
# checks shared by the readers
# ----------------------------------------------------------------------------------------------

def finish(hps: Sequence[Numerical | Categorical], X: np.ndarray, y: np.ndarray, source: dict[str, Any],
           notes: list[str], row_labels: Sequence[str] | None = None, drop_nonfinite: bool = False,
           objective: str = "cost", direction: str = "minimize", n_objectives: int = 1) -> RunData:
    """Rename, check the costs, and build the :class:`RunData`."""
    if not hps:
        raise SymexpError(f"{source['kind']} run {source.get('path')}: no hyperparameters to explain")
    names, changed = safe_names([hp.name for hp in hps])
    space = SearchSpace(tuple(_rename(hp, n) for hp, n in zip(hps, names)))
    X = np.asarray(X, dtype=float).reshape(len(y), len(hps))
    y = np.asarray(y, dtype=float).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        labels = [row_labels[i] if row_labels is not None else str(i) for i in bad[:5]]
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        if not drop_nonfinite:
            raise SymexpError(f"{len(bad)} cost(s) are NaN or infinite ({', '.join(labels)}{more}); fix them or pass "
                              f"--drop-nonfinite to leave those evaluations out")
        keep = np.isfinite(y)
        X, y = X[keep], y[keep]
        notes.append(f"left out {len(bad)} evaluation(s) with NaN or infinite cost ({', '.join(labels)}{more})")
    if direction not in DIRECTIONS:
        raise unknown_choice("direction", direction, DIRECTIONS)
    source = dict(source, objective_name=objective, direction=direction)
    return RunData(space=space, X=X, y=y, source=source, original_names=changed, notes=notes + _renamed_note(changed),
                   objective=objective, direction=direction, n_objectives=int(n_objectives))


def check_run(run: RunData, min_evaluations: int | None = None) -> None:
    """Enough evaluations for a surrogate, costs not all equal; one-line errors otherwise."""
    d = run.space.dim
    need = max(MIN_EVALUATIONS, 2 * d) if min_evaluations is None else int(min_evaluations)
    if run.n < need:
        raise SymexpError(f"{run.n} usable evaluation(s) in {run.source.get('path')}; a GP surrogate over {d} "
                          f"hyperparameter(s) needs at least {need}")
    if not np.all(np.isfinite(run.y)):
        raise SymexpError("costs contain NaN or infinite values")
    if np.ptp(run.y) <= 1e-12 * max(1.0, float(np.max(np.abs(run.y)))):
        raise SymexpError(f"all {run.n} costs are equal ({run.y[0]:g}); there is nothing to explain")


def pick_objective(values: Sequence[float], objective: int | None, where: str) -> float:
    k = len(values)
    if objective is None:
        if k != 1:
            raise SymexpError(f"{where} has {k} objectives; choose one with --objective 0..{k - 1}")
        return float(values[0])
    if not 0 <= objective < k:
        raise SymexpError(f"--objective {objective} does not exist; {where} has {k} objective(s): 0..{k - 1}")
    return float(values[objective])


def value_index(hp: Numerical | Categorical, value: Any, where: str) -> float:
    if isinstance(hp, Categorical):
        text = str(value)
        if text not in hp.choices:
            raise SymexpError(f"{where}: {hp.name}={value!r} is not one of {list(hp.choices)}")
        return float(hp.choices.index(text))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SymexpError(f"{where}: {hp.name}={value!r} is not a number")
    v = float(value)
    tol = 1e-9 * max(1.0, abs(hp.lower), abs(hp.upper))
    if not math.isfinite(v) or not hp.lower - tol <= v <= hp.upper + tol:
        raise SymexpError(f"{where}: {hp.name}={value!r} is outside [{hp.lower:g}, {hp.upper:g}]")
    return min(max(v, float(hp.lower)), float(hp.upper))
