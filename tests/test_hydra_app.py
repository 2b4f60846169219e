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
    from experiments.hydra_glue import cell_spec

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


@pytest.mark.parametrize(
    "override, message",
    [
        ("model=lasso", "unknown model 'lasso'"),
        ("mode=grid", "unknown mode 'grid'"),
        ("n_samples=[500]", "larger than the BO budget"),
        ("parsimony=[0]", "parsimony must be > 0"),
        ("dataset=iris", "unknown dataset 'iris'"),
    ],
)
def test_user_error_is_one_line_exit_2_and_writes_nothing(tmp_path, override, message):
    proc = run_app(["experiment=smoke", override], tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no store, no cache, no job dir


def test_single_cell_writes_only_under_its_output_dir_and_store(tmp_path):
    proc = run_app(["experiment=smoke", "mode=bo_gp", *TINY], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = sorted((tmp_path / "store" / "smoke").rglob("*.json"))
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


def test_operon_records_go_to_their_own_experiment(tmp_path):
    from experiments.hydra_glue import cell_spec
    from hydra.core.hydra_config import HydraConfig

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=table1", "sr=operon"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    spec = cell_spec(cfg, tmp_path)
    assert spec.sr.engine == "operon" and spec.experiment == "table1_operon"
    assert spec.sr.population_size == 5000  # the paper's settings, other engine
