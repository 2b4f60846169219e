"""symexp status: cell states with reasons, cost estimate, relaunch of what is missing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from test_hydra_app import TINY, run_app

from symexp.app import status as status_cmd
from symexp.store import Claim, RecordStore
from symexp.store.jobstatus import write_job_status

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


def _number(out: str, label: str, after: str = "") -> float:
    text = out.split(after, 1)[1] if after else out
    return float(re.search(rf"{re.escape(label)}\s+([0-9.]+)", text).group(1))


def test_estimate_counts_jobs_and_stages(workdir, capsys):
    assert status_cmd.main(["experiment=table1", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "cluster=local: one cell after the other" in out
    assert _number(out, "jobs (SLURM tasks)") == 600
    for stage in ("test sets", "BO runs", "random samples", "symbolic regression"):
        assert stage in out
    assert status_cmd.main(["experiment=table1", "model=lr", "dataset=vehicle", "--estimate"]) == 0
    assert _number(capsys.readouterr().out, "jobs (SLURM tasks)") == 15


def test_estimate_reports_used_billed_ratio_and_wall_for_the_layout(workdir, capsys):
    # Nodes of 8 CPUs, so that the work needs more than one node: with 64-CPU nodes the lr/svm rows
    # fit on one node within their longest BO run, and more nodes change nothing (checked below).
    small = ["cluster.cpus_per_node=8", "cluster.cpus_per_task=8"]
    assert status_cmd.main(["experiment=table1", "model=lr,svm", "cluster=slurm_node", *small,
                            "--estimate", "--nodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "layout node: one job per node, 8 CPUs each" in out
    used, billed, ratio = (_number(out, k) for k in ("CPU-hours used", "CPU-hours billed", "billed / used"))
    assert _number(out, "jobs (SLURM tasks)") == 2 and billed >= used > 0
    assert ratio == pytest.approx(billed / used, abs=0.02)
    assert "h on 2 node(s) of 8 CPUs" in out
    # every layout side by side: one task per cell bills far more than it uses; shared bills what it uses
    rows = {line.split()[0]: line.split() for line in out.split("layouts compared")[1].splitlines()[2:5]}
    assert float(rows["cell"][-2]) > 5 and float(rows["shared"][-2]) < 1.1
    # more nodes: the node layout ends sooner and bills more
    table = out.split("by number of nodes")[1]
    walls = [float(w) for w in re.findall(r"wall\s+([0-9.]+) h", table)]
    billed_n = [float(b) for b in re.findall(r"billed\s+([0-9.]+) CPU-h", table)]
    assert len(walls) >= 2 and walls[0] > walls[-1] and billed_n[0] < billed_n[-1]
    # whatever the node size, a node more never ends later nor bills less
    assert status_cmd.main(["experiment=table1", "model=lr,svm", "cluster=slurm_node", "--estimate"]) == 0
    table = capsys.readouterr().out.split("by number of nodes")[1]
    walls = [float(w) for w in re.findall(r"wall\s+([0-9.]+) h", table)]
    billed_n = [float(b) for b in re.findall(r"billed\s+([0-9.]+) CPU-h", table)]
    assert len(walls) >= 2
    assert all(a >= b for a, b in zip(walls, walls[1:])) and all(a <= b for a, b in zip(billed_n, billed_n[1:]))


def test_presets_together_count_shared_work_once(workdir, capsys):
    """table1 is a subset of sample_size: both together cost what sample_size costs."""
    used = {}
    for preset in ("table1", "sample_size", "table1,sample_size"):
        assert status_cmd.main([f"experiment={preset}", "model=lr", "dataset=vehicle", "cluster=slurm", "--estimate"]) == 0
        out = capsys.readouterr().out
        used[preset] = _number(out, "CPU-hours used")
    assert used["table1"] < used["sample_size"]
    assert used["table1,sample_size"] == pytest.approx(used["sample_size"], rel=0.01)


def test_relaunch_in_the_shared_layout_plans_only_what_is_not_done(workdir, capsys):
    assert run_app([*SMOKE, "mode=random"], workdir).returncode == 0
    assert status_cmd.main([*SMOKE, "cluster=slurm", "--relaunch", "--dry-run"]) == 0
    out = capsys.readouterr().out.split("relaunching")[1]
    assert "2 cells in the shared layout" in out
    assert "array bo_runs" in out and "array fits_bo" in out
    assert "random_chunk" not in out and "array fits_random" not in out  # the random cell is done


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
    from symexp.app.config import build_view

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
    from symexp.app import summary

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
