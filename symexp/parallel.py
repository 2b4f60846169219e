"""Worker processes that never outlive the job that started them.

Evaluations and SR fits run in a pool of worker processes. A job can end in three ways: it
finishes, it is interrupted (Ctrl-C, SIGTERM from ``scancel`` or a time limit: an exception in
the main process), or it is killed outright (``kill -9``, the out-of-memory killer). In the
first two the pool is shut down and its workers killed here; in the last nothing in the main
process runs any more, so every worker watches its parent itself and exits the moment the
parent is gone (a joblib/loky worker would finish its task first: minutes of CPU for nobody,
and on a cluster, an allocation's cores busy after the job ended).

Workers are started with ``spawn`` (no copy of the parent's threads or locks) and run BLAS with
one thread: the parallelism is across tasks, and a single-threaded BLAS keeps every result
independent of the core count.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

_LIMITS: list[Any] = []  # keeps the worker's BLAS limit alive


def default_n_jobs() -> int:
    """CPUs this process may use (respects SLURM/cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _watch_parent(parent_pid: int, period_s: float = 0.5) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # the job is gone: so is its work
        time.sleep(period_s)


def _init_worker(parent_pid: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()
    try:
        from threadpoolctl import threadpool_limits

        _LIMITS.append(threadpool_limits(limits=1))
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass


def imap_unordered(fn: Callable[..., Any], tasks: Sequence[tuple], n_jobs: int) -> Iterator[Any]:
    """``fn(*task)`` for every task, yielded as each finishes (any order), on ``n_jobs`` processes.

    ``n_jobs <= 1`` runs the tasks in this process, in order. ``fn`` and the tasks must be
    picklable. An exception in a task is raised here; any exception here (including
    ``KeyboardInterrupt`` and closing the generator early) kills the workers before it propagates.
    """
    tasks = list(tasks)
    if n_jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield fn(*task)
        return
    pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(tasks)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))
    try:
        pending = {pool.submit(fn, *task) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
