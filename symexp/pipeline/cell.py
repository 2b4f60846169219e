"""One experiment cell, end to end: benchmark -> samples -> surrogate -> formula -> records.

A *cell* is one (model, dataset, protocol, mode, sampling seed). It writes one record per
(sample size, SR seed, parsimony), plus, in mode ``bo_gp``, the GP and linear-regression
baselines per sample size. Everything expensive that cells share (evaluations, the test set,
BO runs) comes from the cache and is computed once across processes.

Order of work, chosen so that a user error costs nothing and a killed job loses nothing:

1. validate the whole specification (bad input -> one-line :class:`SymexpError`, nothing written);
2. find the records still to compute: missing, damaged (set aside) or failed (unless
   ``keep_failed``), and claim them; records another live job has claimed are left to it;
3. test set, training sets (BO run / random sample / GP labels), each cached;
4. SR fits in parallel processes; each record is written atomically as soon as its fit ends,
   and its claim released.

The job holds its cell's presence lock throughout, so the status command can tell a running
cell from one whose job died.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symexp.parallel import imap_unordered
from symexp.pipeline.fit import fit_symbolic
from symexp.pipeline.plan import cell_id, planned_keys
from symexp.pipeline.recording import (
    BASELINES, ELSEWHERE, EXISTS, Log, Stopwatch, baseline_fields, claim_record, package_versions, write_record,
)
from symexp.pipeline.spec import CellSpec, validate_spec
from symexp.pipeline.training import pdp_training_sets, training_sets
from symexp.store.claims import Claim
from symexp.store.records import RecordKey, RecordStore
from symexp.benchmarks.testset import TestSet, load_or_compute_test_set


@dataclass
class CellReport:
    written: list[Path] = field(default_factory=list)
    skipped: int = 0
    claimed_elsewhere: int = 0
    failed: list[tuple[RecordKey, str]] = field(default_factory=list)
    n_trainings: int = 0
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


def _indexed(index: int, fn: Callable[..., dict[str, Any]], *args: Any) -> tuple[int, dict[str, Any]]:
    return index, fn(*args)


def claim_todo(store: RecordStore, keys: list[RecordKey], keep_failed: bool, log: Log,
               ) -> tuple[list[RecordKey], dict[str, Claim], int]:
    """``(todo, claims, n_claimed_elsewhere)``: the records to compute now, each claimed."""
    todo, claims, elsewhere = [], {}, 0
    for key in keys:
        claim = claim_record(store, key, keep_failed, log)
        if claim is ELSEWHERE:
            elsewhere += 1
        elif claim is not EXISTS:
            todo.append(key)
            claims[key.record_id] = claim
    return todo, claims, elsewhere


def run_cell(spec: CellSpec, log: Log = print, on_start: Callable[[], None] | None = None) -> CellReport:
    """Run one cell; see the module docstring. Returns what was written, skipped and failed.

    ``on_start()`` is called once this job has claimed records to compute (never when it found
    nothing to do): the job then owns the cell's status (:mod:`symexp.store.statusowner`)."""
    bench = validate_spec(spec)
    store = RecordStore(spec.store_dir)
    keys = planned_keys(spec, bench)
    presence = Claim(store.claim_path(f"cell-{cell_id(keys)}"), exclusive=False)
    for _ in range(100):  # shared: refused only during a status probe, which lasts microseconds
        if presence.try_acquire():
            break
        time.sleep(0.01)
    claims: dict[str, Claim] = {}
    try:
        todo, claims, elsewhere = claim_todo(store, keys, spec.keep_failed, log)
        report = CellReport(skipped=len(keys) - len(todo) - elsewhere, claimed_elsewhere=elsewhere)
        if not todo:
            busy = f"; {elsewhere} being computed by another job" if elsewhere else ""
            log(f"{spec.label}: {report.skipped} of {len(keys)} records exist{busy}, nothing to do")
            return report
        log(f"{spec.label}: {len(todo)} of {len(keys)} records to compute ({report.skipped} exist"
            + (f", {elsewhere} claimed by another job)" if elsewhere else ")"))
        if on_start is not None:
            on_start()
        _compute(spec, bench, store, todo, claims, report, log)
        return report
    finally:
        for claim in claims.values():
            claim.release()
        presence.release()


def _compute(spec: CellSpec, bench, store: RecordStore, todo: list[RecordKey], claims: dict[str, Claim],
             report: CellReport, log: Log) -> None:
    timings = report.timings
    trainings_before = bench.n_trainings
    if spec.pdp is None:
        with Stopwatch(timings, "test_set"):
            test: TestSet = load_or_compute_test_set(bench, spec.test_points_per_dim, spec.test_eval_seeds,
                                                     spec.cache_dir, n_jobs=spec.n_jobs, log=log)
        log(f"  test set: {len(test.y)} grid points x {len(test.eval_seeds)} seeds "
            f"({'computed' if test.computed_here else 'from cache'}, {timings['test_set']['wall_s']:.1f} s)")
        with Stopwatch(timings, "sampling"):
            sets, bo_trainings = training_sets(spec, bench, test, log)
    else:
        with Stopwatch(timings, "sampling"):
            sets, bo_trainings = pdp_training_sets(spec, bench, log)
    log(f"  training sets: n = {list(sets)} ({timings['sampling']['wall_s']:.1f} s)")
    report.n_trainings = bench.n_trainings - trainings_before + bo_trainings
    versions = package_versions()
    split_info = bench.split_info

    def write(key: RecordKey, fields: dict[str, Any]) -> None:
        rec = write_record(store, key, spec, sets[key.n_samples], fields, versions, report.n_trainings, timings,
                           split_info)
        claims.pop(key.record_id).release()
        report.written.append(store.path(key))
        if rec.get("status") != "ok":
            report.failed.append((key, rec.get("error") or "unknown"))

    # Baselines (bo_gp): cheap, written first.
    for key in todo:
        if key.method in BASELINES:
            with Stopwatch(timings, key.method):
                fields = baseline_fields(spec, key.method, sets[key.n_samples])
            write(key, fields)

    # Largest training sets first (longest fits first keeps both workers busy to the end), and
    # each record written the moment its fit ends, whatever the order.
    sr_keys = sorted((k for k in todo if k.method.startswith("sr_")), key=lambda k: -len(sets[k.n_samples].y))
    if not sr_keys:
        return
    log(f"  symbolic regression: {len(sr_keys)} fits on {min(spec.n_jobs, len(sr_keys))} process(es)")
    with Stopwatch(timings, "sr_total"):
        tasks = [(j, fit_symbolic, spec.sr, k.sr_seed, k.parsimony, sets[k.n_samples].names,
                  sets[k.n_samples].log_features, sets[k.n_samples].X, sets[k.n_samples].y,
                  sets[k.n_samples].X_test, sets[k.n_samples].y_test)
                 for j, k in enumerate(sr_keys)]
        for i, (j, fields) in enumerate(imap_unordered(_indexed, tasks, spec.n_jobs), start=1):
            key = sr_keys[j]
            write(key, fields)
            timed_out = "  [stopped by the time limit]" if fields.get("sr_timed_out") else ""
            status = (f"test RMSE {fields['test_rmse']:.4f}  ops {fields['complexity']}  {fields['formula']}{timed_out}"
                      if fields["status"] == "ok" else f"FAILED: {fields['error']}")
            log(f"  [{i}/{len(sr_keys)}] n={key.n_samples} sr_seed={key.sr_seed} p={key.parsimony:g}: {status}")
