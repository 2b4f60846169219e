"""Result records: one JSON file per run, written atomically, skipped when it exists.

A *record* is the outcome of one fit: one symbolic-regression run, or one baseline, for one
(experiment, model, dataset, protocol, mode, sampling seed, sample size, SR seed, parsimony).
Records are flat JSON objects so that a whole store loads into one ``pandas.DataFrame``
(:func:`load_records`). The store layout mirrors the key, so ``ls`` shows what is done::

    <store>/<experiment>/<model>/<dataset>/<protocol>/<method>/seed<S>/n<N>-sr<R>-p<P>.json

Fields (``RECORD_FIELDS``):

======================  ====================================================================
experiment              preset name (smoke, table1, sample_size, parsimony, pdp, ...)
model, dataset          benchmark identity (e.g. ``lr``, ``blood_transfusion``)
protocol                ``hpobench`` or ``clean`` (see symexp.benchmarks)
method                  ``sr_bo``, ``sr_random``, ``sr_bo_gp``, ``gp_baseline``, ``linear_regression``
mode                    sampling mode of the training set: ``bo``, ``random``, ``bo_gp``
sampling_seed           seed of BO / random sampling
n_samples               training-set size n (BO evaluations for ``bo_gp``/GP baseline)
sr_seed                 gplearn random_state (``null`` for baselines)
parsimony               gplearn parsimony coefficient (``null`` for baselines)
hyperparameters         names of the explained hyperparameters, in column order
status                  ``ok`` or ``failed``
error                   one-line reason when ``failed``
test_rmse, train_rmse   RMSE against the true cost on the shared test grid / on the training set
complexity              sympy ``count_ops`` of the simplified formula (``null`` for baselines)
formula, formula_latex  simplified SymPy expression (floats rounded) as text and LaTeX
program                 the raw gplearn program
sr_engine               symbolic-regression engine (gplearn, operon); null for baselines
sr_timed_out            whether the wall-clock cap stopped evolution early
n_train_points          rows in the training set
n_trainings             model trainings this cell actually ran (cache misses)
warnings                list of notes (e.g. failed evaluations dropped from a training set)
timings                 {stage: {"wall_s": float, "cpu_s": float}}
versions                {package: version}
config_hash             hash of the resolved experiment config
created_at              ISO-8601 UTC
======================  ====================================================================
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from symexp.atomic import TMP_PREFIX, atomic_write_json

SCHEMA_VERSION = 1

METHODS = ("sr_bo", "sr_random", "sr_bo_gp", "gp_baseline", "linear_regression")
SR_METHODS = METHODS[:3]

RECORD_FIELDS = (
    "schema_version", "experiment", "model", "dataset", "protocol", "method", "mode",
    "sampling_seed", "n_samples", "sr_seed", "parsimony", "hyperparameters", "status", "error",
    "test_rmse", "train_rmse", "complexity", "formula", "formula_latex", "program",
    "sr_engine", "sr_timed_out", "n_train_points", "n_trainings", "warnings", "timings", "versions",
    "config_hash", "created_at",
)


@dataclass(frozen=True)
class RecordKey:
    """Identity of one record; its path in the store is derived from it."""

    experiment: str
    model: str
    dataset: str
    protocol: str
    method: str
    sampling_seed: int
    n_samples: int
    sr_seed: int | None = None
    parsimony: float | None = None

    def relpath(self) -> Path:
        sr = "na" if self.sr_seed is None else str(self.sr_seed)
        p = "na" if self.parsimony is None else format_parsimony(self.parsimony)
        return (
            Path(self.experiment) / self.model / self.dataset / self.protocol / self.method
            / f"seed{self.sampling_seed}" / f"n{self.n_samples}-sr{sr}-p{p}.json"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment, "model": self.model, "dataset": self.dataset,
            "protocol": self.protocol, "method": self.method, "sampling_seed": self.sampling_seed,
            "n_samples": self.n_samples, "sr_seed": self.sr_seed, "parsimony": self.parsimony,
        }


def format_parsimony(p: float) -> str:
    """A filename-safe, exact-enough spelling of a parsimony coefficient (``1e-04``, ``0.075``)."""
    return f"{p:.6g}"


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class RecordStore:
    """A directory of records. Safe for concurrent writers (one file per record, atomic rename)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, key: RecordKey) -> Path:
        return self.root / key.relpath()

    def exists(self, key: RecordKey) -> bool:
        return self.path(key).is_file()

    def read(self, key: RecordKey) -> dict[str, Any]:
        with open(self.path(key), encoding="utf-8") as fh:
            return json.load(fh)

    def write(self, key: RecordKey, fields: Mapping[str, Any]) -> Path:
        """Write the record for ``key`` atomically. Key fields override ``fields``."""
        record = {name: None for name in RECORD_FIELDS}
        record.update(fields)
        record.update(key.as_dict())
        record["schema_version"] = SCHEMA_VERSION
        record.setdefault("created_at", utc_now())
        if record["created_at"] is None:
            record["created_at"] = utc_now()
        unknown = set(record) - set(RECORD_FIELDS)
        if unknown:
            raise KeyError(f"unknown record fields: {sorted(unknown)}")
        return atomic_write_json(self.path(key), _finite_or_none(record))

    def iter_paths(self, experiment: str | None = None) -> Iterable[Path]:
        base = self.root / experiment if experiment else self.root
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*.json") if not p.name.startswith(TMP_PREFIX))


def _finite_or_none(obj: Any) -> Any:
    """NaN/inf are not JSON: store them as null (a failed metric)."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


def load_records(root: str | os.PathLike[str], experiment: str | None = None) -> pd.DataFrame:
    """All records under ``root`` (optionally one experiment) as a DataFrame, one row each.

    Columns are ``RECORD_FIELDS``; an empty store gives an empty frame with those columns.
    """
    store = RecordStore(root)
    rows = []
    for path in store.iter_paths(experiment):
        with open(path, encoding="utf-8") as fh:
            rows.append(json.load(fh))
    return pd.DataFrame(rows, columns=list(RECORD_FIELDS))
