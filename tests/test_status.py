"""experiments/status.py: cell states with reasons, cost estimate, relaunch of what is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_hydra_app import TINY, run_app  # noqa: E402

from experiments import status as status_cmd  # noqa: E402
from symexp.jobstatus import write_job_status  # noqa: E402

SMOKE = ["experiment=smoke", *TINY]
JOBS = "results/runs/smoke/synthetic-synthetic-{}-seed0"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMEXP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("SYMEXP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def states(capsys, *extra) -> dict[str, str]:
    assert status_cmd.main([*SMOKE, "--verbose", *extra]) == 0
    out = capsys.readouterr().out
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("mode="):
            found[parts[1].split("=")[1]] = parts[0]
    return found, out


def test_states_with_reasons(workdir, capsys):
    found, _ = states(capsys)
    assert found == {"bo": "missing", "random": "missing", "bo_gp": "missing"}

    proc = run_app([*SMOKE, "mode=random"], workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    write_job_status(workdir / JOBS.format("bo"), "failed", error="MemoryError: out of memory")
    write_job_status(workdir / JOBS.format("bo_gp"), "running")

    found, out = states(capsys)
    assert found == {"random": "done", "bo": "failed", "bo_gp": "interrupted"}
    assert "MemoryError: out of memory" in out and "killed, preempted or still running" in out


def test_failed_record_is_reported_with_its_error(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    rec_path = next((workdir / "store").rglob("*.json"))
    rec = json.loads(rec_path.read_text())
    rec.update(status="failed", error="ValueError: bad fit")
    rec_path.write_text(json.dumps(rec))
    found, out = states(capsys)
    assert found["random"] == "failed" and "ValueError: bad fit" in out


def test_estimate_counts_jobs_and_stages(workdir, capsys):
    assert status_cmd.main(["experiment=table1", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "600 jobs" in out
    for stage in ("test sets", "BO runs (SMAC)", "random samples", "symbolic regression", "total"):
        assert stage in out
    assert status_cmd.main(["experiment=table1", "model=lr", "dataset=vehicle", "--estimate"]) == 0
    assert "15 jobs" in capsys.readouterr().out


def test_relaunch_runs_only_what_is_not_done(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in (workdir / "store").rglob("*.json")}
    assert status_cmd.main([*SMOKE, "--relaunch", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "relaunching 2 cells in 1 multirun(s)" in out and "mode=bo,bo_gp" in out
    assert status_cmd.main([*SMOKE, "--relaunch"]) == 0
    found, _ = states(capsys)
    assert set(found.values()) == {"done"}
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # the done cell was not redone


def test_bad_override_is_one_line(workdir, capsys):
    assert status_cmd.main(["experiment=smoke", "model=lasso"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown model 'lasso'" in err[0]
