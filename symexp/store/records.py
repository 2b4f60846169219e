"""Result records: one JSON file per run, content-addressed, written atomically.

A *record* is the outcome of one fit: one symbolic-regression run, or one baseline. Its
identity is everything that determines its numbers (:mod:`symexp.pipeline.plan` builds it):
the benchmark (model, dataset and its content, protocol, fidelity, split, explained
hyperparameters, benchmark code version), the sampling mode and seed, the sample size, the SR
seed and parsimony, and every setting of SR, BO, the test set, BO-GP and PD that the record
depends on. ``record_id`` is a hash of that identity. Paths, ``n_jobs``, the cluster and the
experiment's name are not part of it: an experiment preset is a *view*, a set of record ids, and
two presets that ask for the same run share one record. Change a setting that changes a number
and the record id changes, so an old number never comes back.

Layout (``ls`` shows what is done; the id in the file name makes it exact)::

    <store>/STORE.json                                   format marker
    <store>/<model>/<dataset>/<protocol>/<method>/seed<S>/n<N>-sr<R>-p<P>-<engine>-<id>.json   (SR)
    <store>/<model>/<dataset>/<protocol>/<method>/seed<S>/n<N>-<id>.json                        (baselines)
    <store>/.claims/      lock files of fits and cells being computed (see :mod:`.claims`)
    <store>/**/.damaged/  records that did not parse or were incomplete, set aside

Records are flat JSON objects (a few fields hold small dicts), so a whole view loads into one
``pandas.DataFrame`` (:func:`load_records`). Fields (``RECORD_FIELDS``):

======================  ====================================================================
record_id               hash of ``identity``; also in the file name
identity                everything the record's numbers depend on (nested, canonical JSON)
model, dataset          benchmark labels (e.g. ``lr``, ``blood_transfusion``)
protocol                ``hpobench`` or ``clean`` (see symexp.benchmarks)
method                  ``sr_bo``, ``sr_random``, ``sr_bo_gp``, ``gp_baseline``, ``linear_regression``
mode                    sampling mode of the training set: ``bo``, ``random``, ``bo_gp``
sampling_seed           seed of BO / random sampling
n_samples               training-set size n (BO evaluations for ``bo_gp``/GP baseline)
sr_seed                 SR random_state (``null`` for baselines)
parsimony               parsimony coefficient (``null`` for baselines)
sr_engine               symbolic-regression engine (gplearn, operon); null for baselines
hyperparameters         names of the explained hyperparameters, in column order
status                  ``ok`` or ``failed`` (a fit that raised: a result, with its reason)
error                   one-line reason when ``failed``
test_rmse, train_rmse   RMSE against the true cost on the shared test grid / on the training set
complexity              the paper's operation count (SymPy ``count_ops`` of the authors' conversion)
formula_complexity      ``count_ops`` of the readable formula below
formula, formula_latex  readable simplified formula (floats rounded) as text and LaTeX; the text is
                        read back with a whitelisted grammar (symexp.symbolic.parse), never evaluated
program                 the raw SR program
sr_timed_out            whether the wall-clock cap stopped evolution early
n_train_points          rows in the training set
n_trainings             model trainings this cell actually ran (cache misses)
artefacts               cache files the record was computed from, relative to the cache root
split_info              which split of the data made the costs (``source``: ``openml_folds``,
                        ``openml_task``, ``stratified_kfold`` or ``synthetic``, with its seed, repeat,
                        fold and the row counts); null in records written before it existed
warnings                list of notes (e.g. failed evaluations dropped from a training set)
timings                 {stage: {"wall_s": float, "cpu_s": float}}
versions                {package: version}
created_at              ISO-8601 UTC
======================  ====================================================================
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from symexp.errors import SymexpError
from symexp.seeding import stable_hash
from symexp.store.atomic import TMP_PREFIX, atomic_write_json
from symexp.store.marker import check_store_format  # noqa: F401  (re-exported)
from symexp.store.once import DAMAGED_DIR, Log, read_checked, set_aside
from symexp.store.validate import file_id

SCHEMA_VERSION = 2
STORE_MARKER = "STORE.json"  # symexp.store.marker checks it
STORE_FORMAT = {"format": "symexp-records", "version": SCHEMA_VERSION}
CLAIMS_DIR = ".claims"

#: The methods, in the order of the paper's Table 1 columns (every table and summary uses it).
METHODS = ("sr_bo", "sr_random", "sr_bo_gp", "gp_baseline", "linear_regression")
SR_METHODS = METHODS[:3]
#: Their one visible spelling (the paper's Table 1 headers), in tables, figures and summaries.
METHOD_LABELS = {
    "sr_bo": "SR (BO)",
    "sr_random": "SR (Random)",
    "sr_bo_gp": "SR (BO-GP)",
    "gp_baseline": "GP Baseline",
    "linear_regression": "Linear Regression",
}
STATUSES = ("ok", "failed")

RECORD_FIELDS = (
    "schema_version", "record_id", "identity", "model", "dataset", "protocol", "method", "mode",
    "sampling_seed", "n_samples", "sr_seed", "parsimony", "sr_engine", "hyperparameters", "status", "error",
    "test_rmse", "train_rmse", "complexity", "formula_complexity", "formula", "formula_latex",
    "program", "sr_timed_out", "n_train_points", "n_trainings", "artefacts", "split_info", "warnings", "timings",
    "versions",
    "created_at",
)


@dataclass(frozen=True)
class RecordKey:
    """Identity of one record. Build it with :meth:`from_identity`; equal keys have equal ids."""

    record_id: str
    model: str
    dataset: str
    protocol: str
    method: str
    sampling_seed: int
    n_samples: int
    sr_seed: int | None = None
    parsimony: float | None = None
    engine: str | None = None
    identity: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_identity(cls, identity: Mapping[str, Any]) -> RecordKey:
        """The key of the record whose numbers are determined by ``identity``.

        ``identity`` must name the benchmark (``benchmark``: model, dataset, protocol, key), the
        ``method``, ``sampling_seed`` and ``n_samples``; SR records also ``sr_seed``,
        ``parsimony`` and ``sr`` (with its ``engine``).
        """
        bench = identity["benchmark"]
        is_sr = identity["method"] in SR_METHODS
        return cls(
            record_id=stable_hash(dict(identity)),
            model=str(bench["model"]), dataset=str(bench["dataset"]), protocol=str(bench["protocol"]),
            method=str(identity["method"]), sampling_seed=int(identity["sampling_seed"]),
            n_samples=int(identity["n_samples"]),
            sr_seed=int(identity["sr_seed"]) if is_sr else None,
            parsimony=float(identity["parsimony"]) if is_sr else None,
            engine=str(identity["sr"]["engine"]) if is_sr else None,
            identity=dict(identity),
        )

    def relpath(self) -> Path:
        run = f"n{self.n_samples}"
        if self.method in SR_METHODS:
            run += f"-sr{self.sr_seed}-p{format_parsimony(self.parsimony)}-{self.engine}"
        return (Path(self.model) / self.dataset / self.protocol / self.method / f"seed{self.sampling_seed}"
                / f"{run}-{self.record_id}.json")

    def labels(self) -> dict[str, Any]:
        """The key's fields as record fields."""
        return {
            "record_id": self.record_id, "identity": dict(self.identity), "model": self.model,
            "dataset": self.dataset, "protocol": self.protocol, "method": self.method,
            "sampling_seed": self.sampling_seed, "n_samples": self.n_samples, "sr_seed": self.sr_seed,
            "parsimony": self.parsimony, "sr_engine": self.engine,
            **({"mode": self.identity["mode"]} if "mode" in self.identity else {}),
        }

    def describe(self) -> str:
        sr = f" sr_seed={self.sr_seed} p={self.parsimony:g}" if self.sr_seed is not None else ""
        return (f"{self.model}/{self.dataset}/{self.protocol} {self.method} seed={self.sampling_seed} "
                f"n={self.n_samples}{sr}")


def format_parsimony(p: float | None) -> str:
    """A filename-safe, exact-enough spelling of a parsimony coefficient (``0.0001``, ``0.075``)."""
    return "na" if p is None else f"{p:.6g}"


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def record_problem(record: Any, key: RecordKey | None = None, file_id: str | None = None) -> str | None:
    """What is wrong with a stored record (``None`` if it agrees with itself and belongs to ``key``);
    the checks are :func:`symexp.store.validate.record_problem`'s."""
    from symexp.store.validate import record_problem as check

    return check(record, key, file_id)


def _finite_or_none(obj: Any) -> Any:
    """NaN/inf are not JSON: store them as null (a failed metric)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj


class RecordStore:
    """A directory of records. Safe for concurrent writers (one file per record, atomic rename).

    Opening checks the format marker: a directory written by an older symexp (records keyed by
    experiment name, without their settings) is refused with a one-line message, never mixed in.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        check_store_format(self.root)
        self._marked = False

    # -- paths ---------------------------------------------------------------------------------
    def path(self, key: RecordKey) -> Path:
        return self.root / key.relpath()

    def claim_path(self, name: str) -> Path:
        return self.root / CLAIMS_DIR / f"{name}.lock"

    # -- writing -------------------------------------------------------------------------------
    def ensure_writable(self) -> None:
        """Create the store (with its marker) and prove it takes files; one-line error otherwise.

        Called before any computation, so that a read-only or full store is found before hours of
        work, not after.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            marker = self.root / STORE_MARKER
            if not marker.exists():
                atomic_write_json(marker, STORE_FORMAT)
            fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX + "probe-", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise SymexpError(f"record store {self.root} is not writable ({exc.strerror or exc}); "
                              "pass a writable directory as paths.store (or $SYMEXP_STORE)") from None

    def write(self, key: RecordKey, fields: Mapping[str, Any]) -> Path:
        """Write the record for ``key`` atomically. Key fields override ``fields``."""
        record = {name: None for name in RECORD_FIELDS}
        record.update(fields)
        record.update(key.labels())
        record["schema_version"] = SCHEMA_VERSION
        if record.get("created_at") is None:
            record["created_at"] = utc_now()
        unknown = set(record) - set(RECORD_FIELDS)
        if unknown:
            raise KeyError(f"unknown record fields: {sorted(unknown)}")
        record = _finite_or_none(record)
        problem = record_problem(record, key)
        if problem:  # never store what would be set aside when read back
            raise ValueError(f"refusing to write an incomplete record for {key.describe()}: {problem}")
        if not self._marked:  # a store is marked with its format before its first record
            marker = self.root / STORE_MARKER
            if not marker.exists():
                atomic_write_json(marker, STORE_FORMAT)
            self._marked = True
        return atomic_write_json(self.path(key), record)

    # -- reading -------------------------------------------------------------------------------
    def read(self, key: RecordKey) -> dict[str, Any]:
        """The record of ``key``; raises ``FileNotFoundError`` or ``ValueError`` (damaged)."""
        record, problem = read_checked(self.path(key), lambda r: record_problem(r, key, key.record_id))
        if problem:
            raise ValueError(f"damaged record {self.path(key)}: {problem}")
        if record is None:
            raise FileNotFoundError(self.path(key))
        return record

    def state(self, key: RecordKey) -> tuple[str, str | None]:
        """``("missing" | "ok" | "failed" | "damaged", detail)``; reads, never moves a file."""
        record, problem = read_checked(self.path(key), lambda r: record_problem(r, key, key.record_id))
        if problem:
            return "damaged", problem
        if record is None:
            return "missing", None
        return record["status"], record.get("error")

    def needs_compute(self, key: RecordKey, keep_failed: bool = False, log: Log | None = None) -> bool:
        """Whether the run of ``key`` must (still) be computed.

        Missing: yes. Damaged: the file is set aside (reported through ``log``), then yes.
        Failed: yes, unless ``keep_failed``. Ok: no.
        """
        state, detail = self.state(key)
        if state == "damaged":
            set_aside(self.path(key), detail or "damaged", log)
            return True
        return state == "missing" or (state == "failed" and not keep_failed)

    def iter_paths(self) -> list[Path]:
        """Every record file (temporary files, claims and set-aside files excluded)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*.json")
                      if p.name != STORE_MARKER and not p.name.startswith(TMP_PREFIX)
                      and DAMAGED_DIR not in p.parts and CLAIMS_DIR not in p.parts)


def load_records(root: str | os.PathLike[str], keys: Sequence[RecordKey] | None = None,
                 ) -> tuple[pd.DataFrame, list[tuple[Path, str]]]:
    """Records as a DataFrame (one row each, columns ``RECORD_FIELDS``) and the damaged ones.

    ``keys``: the records of a view (missing ones are simply absent); ``None``: every record in
    the store. Damaged files are listed as ``(path, reason)``, never raised and never moved.
    """
    store = RecordStore(root)
    if keys is None:
        items: Iterable[tuple[Path, RecordKey | None]] = ((p, None) for p in store.iter_paths())
    else:
        items = ((store.path(k), k) for k in keys)
    rows, damaged = [], []
    for path, key in items:
        record, problem = read_checked(path, lambda r, k=key, p=path: record_problem(r, k, file_id(p.name)))
        if problem:
            damaged.append((path, problem))
        elif record is not None:
            rows.append(record)
    return pd.DataFrame(rows, columns=list(RECORD_FIELDS)), damaged
