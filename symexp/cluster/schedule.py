"""Ordering work inside one job: list scheduling of tasks with dependencies on a pool of workers.

A job (a SLURM task, or a whole node) holds ``n_workers`` CPUs and a set of :class:`Task` s, each
with its expected CPU seconds and the tasks it needs first. Whenever a worker is free it takes
the *ready* task (all of its dependencies done) with the highest priority; the priority is the
task's *bottom level*: its own expected seconds plus the longest chain of expected seconds that
depends on it. So the long sequential chains (a BO run, then the SR fits on its samples) start
first, and among independent tasks the longest goes first (LPT), which keeps the workers busy
to the end. :func:`simulate` runs the same policy on the expected seconds, for cost estimates;
:func:`run_tasks` runs it for real on a process pool. Both dispatch in exactly the same order.

Nothing here knows about experiments or SLURM: a task's ``payload`` goes to the ``execute``
function the caller passes.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """One unit of work.

    ``id``: unique within a job; ``seconds``: expected CPU seconds on one worker (>= 0);
    ``deps``: ids of tasks that must finish first (ids of tasks not in the job count as done);
    ``payload``: what ``execute`` receives; ``kind``: a label for reports.
    """

    id: str
    seconds: float
    deps: tuple[str, ...] = ()
    payload: Any = None
    kind: str = ""


@dataclass
class Outcome:
    """What became of a task: ``state`` is ``ok``, ``failed`` or ``skipped`` (a dependency did
    not finish); ``result`` the value ``execute`` returned; ``error`` a one-line reason."""

    state: str
    result: Any = None
    error: str | None = None
    wall_s: float = 0.0


@dataclass
class Schedule:
    """A simulated run: start and end second of every task, and the worker it ran on."""

    n_workers: int
    start: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)
    worker: dict[str, int] = field(default_factory=dict)

    @property
    def makespan(self) -> float:
        return max(self.end.values(), default=0.0)

    @property
    def busy_seconds(self) -> float:
        return sum(self.end[t] - self.start[t] for t in self.end)

    @property
    def utilisation(self) -> float:
        """Busy worker-seconds over ``n_workers x makespan`` (1.0: no worker ever idle)."""
        span = self.makespan
        return self.busy_seconds / (self.n_workers * span) if span > 0 else 1.0


def _check(tasks: Sequence[Task]) -> dict[str, Task]:
    by_id: dict[str, Task] = {}
    for t in tasks:
        if t.id in by_id:
            raise ValueError(f"duplicate task id {t.id!r}")
        if t.seconds < 0:
            raise ValueError(f"task {t.id!r} has negative expected seconds {t.seconds}")
        by_id[t.id] = t
    return by_id


def _successors(by_id: dict[str, Task]) -> dict[str, list[str]]:
    succ: dict[str, list[str]] = {t: [] for t in by_id}
    for t in by_id.values():
        for d in t.deps:
            if d in by_id:
                succ[d].append(t.id)
    return succ


def topological_order(tasks: Sequence[Task]) -> list[str]:
    """Task ids, every task after its dependencies; raises ``ValueError`` on a cycle."""
    by_id = _check(tasks)
    succ = _successors(by_id)
    missing = {t.id: sum(1 for d in t.deps if d in by_id) for t in tasks}
    ready = [t.id for t in tasks if missing[t.id] == 0]
    order = []
    while ready:
        tid = ready.pop()
        order.append(tid)
        for s in succ[tid]:
            missing[s] -= 1
            if missing[s] == 0:
                ready.append(s)
    if len(order) != len(by_id):
        stuck = sorted(set(by_id) - set(order))[:5]
        raise ValueError(f"dependency cycle among tasks {stuck}")
    return order


def bottom_levels(tasks: Sequence[Task]) -> dict[str, float]:
    """Per task: its seconds plus the longest chain of seconds of the tasks that depend on it."""
    by_id = _check(tasks)
    succ = _successors(by_id)
    level: dict[str, float] = {}
    for tid in reversed(topological_order(tasks)):
        level[tid] = by_id[tid].seconds + max((level[s] for s in succ[tid]), default=0.0)
    return level


class _Dispatcher:
    """The shared policy: ready tasks in a heap by (-bottom level, submission order)."""

    def __init__(self, tasks: Sequence[Task]):
        self.by_id = _check(tasks)
        self.succ = _successors(self.by_id)
        self.level = bottom_levels(tasks)
        self.rank = {t.id: i for i, t in enumerate(tasks)}
        self.waiting = {t.id: sum(1 for d in t.deps if d in self.by_id) for t in tasks}
        self.heap: list[tuple[float, int, str]] = []
        for t in tasks:
            if self.waiting[t.id] == 0:
                self._push(t.id)

    def _push(self, tid: str) -> None:
        heapq.heappush(self.heap, (-self.level[tid], self.rank[tid], tid))

    def pop(self) -> str | None:
        return heapq.heappop(self.heap)[2] if self.heap else None

    def finished(self, tid: str) -> list[str]:
        """Mark ``tid`` done; returns the tasks that became ready."""
        ready = []
        for s in self.succ[tid]:
            self.waiting[s] -= 1
            if self.waiting[s] == 0:
                self._push(s)
                ready.append(s)
        return ready

    def dependents(self, tid: str) -> list[str]:
        """Every task that (transitively) needs ``tid``."""
        out, stack, seen = [], list(self.succ[tid]), set()
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            out.append(s)
            stack.extend(self.succ[s])
        return out


def simulate(tasks: Sequence[Task], n_workers: int, overhead_s: float = 0.0) -> Schedule:
    """The schedule :func:`run_tasks` would follow if every task took its expected seconds
    (plus ``overhead_s`` each: dispatch, loading inputs). Deterministic."""
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    d = _Dispatcher(tasks)
    sched = Schedule(n_workers=n_workers)
    free = list(range(n_workers))  # idle workers (lowest id first)
    heapq.heapify(free)
    running: list[tuple[float, int, str]] = []  # (end time, worker, task)
    now = 0.0
    while True:
        while free and d.heap:
            tid = d.pop()
            w = heapq.heappop(free)
            sched.start[tid], sched.worker[tid] = now, w
            end = now + d.by_id[tid].seconds + overhead_s
            sched.end[tid] = end
            heapq.heappush(running, (end, w, tid))
        if not running:
            break
        now, w, tid = heapq.heappop(running)
        heapq.heappush(free, w)
        d.finished(tid)
        while running and running[0][0] == now:  # everything that ends at the same instant
            _, w2, t2 = heapq.heappop(running)
            heapq.heappush(free, w2)
            d.finished(t2)
    if len(sched.end) != len(d.by_id):
        raise ValueError("some tasks never became ready (a dependency cycle)")
    return sched


def _worker_init(parent_pid: int) -> None:
    """In a pool worker: exit the moment the job's main process is gone, one BLAS thread
    (:mod:`symexp.parallel`), and leave SIGUSR2 (a batch system's "time is nearly up") to the
    job's main process, which decides what to do (e.g. submitit checkpoints and requeues the job)."""
    import signal

    from symexp.parallel import _init_worker

    _init_worker(parent_pid)
    if hasattr(signal, "SIGUSR2"):
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def _timed(execute: Callable[[Any], Any], payload: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    return execute(payload), time.perf_counter() - t0


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0].rstrip(": ") if text else type(exc).__name__


def run_tasks(tasks: Sequence[Task], n_workers: int, execute: Callable[[Any], Any],
              on_done: Callable[[Task, Outcome], None] | None = None) -> dict[str, Outcome]:
    """Run ``execute(task.payload)`` for every task, at most ``n_workers`` at a time, in the order
    of :func:`simulate`; returns the outcome of every task.

    A task that raises is ``failed`` (with the one-line reason) and every task that needs it is
    ``skipped``; the others go on. ``n_workers == 1`` runs everything in this process, one task
    after the other; otherwise on a pool of ``n_workers`` fresh (spawned) processes: a spawned
    worker inherits no open file, so no lock held here leaks into it. A worker that dies (killed,
    out of memory) fails the tasks it was running; the pool is replaced and the rest goes on.
    ``execute`` must be picklable (a module-level function) when ``n_workers > 1``.
    ``on_done(task, outcome)`` is called here, in the calling process, as each task ends.
    """
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    d = _Dispatcher(tasks)
    outcomes: dict[str, Outcome] = {}

    def settle(tid: str, outcome: Outcome) -> None:
        outcomes[tid] = outcome
        if on_done is not None:
            on_done(d.by_id[tid], outcome)
        if outcome.state == "ok":
            d.finished(tid)
            return
        for dep in d.dependents(tid):
            if dep not in outcomes:
                outcomes[dep] = Outcome("skipped", error=f"needs {tid}, which {outcome.state}: {outcome.error}")
                if on_done is not None:
                    on_done(d.by_id[dep], outcomes[dep])

    def next_ready() -> str | None:
        while True:
            tid = d.pop()
            if tid is None or tid not in outcomes:  # skipped tasks may still sit in the heap
                return tid

    if n_workers == 1:
        while (tid := next_ready()) is not None:
            try:
                result, wall = _timed(execute, d.by_id[tid].payload)
                settle(tid, Outcome("ok", result=result, wall_s=wall))
            except Exception as exc:  # noqa: BLE001 - a failed task is an outcome; the job goes on
                settle(tid, Outcome("failed", error=_reason(exc)))
        return outcomes

    ctx = multiprocessing.get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(os.getpid(),))

    pool = new_pool()
    running: dict[Future, str] = {}
    try:
        while True:
            while len(running) < n_workers and (tid := next_ready()) is not None:
                running[pool.submit(_timed, execute, d.by_id[tid].payload)] = tid
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                tid = running.pop(fut)
                try:
                    result, wall = fut.result()
                    settle(tid, Outcome("ok", result=result, wall_s=wall))
                except BrokenProcessPool as exc:
                    broken = True
                    settle(tid, Outcome("failed", error=f"its worker process died ({_reason(exc)})"))
                except Exception as exc:  # noqa: BLE001
                    settle(tid, Outcome("failed", error=_reason(exc)))
            if broken:  # every task still on the dead pool is lost with it; start a new pool
                for fut, tid in list(running.items()):
                    settle(tid, Outcome("failed", error="its worker pool broke (a worker process died)"))
                running.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
    except BaseException:  # interrupted (Ctrl-C, SIGTERM from scancel or a time limit): the work dies with the job
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes


def critical_path(tasks: Iterable[Task]) -> float:
    """The longest chain of expected seconds: no schedule can be shorter."""
    return max(bottom_levels(list(tasks)).values(), default=0.0)
