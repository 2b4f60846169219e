"""Read an HPO run into a :class:`RunData`: a SMAC3 run directory, an Optuna study, or a CSV.

Every reader returns the same thing: the search space (a :class:`~symexp.benchmarks.space.SearchSpace` of
:class:`~symexp.benchmarks.space.Numerical` and :class:`~symexp.benchmarks.space.Categorical` hyperparameters), the
evaluated configurations ``X`` (one row per evaluation, one column per hyperparameter, raw units;
a categorical column holds the index of the choice) and their costs ``y``.

Names. Hyperparameter names become the symbols of the formula, so they must be Python
identifiers that SymPy does not use (``log``, ``E``, ``pi``, ...). Other names are renamed
(``classifier:C`` -> ``classifier_C``, ``lambda`` -> ``lambda_``, ``exp`` -> ``exp_``) and the
renaming is listed in the notes; options that take names accept both forms.

SMAC3 (2.x): a run directory holds ``runhistory.json`` and ``configspace.json``
(``smac3_output/<name>/<seed>/``; a parent directory with exactly one run below it works too).
Only trials with status SUCCESS are used; with several budgets, only the highest one; a
configuration evaluated on several instances or seeds gets the mean cost. Conditional spaces
are refused, constants dropped, ordinal hyperparameters treated as categorical.

Optuna: ``optuna.load_study`` on a storage URL (``sqlite:///study.db``) or a ``.db`` file;
complete trials only; hyperparameters that some complete trials lack (conditional ones) are
dropped with a note; ``step`` is ignored (the formula is continuous).

CSV: one column per hyperparameter plus a cost column, and a YAML/JSON space file::

    learning_rate: {type: float, lower: 1.0e-5, upper: 1.0, log: true}
    depth: {type: int, lower: 1, upper: 10}
    booster: {type: categorical, choices: [gbtree, dart]}

Without a space file the space is inferred from the data (numeric columns: [min, max], integer
when all values are; other columns: categorical), with a note saying so.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


# ----------------------------------------------------------------------------------------------
# dispatch
# ----------------------------------------------------------------------------------------------

def detect_kind(path: str) -> str:
    """``smac3`` for a directory, ``csv`` for ``*.csv``, ``optuna`` for a storage URL or SQLite file."""
    if "://" in path:
        return "optuna"
    p = Path(path)
    if p.is_dir():
        return "smac3"
    if p.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    if p.suffix.lower() in SQLITE_SUFFIXES:
        return "optuna"
    if not p.exists():
        raise SymexpError(f"{path} does not exist (expected a SMAC3 run directory, a CSV file, or an Optuna "
                          f"storage URL / .db file)")
    raise SymexpError(f"cannot tell what {path} is; expected a SMAC3 run directory, a .csv file or an Optuna "
                      f"storage (sqlite:///file.db or a .db file); or pass --kind {{{', '.join(KINDS)}}}")


def read_run(path: str | Path, kind: str | None = None, *, study: str | None = None,
             space_file: str | Path | None = None, cost_column: str = "cost", objective: int | None = None,
             drop_nonfinite: bool = False, ignore_columns: Sequence[str] | None = None,
             direction: str | None = None) -> RunData:
    """Read any supported run (``kind`` detected from ``path`` when None).

    CSV only: ``ignore_columns`` (columns that are neither hyperparameters nor the cost) and
    ``direction`` (``minimize``, the default, or ``maximize``)."""
    path = str(path)
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise unknown_choice("run kind", kind, KINDS)
    if kind != "optuna" and study is not None:
        raise SymexpError("--study is only for Optuna storages")
    if kind != "csv" and (space_file is not None or cost_column != "cost" or ignore_columns or direction is not None):
        raise SymexpError("--space, --cost-column, --ignore-columns and --direction are only for CSV files "
                          "(SMAC3 minimises its cost; an Optuna study records its own direction)")
    if direction is not None and direction not in DIRECTIONS:
        raise unknown_choice("direction", direction, DIRECTIONS)
    if kind == "smac3":
        return read_smac(path, objective=objective, drop_nonfinite=drop_nonfinite)
    if kind == "optuna":
        return read_optuna(path, study=study, objective=objective, drop_nonfinite=drop_nonfinite)
    if objective is not None:
        raise SymexpError("--objective is for multi-objective SMAC3 runs and Optuna studies; a CSV has one "
                          "cost column (choose it with --cost-column)")
    return read_csv(path, space_file=space_file, cost_column=cost_column, drop_nonfinite=drop_nonfinite,
                    ignore_columns=ignore_columns, direction=direction or "minimize")


def _pick_objective(values: Sequence[float], objective: int | None, where: str) -> float:
    k = len(values)
    if objective is None:
        if k != 1:
            raise SymexpError(f"{where} has {k} objectives; choose one with --objective 0..{k - 1}")
        return float(values[0])
    if not 0 <= objective < k:
        raise SymexpError(f"--objective {objective} does not exist; {where} has {k} objective(s): 0..{k - 1}")
    return float(values[objective])


# ----------------------------------------------------------------------------------------------
# SMAC3
# ----------------------------------------------------------------------------------------------

def find_smac_run(path: Path) -> Path:
    if (path / "runhistory.json").is_file():
        return path
    found = sorted({p.parent for pattern in ("*/runhistory.json", "*/*/runhistory.json") for p in path.glob(pattern)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise SymexpError(f"no SMAC3 run in {path}: expected runhistory.json and configspace.json (a SMAC3 2.x "
                          f"output directory such as smac3_output/<name>/<seed>)")
    raise SymexpError(f"{len(found)} SMAC3 runs below {path}: {', '.join(str(p) for p in found[:5])}; pass one of them")


def hyperparameter_from_configspace(hp: Any, notes: list[str]) -> Numerical | Categorical | None:
    """A symexp hyperparameter for a ConfigSpace one (None for constants)."""
    kind = type(hp).__name__
    name = hp.name
    if kind == "Constant":
        notes.append(f"constant hyperparameter {name}={hp.value!r} left out")
        return None
    if kind in ("CategoricalHyperparameter", "OrdinalHyperparameter"):
        choices = tuple(str(c) for c in (hp.choices if kind == "CategoricalHyperparameter" else hp.sequence))
        if len(set(choices)) != len(choices):
            raise SymexpError(f"categorical hyperparameter {name}: choices {list(choices)} are not distinct as text")
        if kind == "OrdinalHyperparameter":
            notes.append(f"ordinal hyperparameter {name} treated as categorical")
        default = str(hp.default_value) if hp.default_value is not None else None
        return Categorical(name, choices, default if default in choices else None)
    integer = "Integer" in kind
    if "Float" not in kind and not integer:
        raise SymexpError(f"hyperparameter {name}: unsupported ConfigSpace type {kind}")
    if not kind.startswith("Uniform"):
        notes.append(f"{name}: {kind} treated as uniform on its bounds")
    lower, upper = float(hp.lower), float(hp.upper)
    default = hp.default_value
    default = None if default is None or not lower <= float(default) <= upper else (int(default) if integer else float(default))
    return Numerical(name, int(lower) if integer else lower, int(upper) if integer else upper,
                     log=bool(getattr(hp, "log", False)), integer=integer, default=default)


def _value_index(hp: Numerical | Categorical, value: Any, where: str) -> float:
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


def read_smac(path: str | Path, objective: int | None = None, drop_nonfinite: bool = False) -> RunData:
    """A SMAC3 2.x run directory (``runhistory.json`` + ``configspace.json``)."""
    root = Path(path)
    if not root.is_dir():
        raise SymexpError(f"SMAC3 run directory {root} does not exist")
    run_dir = find_smac_run(root)
    cs_file = run_dir / "configspace.json"
    if not cs_file.is_file():
        raise SymexpError(f"{run_dir} has runhistory.json but no configspace.json; SMAC3 2.x writes both")
    from ConfigSpace import ConfigurationSpace

    try:
        cs = ConfigurationSpace.from_json(cs_file)
    except Exception as exc:  # noqa: BLE001 - any parse error of the user's file
        raise SymexpError(f"cannot read {cs_file}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    if list(cs.conditions):
        conditional = sorted({c.child.name for c in cs.conditions if hasattr(c, "child")})
        raise SymexpError(f"{cs_file}: conditional hyperparameters ({', '.join(conditional) or 'see conditions'}) are not "
                          f"supported; explain needs every hyperparameter set in every trial")
    notes: list[str] = []
    if list(cs.forbidden_clauses):
        notes.append("forbidden clauses of the configuration space are ignored (random samples may hit them)")
    hps = [h for h in (hyperparameter_from_configspace(hp, notes) for hp in cs.values()) if h is not None]

    rh_file = run_dir / "runhistory.json"
    try:
        with open(rh_file, encoding="utf-8") as fh:
            rh = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SymexpError(f"cannot read {rh_file}: {type(exc).__name__}: {exc}") from None
    if not isinstance(rh, dict) or not isinstance(rh.get("data"), list) or not isinstance(rh.get("configs"), dict):
        raise SymexpError(f"{rh_file} is not a SMAC3 2.x run history (expected 'data' and 'configs')")

    keys = ("config_id", "cost", "status")
    rows: dict[int, list[tuple[float | None, float]]] = {}
    n_other_status = 0
    for i, entry in enumerate(rh["data"]):
        if not isinstance(entry, dict) or any(k not in entry for k in keys):
            raise SymexpError(f"{rh_file}: trial {i} is missing one of {', '.join(keys)}")
        if entry["status"] != 1:  # StatusType.SUCCESS
            n_other_status += 1
            continue
        cid = entry["config_id"]
        if str(cid) not in rh["configs"]:
            raise SymexpError(f"inconsistent run files: {rh_file} trial {i} refers to configuration {cid}, which it "
                              f"does not list")
        cost = entry["cost"]
        cost_value = _pick_objective(cost, objective, f"SMAC3 run {run_dir}") if isinstance(cost, list) else (
            _pick_objective([cost], objective, f"SMAC3 run {run_dir}"))
        budget = entry.get("budget")
        rows.setdefault(int(cid), []).append((None if budget is None else float(budget), cost_value))
    if n_other_status:
        notes.append(f"left out {n_other_status} trial(s) without status SUCCESS (crashed, timed out, running, ...)")

    budgets = sorted({b for trials in rows.values() for b, _ in trials if b is not None})
    if len(budgets) > 1:
        top = budgets[-1]
        rows = {c: [t for t in trials if t[0] == top] for c, trials in rows.items()}
        rows = {c: t for c, t in rows.items() if t}
        notes.append(f"multi-fidelity run: only the {sum(len(t) for t in rows.values())} trial(s) at the highest "
                     f"budget {top:g} are used (budgets: {', '.join(f'{b:g}' for b in budgets)})")
    if any(len(t) > 1 for t in rows.values()):
        notes.append("configurations evaluated several times (instances or seeds) get their mean cost")

    X, y, labels = [], [], []
    for cid in sorted(rows):
        values = rh["configs"][str(cid)]
        if not isinstance(values, dict):
            raise SymexpError(f"inconsistent run files: configuration {cid} in {rh_file} is not a mapping")
        unknown = [k for k in values if k not in {hp.name for hp in hps} and k not in cs]
        if unknown:
            raise SymexpError(f"inconsistent run files: configuration {cid} sets {', '.join(unknown)}, which "
                              f"{cs_file.name} does not define")
        row = []
        for hp in hps:
            if hp.name not in values:
                raise SymexpError(f"inconsistent run files: configuration {cid} has no value for {hp.name}")
            row.append(_value_index(hp, values[hp.name], f"configuration {cid} in {rh_file.name}"))
        X.append(row)
        costs = [c for _, c in rows[cid]]
        y.append(float(np.mean(costs)) if all(math.isfinite(c) for c in costs) else float("nan"))
        labels.append(f"configuration {cid}")
    source = {"kind": "smac3", "path": str(run_dir), "n_trials": len(rh["data"])}
    n_objectives = max((len(e["cost"]) if isinstance(e["cost"], list) else 1) for e in rh["data"]) if rh["data"] else 1
    if objective is not None:
        source["objective"] = int(objective)
    name = _smac_objective_name(run_dir, 0 if objective is None else int(objective), n_objectives)
    return finish(hps, np.array(X, dtype=float).reshape(len(y), len(hps)), np.array(y), source, notes, labels,
                  drop_nonfinite, objective=name, direction="minimize", n_objectives=n_objectives)


def _smac_objective_name(run_dir: Path, index: int, n_objectives: int) -> str:
    """The objective's name from SMAC's ``scenario.json`` (``objectives``), else ``cost``."""
    try:
        with open(run_dir / "scenario.json", encoding="utf-8") as fh:
            names = json.load(fh).get("objectives")
    except (OSError, ValueError, AttributeError):
        names = None
    if isinstance(names, str):
        names = [names]
    if isinstance(names, list) and len(names) == n_objectives and all(isinstance(n, str) for n in names):
        return names[index]
    return "cost" if n_objectives == 1 else f"cost {index}"


# ----------------------------------------------------------------------------------------------
# Optuna
# ----------------------------------------------------------------------------------------------

#: Tables every Optuna RDB storage has (optuna/storages/_rdb/models.py).
OPTUNA_TABLES = frozenset({"studies", "trials", "version_info"})


def check_optuna_sqlite(file: Path, shown: str) -> None:
    """Refuse a file that is not an Optuna SQLite database, without writing to it.

    Optuna's storage creates its tables in any SQLite file it opens (and SQLite turns any empty
    file into a database), so this looks first: read-only, through SQLite's own URI mode."""
    import sqlite3

    try:
        with open(file, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise SymexpError(f"cannot read Optuna storage {shown}: {exc.strerror or exc}") from None
    if header != b"SQLite format 3\x00":
        raise SymexpError(f"{shown} is not an SQLite database, so not an Optuna storage "
                          f"(expected a file written by optuna.create_study(storage='sqlite:///...'))")
    try:
        con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise SymexpError(f"cannot read SQLite file {shown}: {exc}") from None
    missing = sorted(OPTUNA_TABLES - tables)
    if missing:
        raise SymexpError(f"{shown} is an SQLite database but not an Optuna storage (no table(s) "
                          f"{', '.join(missing)}); nothing was written to it")


def storage_url(path: str) -> str:
    """A storage URL for ``path``; SQLite files must exist (Optuna would create an empty one) and be
    Optuna databases (Optuna would add its tables to any other)."""
    if "://" not in path:
        p = Path(path)
        if not p.is_file():
            raise SymexpError(f"Optuna storage file {p} does not exist")
        check_optuna_sqlite(p, path)
        return f"sqlite:///{p.resolve()}"
    if path.startswith("sqlite:///"):
        file = path[len("sqlite:///"):]
        if file in ("", ":memory:"):
            raise SymexpError(f"Optuna storage {path} is an in-memory database; it holds no study")
        if not Path(file).is_file():
            raise SymexpError(f"Optuna storage {path}: file {file} does not exist")
        check_optuna_sqlite(Path(file), path)
    return path


def _merge_distribution(name: str, old: Any, new: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if old is None or old == new:
        return new
    if isinstance(old, CategoricalDistribution) and isinstance(new, CategoricalDistribution):
        choices = list(old.choices) + [c for c in new.choices if c not in old.choices]
        return CategoricalDistribution(choices)
    for cls in (FloatDistribution, IntDistribution):
        if isinstance(old, cls) and isinstance(new, cls):
            if old.log != new.log:
                raise SymexpError(f"inconsistent study: {name} is log-scaled in some trials and not in others")
            return cls(min(old.low, new.low), max(old.high, new.high), log=old.log)
    raise SymexpError(f"inconsistent study: {name} has different kinds of distributions "
                      f"({type(old).__name__}, {type(new).__name__})")


def read_optuna(storage: str, study: str | None = None, objective: int | None = None,
                drop_nonfinite: bool = False) -> RunData:
    """An Optuna study: ``storage`` is a URL (``sqlite:///x.db``) or a SQLite file."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(storage)
    try:
        names = optuna.get_all_study_names(storage=url)
    except Exception as exc:  # noqa: BLE001 - not a database, wrong URL, driver missing
        raise SymexpError(f"cannot open Optuna storage {storage}: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if study is None:
        if len(names) != 1:
            raise SymexpError(f"Optuna storage {storage} has {len(names)} studies; choose one with --study "
                              f"({', '.join(names) or 'none'})")
        study = names[0]
    elif study not in names:
        raise unknown_choice(f"study in {storage}", study, names)
    st = optuna.load_study(study_name=study, storage=url)
    trials = st.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    notes: list[str] = []
    if len(complete) < len(trials):
        notes.append(f"left out {len(trials) - len(complete)} trial(s) that are not COMPLETE (failed, pruned, running)")
    if not complete:
        raise SymexpError(f"study {study!r} has no complete trials")

    dists: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for t in complete:
        for name, dist in t.distributions.items():
            dists[name] = _merge_distribution(name, dists.get(name), dist)
            counts[name] = counts.get(name, 0) + 1
    partial = sorted(n for n, c in counts.items() if c < len(complete))
    if partial:
        notes.append(f"left out hyperparameter(s) {', '.join(partial)}: not set in every complete trial (conditional)")
    hps: list[Numerical | Categorical] = []
    for name, dist in dists.items():
        if name in partial:
            continue
        if isinstance(dist, CategoricalDistribution):
            choices = tuple(str(c) for c in dist.choices)
            if len(set(choices)) != len(choices):
                raise SymexpError(f"categorical hyperparameter {name}: choices {list(choices)} are not distinct as text")
            hps.append(Categorical(name, choices))
        elif isinstance(dist, IntDistribution | FloatDistribution):
            integer = isinstance(dist, IntDistribution)
            if dist.step is not None and dist.step != 1:
                notes.append(f"{name}: step {dist.step} ignored (the formula is continuous)")
            elif dist.step is not None and not integer:
                notes.append(f"{name}: step {dist.step} ignored (the formula is continuous)")
            if dist.low == dist.high:
                notes.append(f"hyperparameter {name} is fixed at {dist.low!r}; left out")
                continue
            hps.append(Numerical(name, int(dist.low) if integer else float(dist.low),
                                 int(dist.high) if integer else float(dist.high), log=bool(dist.log), integer=integer))
        else:
            raise SymexpError(f"hyperparameter {name}: unsupported Optuna distribution {type(dist).__name__}")

    X, y, labels = [], [], []
    for t in complete:
        where = f"trial {t.number}"
        X.append([_value_index(hp, t.params[hp.name], where) for hp in hps])
        values = t.values if t.values is not None else [float("nan")]
        y.append(_pick_objective(values, objective, f"study {study!r}"))
        labels.append(where)
    directions = [d.name.lower() for d in st.directions]
    k = 0 if objective is None else objective
    metric_names = getattr(st, "metric_names", None)
    if metric_names and len(metric_names) == len(directions) and metric_names[k]:
        name = str(metric_names[k])
    else:
        name = "objective" if len(directions) == 1 else f"objective {k}"
    source = {"kind": "optuna", "path": storage, "study": study, "n_trials": len(trials), "direction": directions[k]}
    if objective is not None:
        source["objective"] = int(objective)
    return finish(hps, np.array(X, dtype=float).reshape(len(y), len(hps)), np.array(y), source, notes, labels,
                  drop_nonfinite, objective=name, direction=directions[k], n_objectives=len(directions))


# ----------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------

SPACE_KEYS = {"type", "lower", "upper", "log", "choices", "default"}
SPACE_TYPES = ("float", "int", "categorical")


def read_space_file(path: str | Path) -> list[Numerical | Categorical]:
    """Hyperparameters from a YAML/JSON space file (see the module docstring)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise SymexpError(f"cannot read space file {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SymexpError(f"space file {p} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(data, list):  # [{name: ..., type: ...}, ...]
        try:
            data = {str(d["name"]): {k: v for k, v in d.items() if k != "name"} for d in data}
        except (TypeError, KeyError):
            raise SymexpError(f"space file {p}: a list must hold mappings with a 'name' key") from None
    if not isinstance(data, dict) or not data:
        raise SymexpError(f"space file {p} must map each hyperparameter name to {{type, lower, upper, log}} or "
                          f"{{type: categorical, choices}}")
    hps: list[Numerical | Categorical] = []
    for name, spec in data.items():
        where = f"space file {p}: {name}"
        if not isinstance(spec, dict):
            raise SymexpError(f"{where} must be a mapping like {{type: float, lower: 0, upper: 1}}")
        extra = sorted(set(spec) - SPACE_KEYS)
        if extra:
            raise SymexpError(f"{where}: unknown key(s) {', '.join(extra)}; valid: {', '.join(sorted(SPACE_KEYS))}")
        kind = spec.get("type", "categorical" if "choices" in spec else "float")
        if kind not in SPACE_TYPES:
            raise unknown_choice(f"type of {name} in {p}", kind, SPACE_TYPES)
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise SymexpError(f"{where}: a categorical needs a non-empty list 'choices'")
            texts = tuple(str(c) for c in choices)
            if len(set(texts)) != len(texts):
                raise SymexpError(f"{where}: choices {list(texts)} are not distinct")
            default = spec.get("default")
            hps.append(Categorical(str(name), texts, None if default is None else str(default)))
            continue
        for key in ("lower", "upper"):
            v = spec.get(key)
            if isinstance(v, str):
                # PyYAML (YAML 1.1) reads 1e-6 (no dot) as text; it is a number to the user
                try:
                    v = spec[key] = float(v) if math.isfinite(float(v)) else v
                except ValueError:
                    pass
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise SymexpError(f"{where}: '{key}' must be a number, got {v!r}")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise SymexpError(f"{where}: 'log' must be true or false, got {log!r}")
        integer = kind == "int"
        lo, hi = spec["lower"], spec["upper"]
        if integer and (lo != int(lo) or hi != int(hi)):
            raise SymexpError(f"{where}: an int hyperparameter needs integer bounds, got [{lo}, {hi}]")
        hps.append(Numerical(str(name), int(lo) if integer else float(lo), int(hi) if integer else float(hi),
                             log=log, integer=integer, default=spec.get("default")))
    return hps


#: Without a space file, a positive numeric column spanning at least this ratio (max / min) is
#: taken as log-scaled: HPO spaces put such ranges (learning rates, regularisation, C, gamma) on
#: a log scale, and a formula in raw units over several decades is rarely readable.
INFERRED_LOG_RATIO = 100.0


def _infer_space(df, names: list[str], notes: list[str]) -> list[Numerical | Categorical]:
    import pandas as pd

    hps: list[Numerical | Categorical] = []
    for name in names:
        col = df[name]
        num = pd.to_numeric(col, errors="coerce")
        if num.notna().all():
            lo, hi = float(num.min()), float(num.max())
            if lo == hi:
                notes.append(f"column {name} is constant ({lo:g}); left out")
                continue
            integer = bool(np.all(num == np.round(num)))
            log = lo > 0 and hi / lo >= INFERRED_LOG_RATIO
            hps.append(Numerical(name, int(lo) if integer else lo, int(hi) if integer else hi, integer=integer,
                                 log=log))
        else:
            hps.append(Categorical(name, tuple(sorted({str(v) for v in col.dropna()}))))
    notes.append("no space file: space inferred from the data ("
                 + "; ".join(hp.describe() for hp in hps)
                 + f"; log-scaled when positive and max/min >= {INFERRED_LOG_RATIO:g}); pass --space FILE for "
                   "the real bounds and log scales")
    return hps


def read_csv(path: str | Path, space_file: str | Path | None = None, cost_column: str = "cost",
             drop_nonfinite: bool = False, ignore_columns: Sequence[str] | None = None,
             direction: str = "minimize") -> RunData:
    """A CSV of configurations and costs, with an optional space file.

    Every column other than the cost must be a hyperparameter of the space or be listed in
    ``ignore_columns``: a column that varies could be a hyperparameter the space file forgot, and
    explaining without it would silently attribute its effect to the others. Constant columns
    outside the space are left out with a note."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise SymexpError(f"CSV file {p} does not exist")
    try:
        df = pd.read_csv(p, sep=None if p.suffix.lower() == ".tsv" else ",", engine="python")
    except Exception as exc:  # noqa: BLE001 - pandas raises many types on bad files
        raise SymexpError(f"cannot read CSV {p}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    columns = [str(c) for c in df.columns]
    df.columns = columns
    if cost_column not in columns:
        raise SymexpError(f"CSV {p} has no cost column {cost_column!r}; columns: {', '.join(columns)} "
                          f"(choose with --cost-column)")
    notes: list[str] = []
    ignore = [str(c) for c in (ignore_columns or [])]
    unknown = [c for c in ignore if c not in columns]
    if unknown:
        raise SymexpError(f"--ignore-columns: {', '.join(unknown)} not column(s) of {p} ({', '.join(columns)})")
    if cost_column in ignore:
        raise SymexpError(f"--ignore-columns lists the cost column {cost_column!r}")
    if ignore:
        notes.append(f"CSV column(s) {', '.join(ignore)} ignored (--ignore-columns)")
    if space_file is not None:
        hps = read_space_file(space_file)
        missing = [hp.name for hp in hps if hp.name not in columns]
        if missing:
            raise SymexpError(f"unknown hyperparameter name(s) {', '.join(missing)} in space file {space_file}: not "
                              f"columns of {p} ({', '.join(columns)})")
        if cost_column in {hp.name for hp in hps}:
            raise SymexpError(f"the cost column {cost_column!r} is also a hyperparameter in {space_file}")
        both = [hp.name for hp in hps if hp.name in ignore]
        if both:
            raise SymexpError(f"--ignore-columns lists {', '.join(both)}, which the space file {space_file} defines")
        outside = [c for c in columns if c != cost_column and c not in {hp.name for hp in hps} and c not in ignore]
        varying = [c for c in outside if df[c].nunique(dropna=False) > 1]
        if varying:
            raise SymexpError(f"CSV column(s) {', '.join(varying)} vary but are not in the space file {space_file}: add "
                              f"them to it if they are hyperparameters, or pass --ignore-columns {','.join(varying)}")
        if outside:
            notes.append(f"constant CSV column(s) {', '.join(outside)} not in the space file; left out")
    else:
        hps = _infer_space(df, [c for c in columns if c != cost_column and c not in ignore], notes)
    if len(df) == 0:
        raise SymexpError(f"CSV {p} has no rows")

    costs = pd.to_numeric(df[cost_column], errors="coerce")
    text_bad = [i for i in range(len(df)) if pd.isna(costs.iloc[i]) and not _is_nan_text(df[cost_column].iloc[i])]
    if text_bad:
        rows = ", ".join(str(i + 2) for i in text_bad[:5])
        raise SymexpError(f"cost column {cost_column!r} of {p} has non-numeric values (line(s) {rows})")
    X = np.empty((len(df), len(hps)))
    for j, hp in enumerate(hps):
        col = df[hp.name]
        for i in range(len(df)):
            v = col.iloc[i]
            where = f"{p.name} line {i + 2}"
            if isinstance(hp, Categorical):
                if pd.isna(v):
                    raise SymexpError(f"{where}: {hp.name} is empty")
                text = str(v) if str(v) in hp.choices else _choice_text(v)
                X[i, j] = _value_index(hp, text, where)
            else:
                try:
                    num = float(v)
                except (TypeError, ValueError):
                    raise SymexpError(f"{where}: {hp.name}={v!r} is not a number") from None
                if not math.isfinite(num):
                    raise SymexpError(f"{where}: {hp.name} is empty or not finite")
                if hp.integer and num != round(num):
                    raise SymexpError(f"{where}: {hp.name}={v!r} must be an integer")
                X[i, j] = _value_index(hp, num, where)
    labels = [f"line {i + 2}" for i in range(len(df))]
    source = {"kind": "csv", "path": str(p), "cost_column": cost_column,
              "space_file": None if space_file is None else str(space_file)}
    return finish(hps, X, costs.to_numpy(dtype=float), source, notes, labels, drop_nonfinite,
                  objective=cost_column, direction=direction)


def _is_nan_text(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return True  # NaN from an empty cell
    return str(v).strip().lower() in ("", "nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _choice_text(v: Any) -> str:
    # pandas reads 1, 2 as int and "1.0" as float; match the space file's text of the choice
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
