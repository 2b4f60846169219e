"""The record store: identities, self-healing, claims, failures that are never cached, file modes."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
from test_pipeline import keys_of, quiet, records_of, tiny_spec

from symexp.errors import SymexpError
from symexp.pipeline import run_cell
from symexp.store import Claim, RecordStore, compute_once
from symexp.store.atomic import atomic_write_json


def ids(spec) -> set[str]:
    return {k.record_id for k in keys_of(spec)}


# -- identity ----------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"sr": {"population_size": 61}}, {"sr": {"generations": 4}}, {"sr": {"function_set": ("add", "mul")}},
    {"sr": {"time_limit_s": 30.0}}, {"sr": {"engine": "operon"}}, {"sr": {"n_decimals": 2}},
    {"bo": {"n_trials": 11, "snapshot_sizes": (8, 10)}},
    {"bo": {"initial_design_per_dim": 3}}, {"test_points_per_dim": 5}, {"test_eval_seeds": (0, 1)},
    {"bo_gp_points": 31}, {"protocol": "clean"}, {"sampling_seed": 3}, {"linreg_log_features": True},
])
def test_every_setting_that_changes_a_number_changes_the_record_identity(tmp_path, change):
    spec = tiny_spec(tmp_path, "bo_gp")
    changed = spec
    for field, value in change.items():
        if isinstance(value, dict):
            value = dataclasses.replace(getattr(spec, field), **value)
        changed = dataclasses.replace(changed, **{field: value})
    before, after = keys_of(spec), keys_of(changed)
    assert len(before) == len(after)
    depends = {"linreg_log_features": {"linear_regression"}, "sr": {"sr_bo_gp"},
               "bo_gp_points": {"sr_bo_gp", "linear_regression"}}.get(next(iter(change)))
    for a, b in zip(before, after):
        if depends is None or a.method in depends:
            assert a.record_id != b.record_id, (change, a.method)
        else:
            assert a.record_id == b.record_id, (change, a.method)  # e.g. the GP baseline ignores the SR


def test_the_bo_variant_changes_exactly_the_records_whose_training_set_it_changes(tmp_path):
    """bo.variant=separate gives n its own SMAC run when that run's initial design would differ
    from the main run's (here n = 8: 3 Sobol points instead of 4); n = 10 stays a prefix of the
    main run, and its records keep their ids under both variants."""
    spec = tiny_spec(tmp_path, "bo_gp")
    spec = dataclasses.replace(spec, bo=dataclasses.replace(spec.bo, initial_design_max_ratio=0.45))
    separate = dataclasses.replace(spec, bo=dataclasses.replace(spec.bo, variant="separate"))
    before, after = keys_of(spec), keys_of(separate)
    assert [k.n_samples for k in before] == [k.n_samples for k in after]
    for a, b in zip(before, after):
        assert (a.record_id == b.record_id) == (a.n_samples == 10), (a.method, a.n_samples)


@pytest.mark.parametrize("operon_only", [{"max_length": 99}, {"local_iterations": 5}])
def test_a_setting_only_the_other_engine_reads_is_not_part_of_the_identity(tmp_path, operon_only):
    spec = tiny_spec(tmp_path, "random")
    changed = dataclasses.replace(spec, sr=dataclasses.replace(spec.sr, **operon_only))
    assert ids(spec) == ids(changed)  # gplearn has no length cap and no coefficient tuning
    operon = dataclasses.replace(spec, sr=dataclasses.replace(spec.sr, engine="operon"))
    operon_changed = dataclasses.replace(operon, sr=dataclasses.replace(operon.sr, **operon_only))
    assert ids(operon) != ids(operon_changed)


def test_a_setting_added_later_is_left_out_of_the_identity_at_the_value_earlier_fits_used(tmp_path):
    """operon fits before ``local_iterations`` existed ran pyoperon's 0 LM steps: their records keep
    their ids; any other value is part of the identity."""
    from symexp.pipeline import record_identity, validate_spec

    spec = tiny_spec(tmp_path, "random")
    operon = dataclasses.replace(spec, sr=dataclasses.replace(spec.sr, engine="operon"))
    tuned = dataclasses.replace(operon, sr=dataclasses.replace(operon.sr, local_iterations=5))

    def sr_identity(s):
        return record_identity(s, validate_spec(s, check_dirs=False), "sr_random", 8, 0, 0.001)["sr"]

    assert operon.sr.local_iterations == 0 and "local_iterations" not in sr_identity(operon)
    assert sr_identity(tuned)["local_iterations"] == 5
    assert {k: v for k, v in sr_identity(tuned).items() if k != "local_iterations"} == sr_identity(operon)


def test_where_and_how_fast_are_not_part_of_the_identity(tmp_path):
    spec = tiny_spec(tmp_path, "bo_gp")
    other = dataclasses.replace(spec, experiment="other", n_jobs=2, store_dir=tmp_path / "s2", cache_dir=tmp_path / "c2",
                                workdir=tmp_path / "w2", sr=dataclasses.replace(spec.sr, n_jobs=2, low_memory=True))
    assert ids(spec) == ids(other)


def test_a_changed_setting_computes_new_records_and_never_reuses_old_ones(tmp_path):
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,))
    first = run_cell(spec, log=quiet)
    assert len(first.written) == 1
    again = run_cell(spec, log=quiet)
    assert again.written == [] and again.skipped == 1  # same settings: free
    for changed in (dataclasses.replace(spec, sr=dataclasses.replace(spec.sr, population_size=50)),
                    dataclasses.replace(spec, test_points_per_dim=3)):
        report = run_cell(changed, log=quiet)
        assert len(report.written) == 1 and report.skipped == 0
        rec = records_of(changed).iloc[0]
        assert rec["identity"]["sr"]["population_size"] == changed.sr.population_size
        assert rec["identity"]["test_set"]["points_per_dim"] == changed.test_points_per_dim
    assert len(RecordStore(spec.store_dir).iter_paths()) == 3


def test_records_live_under_model_dataset_method(tmp_path):
    spec = tiny_spec(tmp_path, "bo_gp", n_samples=(10,), sr_seeds=(0,))
    run_cell(spec, log=quiet)
    paths = [p.relative_to(spec.store_dir) for p in RecordStore(spec.store_dir).iter_paths()]
    assert {p.parts[:4] for p in paths} == {("synthetic", "synthetic", "hpobench", m)
                                           for m in ("sr_bo_gp", "gp_baseline", "linear_regression")}
    sr = next(p for p in paths if p.parts[3] == "sr_bo_gp")
    assert sr.parts[4] == "seed0" and sr.name.startswith("n10-sr0-p0.0001-gplearn-")


def test_an_old_format_store_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "store" / "table1" / "lr" / "vehicle"
    old.mkdir(parents=True)
    (old / "n140-sr0-p0.0001.json").write_text(json.dumps({"schema_version": 1}))
    with pytest.raises(SymexpError, match=r"older symexp .* \(mv \S*store \S*store\.v1\)"):
        run_cell(tiny_spec(tmp_path, "random"), log=quiet)
    assert not (tmp_path / "cache").exists()


# -- self-healing --------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["truncate", "empty", "wrong_id", "no_rmse"])
def test_a_damaged_record_is_set_aside_named_and_recomputed(tmp_path, damage):
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,))
    run_cell(spec, log=quiet)
    path = RecordStore(spec.store_dir).iter_paths()[0]
    good = path.read_text()
    rec = json.loads(good)
    bad = {"truncate": good[: len(good) // 2], "empty": "",
           "wrong_id": json.dumps({**rec, "record_id": "0" * 16}),
           "no_rmse": json.dumps({**rec, "test_rmse": None})}[damage]
    path.write_text(bad)
    messages = []
    report = run_cell(spec, log=messages.append)
    assert report.written == [path] and json.loads(path.read_text())["test_rmse"] == rec["test_rmse"]
    aside = list((path.parent / ".damaged").iterdir())
    assert len(aside) == 1 and aside[0].read_text() == bad
    assert any(str(path) in m and str(aside[0]) in m for m in messages)


def test_a_failed_record_is_recomputed_unless_kept(tmp_path):
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,))
    run_cell(spec, log=quiet)
    path = RecordStore(spec.store_dir).iter_paths()[0]
    rec = json.loads(path.read_text())
    failed = {**rec, "status": "failed", "error": "RuntimeError: flaky", "test_rmse": None}
    path.write_text(json.dumps(failed))
    kept = run_cell(dataclasses.replace(spec, keep_failed=True), log=quiet)
    assert kept.written == [] and json.loads(path.read_text())["status"] == "failed"
    redone = run_cell(spec, log=quiet)
    assert redone.written == [path] and json.loads(path.read_text())["status"] == "ok"


# "bo" is slow (two SMAC runs); the set-aside-and-recompute path (compute_once) is the same for both.
@pytest.mark.parametrize("artefact", ["testsets", pytest.param("bo", marks=pytest.mark.slow)])
def test_a_damaged_cache_artefact_is_named_set_aside_and_recomputed(tmp_path, artefact):
    spec = tiny_spec(tmp_path, "bo", n_samples=(8,), sr_seeds=(0,))
    run_cell(spec, log=quiet)
    path = next((tmp_path / "cache" / artefact).rglob("*.json"))
    good = json.loads(path.read_text())
    path.write_text(path.read_text()[:100])  # a torn file (disk full, copied by hand)
    for p in RecordStore(spec.store_dir).iter_paths():
        p.unlink()
    messages = []
    run_cell(spec, log=messages.append)
    assert json.loads(path.read_text()) == good  # recomputed: the same numbers
    assert any(f"damaged file {path}" in m and "set aside" in m for m in messages)
    assert len(list((path.parent / ".damaged").iterdir())) == 1


def test_compute_once_never_stores_a_failure_or_an_invalid_artefact(tmp_path):
    path = tmp_path / "a.json"
    with pytest.raises(RuntimeError, match="boom"):
        compute_once(path, lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not path.exists()
    with pytest.raises(RuntimeError, match="refusing to store"):
        compute_once(path, lambda: {"y": [None]}, validate=lambda d: "hole" if None in d["y"] else None)
    assert not path.exists()
    assert compute_once(path, lambda: {"y": [1]}, validate=lambda d: None) == ({"y": [1]}, True)


# -- environment failures -------------------------------------------------------------------------

def _bad_data_dir(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.glob("*.csv"):
        (dst / f.name).write_bytes(f.read_bytes())
    blood = dst / "1464_blood-transfusion-service-center.csv"
    lines = blood.read_text().splitlines()
    lines[5] = "abc," + lines[5].split(",", 1)[1]  # a non-numeric value in a numeric feature column
    blood.write_text("\n".join(lines) + "\n")
    return dst


def test_malformed_data_is_a_one_line_error_before_any_work(data_dir, tmp_path):
    bad = _bad_data_dir(data_dir, tmp_path / "data")
    spec = dataclasses.replace(tiny_spec(tmp_path, "random"), model="lr", dataset="blood_transfusion", data_dir=bad)
    with pytest.raises(SymexpError, match=r"non-numeric value 'abc' in data row 5"):
        run_cell(spec, log=quiet)
    assert not (tmp_path / "store").exists() and not (tmp_path / "cache").exists()


def test_malformed_data_never_becomes_a_failed_evaluation(data_dir, tmp_path):
    from symexp.benchmarks import make_benchmark
    from symexp.benchmarks.split import clear_prepared_cache

    bad = _bad_data_dir(data_dir, tmp_path / "data")
    bench = make_benchmark("lr", "blood_transfusion", data_dir=bad, cache_dir=tmp_path / "cache", fidelity={"iter": 5})
    clear_prepared_cache()
    with pytest.raises(SymexpError, match="non-numeric"):
        bench.evaluate_many([{"alpha": 1e-3, "eta0": 1e-2}], 0, on_error="nan")
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_out_of_memory_propagates_and_is_not_recorded(tmp_path, monkeypatch):
    from symexp.benchmarks.objective import SyntheticBenchmark

    def oom(self, full, seed):
        raise MemoryError("simulated")

    monkeypatch.setattr(SyntheticBenchmark, "_train", oom)
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,))
    with pytest.raises(MemoryError):
        run_cell(spec, log=quiet)
    assert RecordStore(spec.store_dir).iter_paths() == [] and not list((tmp_path / "cache").rglob("*.json"))


def test_an_unusable_store_path_is_found_before_any_compute(tmp_path):
    (tmp_path / "a_file").write_text("")
    spec = dataclasses.replace(tiny_spec(tmp_path, "random"), store_dir=tmp_path / "a_file" / "store")
    with pytest.raises(SymexpError, match="record store .* is not writable"):
        run_cell(spec, log=quiet)
    assert not (tmp_path / "cache" / "testsets").exists()


def test_a_store_on_a_full_or_read_only_file_system_is_found_before_any_compute(tmp_path, monkeypatch):
    import symexp.store.records as records

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records.tempfile, "mkstemp", no_space)
    spec = tiny_spec(tmp_path, "random")
    with pytest.raises(SymexpError, match="not writable .*No space left"):
        run_cell(spec, log=quiet)
    assert not (tmp_path / "cache" / "testsets").exists()


# -- claims ------------------------------------------------------------------------------------

def test_a_fit_claimed_by_another_job_is_left_to_it(tmp_path):
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0, 1))
    store = RecordStore(spec.store_dir)
    busy = keys_of(spec)[0]
    code = ("import sys, time; from symexp.store import Claim; c = Claim(sys.argv[1]); "
            "assert c.try_acquire(); print('held', flush=True); time.sleep(120)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(store.claim_path(busy.record_id))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        report = run_cell(spec, log=quiet)
        assert report.claimed_elsewhere == 1 and len(report.written) == 1
        assert not store.path(busy).exists()
    finally:
        holder.kill()
        holder.wait()
    report = run_cell(spec, log=quiet)  # the holder died: its claim died with it
    assert report.written == [store.path(busy)]


def test_claims_are_exclusive_and_die_with_their_owner(tmp_path):
    a, b = Claim(tmp_path / "x.lock"), Claim(tmp_path / "x.lock")
    assert a.try_acquire() and not b.try_acquire()
    a.release()
    assert b.try_acquire()
    b.release()
    shared = [Claim(tmp_path / "cell.lock", exclusive=False) for _ in range(2)]
    assert all(c.try_acquire() for c in shared)
    from symexp.store import is_held

    assert is_held(tmp_path / "cell.lock")
    for c in shared:
        c.release()
    assert not is_held(tmp_path / "cell.lock") and not is_held(tmp_path / "never-made.lock")


# -- file modes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = atomic_write_json(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_records_are_flat_json_with_their_identity(tmp_path):
    spec = tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,))
    run_cell(spec, log=quiet)
    rec = records_of(spec).iloc[0]
    assert rec["record_id"] in RecordStore(spec.store_dir).iter_paths()[0].name
    assert rec["identity"]["benchmark"]["model"] == "synthetic" and rec["identity"]["sr"]["population_size"] == 60
    assert "n_jobs" not in rec["identity"]["sr"] and rec["artefacts"]["test_set"].startswith("testsets/")
    assert np.isfinite(rec["test_rmse"]) and int(rec["complexity"]) == rec["complexity"] >= 0
