"""A cell's records and their identities: what each number depends on, and nothing else.

:func:`record_identity` is the single place that says which settings determine a record:

==================  ===================================================================
every record        benchmark key (model, dataset + content, protocol, fidelity, split,
                    explained hyperparameters, benchmark version), method, sampling seed,
                    n, :data:`PIPELINE_VERSION`; the test grid and its evaluation seeds
                    (the PD grid size for ``pdp``)
BO-based modes      every setting of the SMAC run the training set comes from (budget,
                    snapshots, initial design, selection; ``BOSettings.run_settings``)
BO-GP SR, LR        the number of GP-labelled points
SR records          every SR setting the engine reads, except those that only change how fast
                    a fit runs (``n_jobs``, ``low_memory``); the SR seed, the parsimony coefficient
linear regression   whether it fits on log features
pdp                 every PD setting
==================  ===================================================================

Not in it: paths, ``n_jobs``, the cluster, the experiment's name. An experiment preset is a
*view* (the records its cells plan), so ``table1`` (n = 140) finds the records ``sample_size``
already computed, and the parsimony sweep's p = 1e-4 member is ``sample_size``'s n = 200 record.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from symexp.pipeline.spec import CellSpec
from symexp.seeding import stable_hash
from symexp.store.records import RecordKey

# Bump when a change to the pipeline (sampling, SR harness, scoring) changes a record's numbers:
# every record id changes with it, so stale records are simply not found.
PIPELINE_VERSION = 1


def _sr_settings(spec: CellSpec) -> dict[str, Any]:
    """The SR settings a record's numbers depend on: all but the per-record parsimony, those that
    only change how fast a fit runs, those another engine reads, and settings added later while
    at the value earlier fits ran with (``IDENTITY_OMITTED_AT``)."""
    from symexp.symbolic.settings import ENGINE_ONLY_FIELDS, IDENTITY_OMITTED_AT, RESULT_NEUTRAL_FIELDS

    sr = spec.sr.to_dict()
    drop = {"parsimony_coefficient", *RESULT_NEUTRAL_FIELDS}
    drop |= {f for engine, fields in ENGINE_ONLY_FIELDS.items() if engine != spec.sr.engine for f in fields}
    drop |= {f for f, value in IDENTITY_OMITTED_AT.items() if sr[f] == value}
    return {k: v for k, v in sr.items() if k not in drop}


def record_identity(spec: CellSpec, bench: Any, method: str, n: int, sr_seed: int | None = None,
                    parsimony: float | None = None) -> dict[str, Any]:
    """Everything the numbers of one record depend on (see the module docstring)."""
    identity: dict[str, Any] = {
        "pipeline_version": PIPELINE_VERSION,
        "benchmark": {"key": bench.key, "model": spec.model, "dataset": spec.dataset, "protocol": spec.protocol,
                      "hyperparameters": list(bench.space.names)},
        "method": method,
        "mode": spec.mode,
        "sampling_seed": int(spec.sampling_seed),
        "n_samples": int(n),
    }
    if spec.pdp is None:
        identity["test_set"] = {"points_per_dim": int(spec.test_points_per_dim),
                                "eval_seeds": [int(s) for s in spec.test_eval_seeds]}
    else:
        identity["test_set"] = {"points_per_dim": int(spec.test_points_per_dim)}  # the PD grid
        identity["pdp"] = dataclasses.asdict(spec.pdp)
    if spec.mode in ("bo", "bo_gp"):
        # The settings of the SMAC run this n's training set comes from (a prefix of the main
        # run, or under bo.variant=separate a run of its own for small n): a record at n >= 80 is
        # the same record under both variants.
        identity["bo"] = spec.bo.run_settings(bench.space.dim, n).to_json()
    if spec.mode == "bo_gp" and method != "gp_baseline":
        identity["bo_gp"] = {"n_points": int(spec.bo_gp_points)}
    if method.startswith("sr_"):
        identity["sr"] = _sr_settings(spec)
        identity["sr_seed"] = int(sr_seed)
        identity["parsimony"] = float(parsimony)
    if method == "linear_regression":
        identity["linear_regression"] = {"log_features": bool(spec.linreg_log_features)}
    return identity


def planned_keys(spec: CellSpec, bench: Any) -> list[RecordKey]:
    """All records this cell writes, in a stable order."""
    keys = []
    for n in spec.n_samples:
        for sr_seed in spec.sr_seeds:
            for p in spec.parsimony:
                keys.append(RecordKey.from_identity(record_identity(spec, bench, f"sr_{spec.mode}", n, sr_seed, float(p))))
        if spec.mode == "bo_gp" and spec.pdp is None:
            keys.append(RecordKey.from_identity(record_identity(spec, bench, "gp_baseline", n)))
            keys.append(RecordKey.from_identity(record_identity(spec, bench, "linear_regression", n)))
    return keys


def cell_id(keys: list[RecordKey]) -> str:
    """The identity of a cell: the set of records it plans."""
    return stable_hash(sorted(k.record_id for k in keys))
