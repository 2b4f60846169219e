"""Writing records: one mechanism for both executors (:mod:`.cell`, one cell per job, and
:mod:`.work`, work items of many cells).

A record is computed only after :func:`claim_record` ("check, claim, check again": it exists, or
another live job holds it, or this job now holds its claim), and written by :func:`write_record`
(the result's fields plus the training set, the package versions and the stage timings that made
it, written atomically).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

from symexp.pipeline.baselines import LinearBaseline
from symexp.pipeline.spec import CellSpec
from symexp.pipeline.training import TrainingSet
from symexp.store.claims import Claim
from symexp.store.records import RecordKey, RecordStore
from symexp.symbolic.convert import rmse

Log = Callable[[str], None]

VERSIONED_PACKAGES = (
    "symexp", "smac", "ConfigSpace", "gplearn", "pyoperon", "scikit-learn", "numpy", "scipy", "sympy",
    "xgboost-cpu", "pandas", "openml",
)


def package_versions() -> dict[str, str]:
    """The installed version of every package a record's numbers may depend on (stored in it),
    and ``gplearn_fit``: which implementation of gplearn's fit ran (``fast`` or ``reference``,
    :mod:`symexp.symbolic.fast_gplearn`; the same programs, so no part of the identity)."""
    from symexp.symbolic.fast_gplearn import implementation

    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["gplearn_fit"] = implementation()
    return out


class Stopwatch:
    """Wall and CPU seconds of a block, accumulated under a stage name."""

    def __init__(self, timings: dict[str, dict[str, float]], stage: str):
        self.timings, self.stage = timings, stage

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        t = self.timings.setdefault(self.stage, {"wall_s": 0.0, "cpu_s": 0.0})
        t["wall_s"] += time.perf_counter() - self.w0
        t["cpu_s"] += time.process_time() - self.c0
        return False


BASELINES = ("gp_baseline", "linear_regression")


def baseline_fields(spec: CellSpec, method: str, ts: TrainingSet) -> dict[str, Any]:
    """The record fields of a baseline (``gp_baseline``: the GP's mean; ``linear_regression``)."""
    if method == "gp_baseline":
        mean, _ = ts.gp.predict(ts.X_test)
        return {"status": "ok", "test_rmse": rmse(ts.y_test, mean), "train_rmse": None}
    lin = LinearBaseline(ts.log_features if spec.linreg_log_features else None).fit(ts.X, ts.y)
    return {"status": "ok", "test_rmse": rmse(ts.y_test, lin.predict(ts.X_test)),
            "train_rmse": rmse(ts.y, lin.predict(ts.X))}


def record_fields(spec: CellSpec, ts: TrainingSet, fields: dict[str, Any], versions: dict[str, str],
                  n_trainings: int, timings: dict[str, dict[str, float]],
                  split_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record's fields from the result ``fields`` of a fit or baseline on training set ``ts``;
    ``timings``: the stage timings of the work that led to it (the fit's own are added);
    ``split_info``: which split of the data made the costs (the benchmark's)."""
    rec = {"hyperparameters": ts.names, "mode": spec.mode, "versions": versions, "artefacts": ts.artefacts,
           "split_info": split_info}
    rec.update(fields)
    rec["n_train_points"] = int(len(ts.y))
    rec["n_trainings"] = n_trainings
    stage_timings = {k: dict(v) for k, v in timings.items()}
    stage_timings.update(fields.get("timings", {}))
    rec["timings"] = stage_timings
    rec["warnings"] = ts.warnings or None
    return rec


EXISTS = "exists"            # complete (or failed and kept): nothing to compute
ELSEWHERE = "claimed elsewhere"  # another live job is computing it


def claim_record(store: RecordStore, key: RecordKey, keep_failed: bool, log: Log) -> Claim | str:
    """A held :class:`Claim` on a record this job should compute now, or :data:`EXISTS` /
    :data:`ELSEWHERE`. Checked again after claiming: another job may have finished it meanwhile."""
    if not store.needs_compute(key, keep_failed, log):
        return EXISTS
    claim = Claim(store.claim_path(key.record_id))
    if not claim.try_acquire():
        return ELSEWHERE
    if not store.needs_compute(key, keep_failed, log):  # finished by another job meanwhile
        claim.release()
        return EXISTS
    return claim


def write_record(store: RecordStore, key: RecordKey, spec: CellSpec, ts: TrainingSet, fields: dict[str, Any],
                 versions: dict[str, str], n_trainings: int, timings: dict[str, dict[str, float]],
                 split_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the record of ``key`` (atomically) from a fit's or baseline's ``fields``; returns it."""
    rec = record_fields(spec, ts, fields, versions, n_trainings, timings, split_info)
    store.write(key, rec)
    return rec
