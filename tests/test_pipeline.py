"""The experiment pipeline end to end on the synthetic benchmark (tiny budgets)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symexp.errors import SymexpError
from symexp.pipeline import CellSpec, PDPSettings, planned_keys, run_cell, validate_spec
from symexp.store import load_records

ROOT = Path(__file__).resolve().parents[1]

# Records are identical across runs apart from these (when and how long, not what).
VOLATILE = {"timings", "created_at"}


def tiny_spec(tmp: Path, mode: str, **overrides) -> CellSpec:
    from symexp.sampling import BOSettings
    from symexp.symbolic import SRSettings

    sr = SRSettings(population_size=60, generations=3, parsimony_coefficient=1e-4,
                    function_set=("add", "sub", "mul", "div"), time_limit_s=60)
    bo = BOSettings(n_trials=10, snapshot_sizes=(8, 10), initial_design_per_dim=2,
                    initial_design_max_ratio=0.5)
    spec = CellSpec(
        experiment="unit", model="synthetic", dataset="synthetic", protocol="hpobench",
        mode=mode, sampling_seed=0, n_samples=(8, 10), sr_seeds=(0, 1), parsimony=(1e-4,),
        sr=sr, bo=bo, test_points_per_dim=4, test_eval_seeds=(0,), bo_gp_points=30,
        store_dir=tmp / "store", cache_dir=tmp / "cache", workdir=tmp / "work", n_jobs=1,
    )
    return dataclasses.replace(spec, **overrides)


def quiet(_msg: str) -> None:
    pass


def records_of(spec: CellSpec):
    """The records of this cell's view (one row each)."""
    df, damaged = load_records(spec.store_dir, keys_of(spec))
    assert not damaged
    return df


def keys_of(spec: CellSpec):
    return planned_keys(spec, validate_spec(spec, check_dirs=False))


# bo and bo_gp are slow (a SMAC run each): their records are pinned fast by test_protocol_pipeline.py
# (Table-1 cells of every mode) and real SMAC cells run in test_partial_cell_recomputes_only_missing_records,
# test_test_set_is_shared_between_modes and test_status.py::test_relaunch_runs_only_what_is_not_done.
@pytest.mark.parametrize("mode", [pytest.param("bo", marks=pytest.mark.slow), "random",
                                  pytest.param("bo_gp", marks=pytest.mark.slow)])
def test_each_mode_writes_its_records(tmp_path, mode):
    spec = tiny_spec(tmp_path, mode)
    report = run_cell(spec, log=quiet)
    keys = keys_of(spec)
    methods = {k.method for k in keys}
    expected = {f"sr_{mode}"} | ({"gp_baseline", "linear_regression"} if mode == "bo_gp" else set())
    assert methods == expected
    assert len(report.written) == len(keys) and not report.failed
    df = records_of(spec)
    assert len(df) == len(keys)
    assert (df["status"] == "ok").all()
    assert np.isfinite(df["test_rmse"].astype(float)).all()
    sr = df[df["method"] == f"sr_{mode}"]
    assert sr["formula"].notna().all() and (sr["complexity"] >= 0).all()
    # n_train_points: BO prefix / random sample = n; BO-GP = the GP-labelled points
    expected_points = sr["n_samples"] if mode != "bo_gp" else spec.bo_gp_points
    assert (sr["n_train_points"] == expected_points).all()
    assert set(df["hyperparameters"].map(tuple)) == {("x", "y")}  # the synthetic benchmark's default pair


def test_rerun_skips_finished_records_and_trains_nothing(tmp_path):
    spec = tiny_spec(tmp_path, "random")
    first = run_cell(spec, log=quiet)
    n_unique = len(spec.test_eval_seeds) * 16 + max(spec.n_samples)  # grid 4x4 + one random draw
    assert first.n_trainings == n_unique
    mtimes = {p: p.stat().st_mtime_ns for p in first.written}
    second = run_cell(spec, log=quiet)
    assert second.written == [] and second.skipped == len(keys_of(spec))
    assert second.n_trainings == 0
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())


def test_partial_cell_recomputes_only_missing_records(tmp_path):
    spec = tiny_spec(tmp_path, "bo_gp")
    first = run_cell(spec, log=quiet)
    victim = first.written[-1]
    victim.unlink()
    again = run_cell(spec, log=quiet)
    assert again.written == [victim]
    assert again.n_trainings == 0  # BO run and test set come from the cache


def test_test_set_is_shared_between_modes(tmp_path):
    a = run_cell(tiny_spec(tmp_path, "random", n_samples=(8,), sr_seeds=(0,)), log=quiet)
    b = run_cell(tiny_spec(tmp_path, "bo", n_samples=(8,), sr_seeds=(0,)), log=quiet)
    files = list((tmp_path / "cache" / "testsets").glob("*.json"))
    assert len(files) == 1
    assert a.n_trainings == 16 + 8  # 4x4 grid x 1 evaluation seed + the random sample
    assert b.n_trainings == 10  # its 10 BO evaluations (in SMAC's worker process), no grid point


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"mode": "grid"}, "unknown mode 'grid'"),
        ({"n_samples": (8, 50)}, "larger than the BO budget"),
        ({"parsimony": (0.0,)}, "parsimony must be > 0"),
        ({"parsimony": (-1e-3,)}, "parsimony must be > 0"),
        ({"model": "lasso"}, "unknown model 'lasso'"),
        ({"mode": "bo_gp", "n_samples": (9,)}, "not in bo.snapshot_sizes"),
    ],
)
def test_bad_input_fails_before_any_compute(tmp_path, overrides, message):
    overrides = dict(overrides)
    spec = tiny_spec(tmp_path, overrides.pop("mode", "bo"), **overrides)
    with pytest.raises(SymexpError, match=message):
        run_cell(spec, log=quiet)
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.json"))


def test_failed_sr_fit_is_recorded_and_cell_continues(tmp_path, monkeypatch):
    import symexp.pipeline.cell as pipeline

    real = pipeline.fit_symbolic

    def flaky(sr, sr_seed, parsimony, names, log_features, X, y, *rest):
        if sr_seed == 1:
            y = np.full_like(y, np.nan)  # the estimator rejects it: the fit fails inside the worker
        return real(sr, sr_seed, parsimony, names, log_features, X, y, *rest)

    monkeypatch.setattr(pipeline, "fit_symbolic", flaky)
    spec = tiny_spec(tmp_path, "random", n_samples=(8,))
    report = run_cell(spec, log=quiet)
    df = records_of(spec)
    assert set(df["status"]) == {"ok", "failed"}
    bad = df[df["status"] == "failed"]
    assert (bad["sr_seed"] == 1).all() and bad["error"].str.len().gt(0).all()
    assert len(report.failed) == 1


def _record_snapshot(store: Path) -> dict[str, dict]:
    from symexp.store import RecordStore

    out = {}
    for p in RecordStore(store).iter_paths():
        rec = json.loads(p.read_text())
        out[str(p.relative_to(store))] = {k: v for k, v in rec.items() if k not in VOLATILE}
    return out


# Slow (about 20 s CPU: two fresh interpreters run three cells each). The fast suite keeps the
# cross-process, cross-hash-seed check at the cost level (test_benchmarks.py::
# test_costs_bitwise_identical_across_processes) and the in-process determinism tests.
@pytest.mark.slow
def test_same_seed_same_records_in_two_processes(tmp_path):
    """Two fresh processes with different hash seeds and separate caches: identical records."""
    code = f"""
import sys, dataclasses
from pathlib import Path
from test_pipeline import tiny_spec, quiet
from symexp.pipeline import run_cell
tmp = Path(sys.argv[1])
for mode in ("bo", "random", "bo_gp"):
    run_cell(tiny_spec(tmp, mode, n_samples=(10,), sr_seeds=(0,)), log=quiet)
"""
    for i, hashseed in enumerate(("1", "2")):
        env = dict(os.environ, PYTHONHASHSEED=hashseed,
                   PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, "-c", code, str(tmp_path / f"p{i}")], check=True, env=env, cwd=tmp_path)
    a, b = _record_snapshot(tmp_path / "p0" / "store"), _record_snapshot(tmp_path / "p1" / "store")
    assert a.keys() == b.keys() and len(a) == 5
    assert a == b


def test_pdp_cell_explains_the_top_k_by_partial_dependence(tmp_path):
    """Three hyperparameters, z barely matters: fANOVA ranks x, y first; SR fits the GP's PD."""
    spec = tiny_spec(tmp_path, "bo_gp", hyperparameters=("x", "y", "z"), n_samples=(10,), sr_seeds=(0,),
                     pdp=PDPSettings(top_k=2, n_background=20, importance_points_per_dim=4),
                     bo=dataclasses.replace(tiny_spec(tmp_path, "bo").bo, initial_design_per_dim=1))
    report = run_cell(spec, log=quiet)
    df = records_of(spec)
    assert list(df["method"]) == ["sr_bo_gp"] and not report.failed  # no true-cost baselines here
    rec = df.iloc[0]
    assert sorted(rec["hyperparameters"]) == ["x", "y"]
    assert "partial dependence" in rec["warnings"][0]
    art_files = list((tmp_path / "cache" / "pdp").rglob("*.json"))
    assert len(art_files) == 1
    art = json.loads(art_files[0].read_text())
    assert set(art["importances"]) == {"x", "y", "z"} and art["importances"]["z"] < min(art["importances"]["x"], art["importances"]["y"])
    assert np.isclose(sum(art["importances"].values()), 1.0, atol=0.2)  # main effects: most of the variance
    assert len(art["train_y"]) == spec.bo_gp_points and len(art["pd"]) == 4 * 4
    assert not (tmp_path / "cache" / "testsets").exists()  # no 3-D true-cost grid was evaluated


@pytest.mark.parametrize("overrides, message", [
    ({"mode": "random"}, "needs mode bo_gp"),
    ({"hyperparameters": ("x", "y")}, "has only 2 hyperparameters"),
])
def test_pdp_bad_input(tmp_path, overrides, message):
    overrides = dict(overrides)
    spec = tiny_spec(tmp_path, overrides.pop("mode", "bo_gp"), pdp=PDPSettings(top_k=2, n_background=20, importance_points_per_dim=4),
                     **{"hyperparameters": ("x", "y", "z"), **overrides})
    with pytest.raises(SymexpError, match=message):
        run_cell(spec, log=quiet)
    assert not (tmp_path / "store").exists()


def test_operon_engine_runs_a_cell(tmp_path):
    spec = tiny_spec(tmp_path, "random", n_samples=(10,), sr_seeds=(0,))
    spec = dataclasses.replace(spec, sr=dataclasses.replace(spec.sr, engine="operon"))
    report = run_cell(spec, log=quiet)
    df = records_of(spec)
    assert not report.failed and list(df["sr_engine"]) == ["operon"]
    assert np.isfinite(df["test_rmse"].astype(float)).all() and df["formula"].notna().all()


def test_space_with_categorical_exports_to_configspace():
    from symexp.benchmarks.space import Categorical, Numerical, SearchSpace

    cs = SearchSpace((Numerical("a", 0.0, 1.0), Categorical("kind", ("x", "y")))).to_configspace(seed=0)
    assert set(cs.keys()) == {"a", "kind"}


def test_failed_trainings_are_dropped_and_noted(tmp_path, monkeypatch):
    """Trainings that crash (here: x > 1.3 with seed 1) are the model's failures: left out of the
    sample and of a grid point's mean (its seed-0 evaluation still counts); the cell goes on."""
    from symexp.benchmarks.objective import SyntheticBenchmark

    real = SyntheticBenchmark._train

    def crashing(self, full, seed):
        if full["x"] > 1.3 and seed == 1:
            raise RuntimeError("simulated crash")
        return real(self, full, seed)

    monkeypatch.setattr(SyntheticBenchmark, "_train", crashing)
    spec = tiny_spec(tmp_path, "random", n_samples=(10,), sr_seeds=(0,), sampling_seed=1, test_eval_seeds=(0, 1))
    report = run_cell(spec, log=quiet)
    assert not report.failed
    rec = records_of(spec).iloc[0]
    assert rec["status"] == "ok" and np.isfinite(rec["test_rmse"])
    assert "random-sample evaluations failed" in " ".join(rec["warnings"]) and rec["n_train_points"] < 10
    test = json.loads(next((tmp_path / "cache" / "testsets").glob("*.json")).read_text())
    assert sum(None in row for row in test["costs"]) == 4 and None not in test["y"]  # top x row: seed 0 only


def test_a_grid_point_without_any_evaluation_stops_the_cell_and_is_not_cached(tmp_path, monkeypatch):
    from symexp.benchmarks.objective import SyntheticBenchmark
    from symexp.benchmarks.testset import TestSetError

    real = SyntheticBenchmark._train
    monkeypatch.setattr(SyntheticBenchmark, "_train",
                        lambda self, full, seed: (_ for _ in ()).throw(RuntimeError("diverged")) if full["x"] > 1.3
                        else real(self, full, seed))
    spec = tiny_spec(tmp_path, "random", n_samples=(10,), sr_seeds=(0,))
    with pytest.raises(TestSetError, match="4 of 16 grid point"):
        run_cell(spec, log=quiet)
    assert not list((tmp_path / "cache").rglob("testsets/*.json")) and not records_of(spec).shape[0]
    monkeypatch.setattr(SyntheticBenchmark, "_train", real)  # the model is fixed: the next run computes it
    assert not run_cell(spec, log=quiet).failed


def test_tolerant_objective_turns_a_failed_training_into_nan(tmp_path, monkeypatch):
    import pickle

    from symexp.benchmarks import make_benchmark
    from symexp.benchmarks.objective import SyntheticBenchmark
    from symexp.pipeline.training import TolerantObjective

    objective = pickle.loads(pickle.dumps(TolerantObjective(make_benchmark("synthetic", "synthetic"))))
    assert objective({"x": 1.0, "y": 0.5}, 0) == pytest.approx(0.6)
    monkeypatch.setattr(SyntheticBenchmark, "_train", lambda self, full, seed: (float("nan"), 0.0))
    assert np.isnan(objective({"x": 1.2, "y": 0.5}, 0))
    assert objective.n_trainings == 2
