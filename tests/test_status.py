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
from symexp.store import Claim, RecordStore  # noqa: E402
from symexp.store.jobstatus import write_job_status  # noqa: E402

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
    assert "MemoryError: out of memory" in out and "no longer running" in out


def test_failed_record_is_reported_with_its_error(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    rec_path = RecordStore(workdir / "store").iter_paths()[0]
    rec = json.loads(rec_path.read_text())
    rec.update(status="failed", error="ValueError: bad fit", test_rmse=None)
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


# Slow (about 15 s CPU: runs the smoke preset, then two relaunched cells). The fast suite keeps
# which cells a relaunch picks (test_relaunch_works_with_any_fixed_overrides, dry run) and that a
# done record is not recomputed (test_pipeline.py::test_partial_cell_recomputes_only_missing_records).
@pytest.mark.slow
def test_relaunch_runs_only_what_is_not_done(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in RecordStore(workdir / "store").iter_paths()}
    assert status_cmd.main([*SMOKE, "--relaunch", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "relaunching 2 cells in 2 multirun(s)" in out and "mode=bo " in out + " " and "mode=bo_gp" in out
    assert status_cmd.main([*SMOKE, "--relaunch"]) == 0
    found, _ = states(capsys)
    assert set(found.values()) == {"done"}
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # the done cell was not redone


@pytest.mark.parametrize("fixed", [["mode=bo"], ["mode=bo", "sampling_seed=0"], ["sampling_seed=0"]])
def test_relaunch_works_with_any_fixed_overrides(workdir, capsys, fixed):
    assert status_cmd.main([*SMOKE, *fixed, "--relaunch", "--dry-run"]) == 0
    out = capsys.readouterr().out
    n = 1 if "mode=bo" in fixed else 3
    assert f"relaunching {n} cells in {n} multirun(s)" in out
    assert all(f in out for f in fixed)


def test_a_running_cell_is_reported_and_never_relaunched(workdir, capsys):
    from experiments.hydra_glue import build_view

    view = build_view([*SMOKE, "mode=bo"])
    (cell,) = view.cells
    store = RecordStore(workdir / "store")
    store.ensure_writable()
    code = ("import sys, time; from symexp.store import Claim; c = Claim(sys.argv[1], exclusive=False); "
            "assert c.try_acquire(); print('held', flush=True); time.sleep(120)")
    job = subprocess.Popen([sys.executable, "-c", code, str(store.claim_path(f"cell-{cell.cell_id}"))],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert job.stdout.readline().strip() == "held"
        found, _ = states(capsys)
        assert found["bo"] == "running" and found["random"] == "missing"
        assert status_cmd.main([*SMOKE, "--relaunch", "--dry-run"]) == 0
        out = capsys.readouterr().out
        commands = out.split("relaunching")[1]
        assert "2 cells" in commands and "mode=bo " not in commands + " "
    finally:
        job.kill()
        job.wait()
    found, _ = states(capsys)
    assert found["bo"] == "missing"  # the job is gone: its cell is no longer running


def test_damaged_records_are_listed_not_crashed_on(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    rec_path = RecordStore(workdir / "store").iter_paths()[0]
    rec_path.write_text(rec_path.read_text()[:50])
    found, out = states(capsys)
    assert found["random"] == "partial" and f"damaged record {rec_path}" in out
    from experiments import summary

    assert summary.main([*SMOKE, "mode=random"]) == 0
    out = capsys.readouterr().out
    assert f"DAMAGED {rec_path}" in out and "no records yet of 1 planned" in out


@pytest.mark.parametrize("args, message", [
    (["experiment=smoke", "model=lasso"], "unknown model 'lasso'"),
    (["experiment=bogus"], "unknown experiment 'bogus'; valid: parsimony, pdp, sample_size, smoke, table1"),
    (["experiment=smoke", "sr.populaton_size=3"], "unknown setting 'sr.populaton_size'"),
])
def test_bad_override_is_one_line(workdir, capsys, args, message):
    assert status_cmd.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
