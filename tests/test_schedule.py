"""The in-job scheduler (symexp.cluster.schedule): priorities, order, dependencies, failures, workers dying."""

from __future__ import annotations

import os
import time

import pytest

from symexp.cluster.schedule import Task, bottom_levels, critical_path, run_tasks, simulate, topological_order


def test_bottom_level_is_own_seconds_plus_longest_chain_behind():
    tasks = [Task("a", 2), Task("b", 3, deps=("a",)), Task("c", 4), Task("d", 1, deps=("a", "c"))]
    assert bottom_levels(tasks) == {"a": 5.0, "b": 3.0, "c": 5.0, "d": 1.0}
    assert critical_path(tasks) == 5.0


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        topological_order([Task("a", 1, deps=("b",)), Task("b", 1, deps=("a",))])
    with pytest.raises(ValueError, match="duplicate"):
        simulate([Task("a", 1), Task("a", 2)], 1)


def test_long_chain_starts_first_and_fits_follow_their_inputs():
    """Hand-computed schedule on 2 workers: the BO run (longest chain) starts at once; the random
    sample next; its fit as soon as it exists; the BO fits when the BO run ends."""
    tasks = [
        Task("x", 1),                          # short, independent: fills a gap
        Task("fitA", 3, deps=("bo",)),
        Task("rand", 4),
        Task("bo", 10),
        Task("fitB", 3, deps=("bo",)),
        Task("randfit", 2, deps=("rand",)),
    ]
    s = simulate(tasks, 2)
    assert (s.start["bo"], s.start["rand"]) == (0, 0)
    assert (s.start["randfit"], s.start["x"]) == (4, 6)
    assert s.start["fitA"] == s.start["fitB"] == 10
    assert s.makespan == 13
    assert s.busy_seconds == 23 and s.utilisation == pytest.approx(23 / 26)


def test_independent_tasks_longest_first():
    s = simulate([Task(str(i), secs) for i, secs in enumerate([3, 5, 3, 4, 3])], 2)
    # 5 | 4 ; then 3 on the worker free at 4, 3 at 5, 3 at 7
    assert [s.start[t] for t in ("1", "3", "0", "2", "4")] == [0, 0, 4, 5, 7]
    assert s.makespan == 10
    assert simulate([Task("a", 3)], 4, overhead_s=0.5).makespan == 3.5


def test_dependencies_outside_the_job_count_as_done():
    s = simulate([Task("fit", 2, deps=("computed-by-an-earlier-job",))], 1)
    assert s.start["fit"] == 0


def _record(payload):
    name, secs, fail = payload
    if fail:
        raise ValueError(f"{name} failed on purpose\nsecond line")
    time.sleep(secs)
    return name


def test_inline_run_follows_the_simulated_order_and_skips_dependents_of_a_failure():
    tasks = [Task("a", 1, payload=("a", 0, False)), Task("b", 5, payload=("b", 0, True)),
             Task("c", 2, deps=("b",), payload=("c", 0, False)), Task("d", 3, deps=("a",), payload=("d", 0, False)),
             Task("e", 0.5, deps=("c",), payload=("e", 0, False))]
    seen = []
    out = run_tasks(tasks, 1, _record, on_done=lambda t, o: seen.append((t.id, o.state)))
    assert out["b"].state == "failed" and out["b"].error == "ValueError: b failed on purpose"
    assert out["c"].state == "skipped" and "needs b" in out["c"].error
    assert out["e"].state == "skipped"
    assert out["a"].result == "a" and out["d"].state == "ok"
    sim = simulate([t for t in tasks if t.id in ("a", "b", "d")], 1)
    ran = [tid for tid, state in seen if state != "skipped"]
    assert ran == sorted(("a", "b", "d"), key=lambda t: sim.start[t])
    assert {tid for tid, _ in seen} == set("abcde")  # every task reported once


def _pid_or_die(payload):
    if payload == "die":
        os._exit(3)  # the worker process dies without a word (as if killed)
    time.sleep(0.2)
    return os.getpid()


def test_pool_runs_in_parallel_processes_and_survives_a_dying_worker():
    tasks = [Task(f"t{i}", 1, payload=i) for i in range(4)]
    out = run_tasks(tasks, 2, _pid_or_die)
    assert all(o.state == "ok" for o in out.values())
    assert len({o.result for o in out.values()}) >= 2 and os.getpid() not in {o.result for o in out.values()}

    tasks = [Task("dies", 9, payload="die"), Task("after", 1, deps=("dies",), payload=0),
             *[Task(f"ok{i}", 1, payload=i) for i in range(3)]]
    out = run_tasks(tasks, 2, _pid_or_die)
    assert out["dies"].state == "failed" and ("died" in out["dies"].error or "broke" in out["dies"].error)
    assert out["after"].state == "skipped"
    # Tasks lost with the broken pool fail with the reason; the others finish on a new pool.
    assert all(out[f"ok{i}"].state in ("ok", "failed") for i in range(3))
    assert any(out[f"ok{i}"].state == "ok" for i in range(3))


_JOB = """
import signal, sys, time
from symexp.cluster.schedule import Task, run_tasks
from tests.test_schedule import _sleep_long

def stop(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")

signal.signal(signal.SIGTERM, stop)
try:
    run_tasks([Task(f"t{i}", 1, payload=i) for i in range(4)], 2, _sleep_long)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
"""


def _sleep_long(i):
    time.sleep(120)
    return i


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_workers_die_with_a_stopped_or_killed_job(signame):
    """SIGTERM (scancel, a time limit) ends the job at once and kills its pool; after SIGKILL the
    workers notice their parent is gone and exit: no CPU spent for nobody on a billed node."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    psutil = pytest.importorskip("psutil")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", _JOB], cwd=repo, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(repo)))
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        workers = []
        while time.monotonic() < deadline:  # both workers started and busy with a task
            workers = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool never started"
        time.sleep(2.0)  # tasks under way
        proc.send_signal(getattr(signal, signame))
        code = proc.wait(timeout=30)
        if signame == "SIGTERM":
            assert code == 3 and "interrupted" in proc.stdout.read()
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"workers still running after the job ended: {[p.pid for p in alive]}"
    finally:
        proc.kill()
