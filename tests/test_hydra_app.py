"""The Hydra entry point: composition, presets, output locations, one-line user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "experiments" / "run.py"

TINY = [
    "model=synthetic", "dataset=synthetic", "sr.population_size=50", "sr.generations=2",
    "bo.n_trials=10", "bo.snapshot_sizes=[10]", "bo.initial_design_per_dim=2", "bo.initial_design_max_ratio=0.5",
    "n_samples=[10]", "sr_seeds=[0]", "test_set.points_per_dim=3", "test_set.eval_seeds=[0]",
    "bo_gp.n_points=20", "n_jobs=1",
]


def run_app(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SYMEXP_STORE=str(cwd / "store"), SYMEXP_CACHE=str(cwd / "cache"))
    return subprocess.run([sys.executable, str(RUN), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("preset", ["smoke", "table1", "sample_size", "parsimony", "pdp"])
def test_presets_compose_and_build_a_cell_spec(preset, tmp_path):
    from symexp.app.config import cell_spec

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={preset}"], return_hydra_config=True)
    from hydra.core.hydra_config import HydraConfig
    HydraConfig.instance().set_config(cfg)
    spec = cell_spec(cfg, tmp_path)
    assert spec.experiment == preset
    assert all(n <= spec.bo.n_trials for n in spec.n_samples)
    assert spec.sr.population_size >= 1 and spec.sr.parsimony_coefficient > 0


def test_table1_preset_is_the_paper_grid():
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=table1"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert len(params.model.split(",")) == 5 and len(params.dataset.split(",")) == 8
    assert params.mode.split(",") == ["bo", "random", "bo_gp"]
    assert [int(s) for s in params.sampling_seed.split(",")] == [0, 3, 6, 9, 12]
    assert list(cfg.sr_seeds) == [0, 3, 6] and list(cfg.n_samples) == [140]
    assert cfg.sr.population_size == 5000 and cfg.sr.generations == 20 and cfg.sr.time_limit_s == 900


# Each case starts the app (a few seconds). The slow ones repeat an error kind another case here
# already runs through the app; their messages are pinned in-process elsewhere: test_pipeline.py::
# test_bad_input_fails_before_any_compute (model, mode, n_samples, parsimony), test_benchmarks.py::
# test_bad_inputs (dataset), test_status.py::test_bad_override_is_one_line (setting, experiment).
SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "override, message",
    [
        pytest.param("model=lasso", "unknown model 'lasso'", marks=SLOW),
        pytest.param("mode=grid", "unknown mode 'grid'", marks=SLOW),
        pytest.param("n_samples=[500]", "larger than the BO budget", marks=SLOW),
        pytest.param("parsimony=[0]", "parsimony must be > 0", marks=SLOW),
        pytest.param("dataset=iris", "unknown dataset 'iris'", marks=SLOW),
        ("sampling_seed=abc", "sampling_seed must be an integer, got 'abc'"),
        ("sampling_seed=-1", "sampling_seed must be an integer in [0, 2147483647), got -1"),
        ("n_samples=[1.5]", "n_samples must be a list of integers, got [1.5]"),
        ("n_samples=[1]", "n_samples must be integers >= 2"),
        pytest.param("sr.populaton_size=10", "unknown setting 'sr.populaton_size'; valid keys of sr: engine",
                     marks=SLOW),
        pytest.param("experiment=bogus", "unknown experiment 'bogus'; valid: parsimony, pdp, sample_size, smoke, table1",
                     marks=SLOW),
        ("mode=bo,random", "a sweep needs --multirun"),
    ],
)
def test_user_error_is_one_line_exit_2_and_writes_nothing(tmp_path, override, message):
    proc = run_app(["experiment=smoke", override], tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no store, no cache, no job dir


def test_a_bad_cell_in_a_sweep_stops_the_sweep_before_its_first_job(tmp_path):
    proc = run_app(["-m", "experiment=smoke", "sampling_seed=0,-1", *TINY], tmp_path)
    assert proc.returncode == 2 and "got -1" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # the valid cell did not run either


def test_single_cell_writes_only_under_its_output_dir_and_store(tmp_path):
    proc = run_app(["experiment=smoke", "mode=bo_gp", *TINY], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from symexp.store import RecordStore

    records = RecordStore(tmp_path / "store").iter_paths()
    assert {p.parent.parent.name for p in records} == {"sr_bo_gp", "gp_baseline", "linear_regression"}
    top = {p.name for p in tmp_path.iterdir()}
    assert top <= {"store", "cache", "results"}, top
    run_dirs = list((tmp_path / "results" / "runs" / "smoke").iterdir())
    assert [d.name for d in run_dirs] == ["synthetic-synthetic-bo_gp-seed0"]


def test_job_status_file_says_done(tmp_path):
    proc = run_app(["experiment=smoke", "mode=random", *TINY], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    status = json.loads((tmp_path / "results/runs/smoke/synthetic-synthetic-random-seed0/job_status.json").read_text())
    assert status["state"] == "done" and status["written"] == 1 and status["failed"] == 0


def test_operon_records_are_other_records_than_gplearn_ones(data_dir):
    from symexp.app.config import build_view

    gplearn = build_view(["experiment=table1", "model=lr", "dataset=vehicle", "mode=bo", "sampling_seed=0"])
    operon = build_view(["experiment=table1", "model=lr", "dataset=vehicle", "mode=bo", "sampling_seed=0", "sr=operon"])
    (g,), (o,) = gplearn.cells, operon.cells
    assert o.spec.sr.engine == "operon" and o.spec.sr.population_size == 5000  # the paper's settings, other engine
    assert len(g.keys) == len(o.keys) == 3 and not {k.record_id for k in g.keys} & {k.record_id for k in o.keys}
    assert all(k.engine == "operon" and "operon" in k.relpath().name for k in o.keys)


def test_presets_share_records_through_their_views(data_dir):
    """table1 (n = 140) is part of sample_size, and the parsimony sweep's p = 1e-4 member is sample_size's n = 200."""
    from symexp.app.config import build_view

    slice_ = ["model=svm", "dataset=blood_transfusion"]
    sample_size = {k.record_id for k in build_view(["experiment=sample_size", *slice_]).keys}
    table1 = build_view(["experiment=table1", *slice_])
    parsimony = build_view(["experiment=parsimony", *slice_])
    assert len(table1.cells) == 15 and {k.record_id for k in table1.keys} <= sample_size
    shared = [k for k in parsimony.keys if k.record_id in sample_size]
    assert {(k.method, k.n_samples, k.parsimony) for k in shared} == {
        ("sr_bo_gp", 200, 1e-4), ("gp_baseline", 200, None), ("linear_regression", 200, None)}
    assert len(shared) == 5 * (3 + 2) and len(parsimony.keys) == 5 * (3 * 12 + 2)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_a_stopped_job_leaves_no_partial_record_and_no_worker(tmp_path, signame):
    """A job stopped by SIGTERM (scancel, a time limit) says so; one killed outright cannot, but in
    both cases nothing is half-written and no worker process goes on computing for nobody."""
    import signal
    import time

    env = dict(os.environ, SYMEXP_STORE=str(tmp_path / "store"), SYMEXP_CACHE=str(tmp_path / "cache"))
    slow = [a for a in TINY if not a.startswith(("sr.population_size", "sr.generations", "n_jobs"))]
    proc = subprocess.Popen([sys.executable, str(RUN), "experiment=smoke", "mode=random", *slow,
                             "sr.population_size=3000", "sr.generations=20", "n_jobs=2"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "symbolic regression:" in line:
                break
        time.sleep(1.0)  # inside the fits
        import psutil

        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers  # the SR fits run in worker processes
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(timeout=60) != 0
        rest = proc.stdout.read()
    finally:
        proc.kill()
    if signame == "SIGTERM":  # one line that says what happened, no traceback
        assert proc.returncode == 130 and "Traceback" not in rest
        assert "interrupted (signal 15): finished records are kept" in rest
    status = json.loads((tmp_path / "results/runs/smoke/synthetic-synthetic-random-seed0/job_status.json").read_text())
    assert status["state"] == ("interrupted" if signame == "SIGTERM" else "running")  # status.py: no longer running
    from symexp.store import RecordStore

    assert RecordStore(tmp_path / "store").iter_paths() == []
    assert not [p for p in tmp_path.rglob(".tmp-*")]
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []
