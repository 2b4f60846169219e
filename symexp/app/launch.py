"""Submit a sweep in the ``shared`` or ``node`` layout: its work items as SLURM job arrays (submitit).

Called by ``symexp run -m ... cluster=slurm|slurm_node`` and by ``symexp status --relaunch``; the
``cell`` layout goes through Hydra's submitit launcher instead. The work is planned here (what
the store and cache lack, :func:`symexp.pipeline.work.plan_work`), shaped into arrays
(:func:`symexp.cluster.layouts.shape_jobs`), each array submitted with ``executor.map_array`` and
its dependencies as ``--dependency=afterany:<array ids>``. This process then waits for every task
and exits non-zero if any failed (as Hydra's launcher does), printing the first reasons.

A task is :class:`ClusterRunner` called on a :class:`TaskSpec`: it runs
:func:`symexp.pipeline.work.run_job` on its items with as many workers as it has CPUs. On
submitit's checkpoint signal (USR2 before the time limit, preemption) the same task is requeued;
it resumes from what it wrote (items are idempotent).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symexp.errors import SymexpError
from symexp.pipeline.work import CellWork, WorkItem

MAX_ARRAY_SIZE = 1000  # SLURM's default MaxArraySize is 1001: longer arrays are split


@dataclass
class TaskSpec:
    """What one array task runs: ``items`` on ``cpus`` workers, answering for ``cells``."""

    label: str
    items: list[WorkItem]
    cells: list[CellWork]
    cpus: int


class ClusterRunner:
    """The callable submitit runs in each task; checkpointable (requeued with the same task)."""

    def __call__(self, task: TaskSpec) -> dict[str, Any]:
        from symexp.parallel import default_n_jobs
        from symexp.pipeline.work import run_job

        workers = max(1, min(task.cpus, default_n_jobs()))
        report = run_job(task.items, task.cells, workers, log=lambda m: print(m, flush=True), label=task.label)
        if not report.ok:
            raise RuntimeError(f"{task.label}: {len(report.failures)} work item(s) did not finish; first: "
                               f"{report.failures[0]}")
        return {"items": report.items, "cells": len(report.cells), "wall_s": report.wall_s}

    def checkpoint(self, *args: Any, **kwargs: Any):
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def plan(views, nodes: int | None = None, cells: list[CellWork] | None = None):
    """``(cells, items, settings, costs)`` of the views (or of ``cells``, a subset of them)."""
    from symexp.app.config import layout_settings, view_cells
    from symexp.cluster.costs import CostModel
    from symexp.pipeline.work import plan_work
    from symexp.store.records import load_records

    cluster = views[0].cluster or {}
    settings = layout_settings(cluster, nodes)
    cells = view_cells(views) if cells is None else cells
    keys = [k for v in views for k in v.keys]
    records, _ = load_records(views[0].store_dir, keys)
    costs = CostModel(cache_dir=views[0].cache_dir, records=records.to_dict("records"))
    items = plan_work(cells, costs, chunk_seconds=settings.chunk_seconds)
    return cells, items, settings, costs


def launch(views, cells: list[CellWork] | None = None, dry_run: bool = False, name: str | None = None) -> int:
    """Plan, shape, submit and wait. Returns the exit status (0: every task finished)."""
    from symexp.cluster.estimate import estimate_layout
    from symexp.cluster.layouts import shape_jobs

    cells, items, settings, costs = plan(views, cells=cells)
    experiment = "+".join(v.experiment for v in views)
    if not items:
        print(f"{experiment}: nothing to compute: every record of the {len(cells)} cells exists", flush=True)
        return 0
    arrays = shape_jobs(items, cells, settings)
    print(estimate_layout(items, cells, settings).format(costs.sources), flush=True)
    if dry_run:
        return 0
    cluster = views[0].cluster or {}
    if cluster.get("executor") == "local":  # cluster=local_pool: the node layout in this process
        import signal

        from symexp.pipeline.work import run_job

        def on_sigterm(signum, frame):  # as run.py: the cells say "interrupted", the workers die with the job
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, on_sigterm)
        report = run_job(items, cells, settings.cpus_per_node, log=lambda m: print(m, flush=True), label="local pool")
        for line in report.failures[:10]:
            print(f"  FAILED {line}", file=sys.stderr, flush=True)
        return 0 if report.ok else 1
    folder = Path(views[0].sweep_dir or Path("results/runs") / experiment).absolute() / ".submitit" / "%j"
    name = name or f"symexp-{experiment}"
    jobs = submit(arrays, cluster, folder, name)
    return wait(jobs)


def _params(cluster: dict[str, Any], array, name: str, dependency: list[str]) -> dict[str, Any]:
    # Every key is set by conf/cluster/slurm.yaml, which each SLURM cluster group starts from: no
    # second default here.
    from symexp.cluster.layouts import time_limit_minutes

    mem = (float(cluster["mem_gb"]) if array.name == "nodes"
           else float(cluster["mem_gb_per_cpu"]) * array.cpus)
    params: dict[str, Any] = {
        "name": name,
        "timeout_min": time_limit_minutes(array, float(cluster["timeout_margin"]),
                                          int(cluster["min_timeout_min"]), int(cluster["max_timeout_min"])),
        "cpus_per_task": array.cpus,
        "mem_gb": mem,
        "nodes": 1,
        "tasks_per_node": 1,
        "slurm_array_parallelism": int(cluster["array_parallelism"]),
        "slurm_signal_delay_s": int(cluster["signal_delay_s"]),
        "slurm_setup": list(cluster.get("setup") or []),
        "slurm_additional_parameters": dict(cluster.get("additional_parameters") or {}),
    }
    if array.name != "nodes":  # only a node job takes the whole node
        params["slurm_additional_parameters"].pop("exclusive", None)
    for key in ("partition", "account", "qos", "constraint", "exclude"):
        if cluster.get(key) is not None:
            params[f"slurm_{key}"] = cluster[key]
    if dependency:
        params["slurm_dependency"] = "afterany:" + ":".join(dependency)
    return params


def submit(arrays, cluster: dict[str, Any], folder: Path, name: str) -> list[tuple[str, Any]]:
    """Submit every array (in order, each after those it depends on); returns ``(label, job)``s."""
    import submitit

    executor = submitit.AutoExecutor(folder=str(folder), cluster="slurm",
                                     slurm_max_num_timeout=int(cluster["max_num_timeout"]))
    ids: dict[str, list[str]] = {}
    out = []
    runner = ClusterRunner()
    for array in arrays:
        deps = [i for a in array.after for i in ids.get(a, [])]
        params = _params(cluster, array, name, deps)
        executor.update_parameters(**params)
        ids[array.name] = []
        for start in range(0, len(array.tasks), MAX_ARRAY_SIZE):
            part = array.tasks[start:start + MAX_ARRAY_SIZE]
            specs = [TaskSpec(f"{array.name}[{start + k}]", t.items, t.cells, t.cpus) for k, t in enumerate(part)]
            jobs = executor.map_array(runner, specs)
            ids[array.name].append(jobs[0].job_id.split("_")[0])
            out += [(s.label, j) for s, j in zip(specs, jobs)]
        print(f"submitted array {array.name}: {len(array.tasks)} task(s) x {array.cpus} CPU(s), "
              f"time limit {params['timeout_min']} min, SLURM job(s) {', '.join(ids[array.name])}"
              + (f", after {', '.join(deps)}" if deps else ""), flush=True)
    return out


def wait(jobs: list[tuple[str, Any]], poll_s: float = 5.0) -> int:
    """Wait for every task; print failures; 0 if all finished."""
    pending = dict(jobs)
    failed: list[str] = []
    t0 = time.monotonic()
    last = 0.0
    while pending:
        for label, job in list(pending.items()):
            if job.done():
                del pending[label]
                try:
                    exc = job.exception()
                except Exception as err:  # noqa: BLE001 - e.g. UncompletedJobError: cancelled, no result
                    exc = err
                if exc is not None:
                    failed.append(f"{label} (SLURM job {job.job_id}): {str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__}")
        if pending and time.monotonic() - last > 60:
            last = time.monotonic()
            print(f"[{time.monotonic() - t0:.0f} s] {len(jobs) - len(pending)} of {len(jobs)} task(s) ended, "
                  f"{len(failed)} failed", flush=True)
        if pending:
            time.sleep(poll_s)
    print(f"all {len(jobs)} task(s) ended after {time.monotonic() - t0:.0f} s; {len(failed)} failed", flush=True)
    for line in failed[:10]:
        print(f"  FAILED {line}", file=sys.stderr, flush=True)
    return 1 if failed else 0


def main(overrides: list[str], views=None, dry_run: bool = False) -> int:
    """``symexp run -m`` with a shared or node layout: every cell of the overrides."""
    from symexp.app.config import build_views

    try:
        views = views or build_views(overrides)
    except SymexpError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    launcher_name = None
    for ov in overrides:
        if ov.startswith("hydra.launcher.name="):
            launcher_name = ov.split("=", 1)[1]
    return launch(views, dry_run=dry_run, name=launcher_name)
