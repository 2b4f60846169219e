"""Read an HPO run into a :class:`RunData`: a SMAC3 run directory, an Optuna study, or a CSV.

One module per format (:mod:`.smac3`, :mod:`.optuna`, :mod:`.csv`); what they share (the
:class:`RunData` they return, names, checks) is in :mod:`.run_data`; :func:`read_run` picks the reader.

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

from collections.abc import Sequence
from pathlib import Path

from symexp.errors import SymexpError, unknown_choice
from symexp.explain.readers.csv import read_csv, read_space_file
from symexp.explain.readers.optuna import read_optuna
from symexp.explain.readers.run_data import (
    DIRECTIONS, KINDS, MIN_EVALUATIONS, SQLITE_SUFFIXES, RunData, check_run, finish, round_categoricals, safe_names,
)
from symexp.explain.readers.smac3 import read_smac

__all__ = ["DIRECTIONS", "KINDS", "MIN_EVALUATIONS", "RunData", "check_run", "detect_kind", "finish", "read_csv",
           "read_optuna", "read_run", "read_smac", "read_space_file", "round_categoricals", "safe_names"]


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
             direction: str | None = None, budget: float | str | None = None) -> RunData:
    """Read any supported run (``kind`` detected from ``path`` when None).

    CSV only: ``ignore_columns`` (columns that are neither hyperparameters nor the cost) and
    ``direction`` (``minimize``, the default, or ``maximize``). SMAC3 only: ``budget`` of a
    multi-fidelity run (:func:`read_smac`)."""
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
    if kind != "smac3" and budget is not None:
        raise SymexpError("--budget is for multi-fidelity SMAC3 runs")
    if kind == "smac3":
        return read_smac(path, objective=objective, drop_nonfinite=drop_nonfinite, budget=budget)
    if kind == "optuna":
        return read_optuna(path, study=study, objective=objective, drop_nonfinite=drop_nonfinite)
    if objective is not None:
        raise SymexpError("--objective is for multi-objective SMAC3 runs and Optuna studies; a CSV has one "
                          "cost column (choose it with --cost-column)")
    return read_csv(path, space_file=space_file, cost_column=cost_column, drop_nonfinite=drop_nonfinite,
                    ignore_columns=ignore_columns, direction=direction or "minimize")

