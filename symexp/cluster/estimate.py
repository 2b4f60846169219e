"""What a sweep will cost on a cluster, before launching it: CPU-hours used and billed, wall time.

The estimate starts from the same work items (:func:`symexp.pipeline.work.plan_work`) and the
same job shapes (:func:`symexp.cluster.layouts.shape_jobs`) that a launch submits, so it counts exactly
what would run: what the store and cache already hold costs nothing, and what several cells or
presets share (a test set, a BO run, a record) is counted once. Expected seconds per item come
from :class:`symexp.cluster.costs.CostModel`.

* **used**: CPU seconds of all items plus each task's startup;
* **billed**: per task, CPUs requested x expected wall time. The wall time of a task is a model
  of how it runs: for the ``shared`` and ``node`` layouts the list schedule of its items on its
  CPUs (:func:`symexp.cluster.schedule.simulate`, the policy the job itself follows); for the ``cell``
  layout :func:`simulate_cell_layout` (each cell computes what it needs first and waits, with
  its whole allocation, for an artefact another cell is computing);
* **wall time of the sweep** on ``nodes`` nodes of ``cpus_per_node`` CPUs, assuming the
  cluster runs the tasks as soon as CPUs are free (no queue wait).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from symexp.cluster.layouts import JobArray, LayoutSettings, shape_jobs, to_tasks
from symexp.cluster.schedule import simulate

if TYPE_CHECKING:  # only annotations: the work items are the pipeline's (symexp.pipeline.work)
    from symexp.pipeline.work import CellWork, WorkItem

STAGES = {
    "test_chunk": "test sets", "test_set": "test sets", "random_chunk": "random samples", "bo_run": "BO runs",
    "pdp": "PD artefacts", "baselines": "baselines", "sr_fit": "symbolic regression",
}


@dataclass
class LayoutEstimate:
    """Jobs, CPU-seconds used and billed, and the sweep's wall seconds for one layout."""

    settings: LayoutSettings
    n_jobs: int
    arrays: list[tuple[str, int, int, float]]  # (name, tasks, CPUs per task, longest task seconds)
    used_s: float
    billed_s: float
    wall_s: float
    stage_s: dict[str, float] = field(default_factory=dict)
    n_items: dict[str, int] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.billed_s / self.used_s if self.used_s > 0 else 1.0

    def format(self, sources: dict[str, str] | None = None, title: str | None = None) -> str:
        s = self.settings
        shape = {"cell": f"one task per cell, {s.cell_cpus} CPUs each",
                 "shared": f"tasks ask for what they use (fit tasks {s.task_cpus} CPU(s))",
                 "node": f"one job per node, {s.cpus_per_node} CPUs each"}[s.layout]
        lines = [title or f"layout {s.layout}: {shape}"]
        if not self.used_s:
            return "\n".join(lines + ["  nothing to compute: every record of the view exists"])
        lines.append(f"  work items: " + ", ".join(f"{n} {k}" for k, n in self.n_items.items()))
        lines.append("  expected CPU-hours per stage: " + ", ".join(f"{k} {v / 3600:.{2 if v < 36000 else 1}f}"
                                                                     for k, v in self.stage_s.items()))
        for name, n, cpus, longest in self.arrays:
            lines.append(f"  array {name:<12} {n:>5} task(s) x {cpus:>2} CPU(s), longest {longest / 3600:6.2f} h")
        digits = 1 if self.billed_s >= 36000 else 3
        lines.append(f"  jobs (SLURM tasks)      {self.n_jobs:>10d}")
        lines.append(f"  CPU-hours used          {self.used_s / 3600:>10.{digits}f}")
        lines.append(f"  CPU-hours billed        {self.billed_s / 3600:>10.{digits}f}   (CPUs requested x expected wall time)")
        lines.append(f"  billed / used           {self.ratio:>10.2f}")
        lines.append(f"  wall time of the sweep  {self.wall_s / 3600:>10.2f} h on {s.nodes} node(s) of {s.cpus_per_node} "
                     "CPUs (no queue wait)")
        if sources:
            measured = sorted(k for k, v in sources.items() if v.startswith("measured"))
            lines.append(f"  costs: {len(measured)} of {len(sources)} from measurements here"
                         + (f" ({', '.join(measured[:6])}{', ...' if len(measured) > 6 else ''})" if measured else "")
                         + ", the rest from the calibration in symexp/cluster/costs.py")
        return "\n".join(lines)


def stage_seconds(items: Sequence[WorkItem]) -> tuple[dict[str, float], dict[str, int]]:
    secs: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for i in items:
        secs[STAGES[i.kind]] += i.seconds
        count[i.kind] += 1
    return dict(secs), dict(count)


def simulate_arrays(arrays: Sequence[JobArray], total_cpus: int, parallelism: int = 10**6) -> float:
    """Wall seconds until every task of ``arrays`` has ended on ``total_cpus`` CPUs: tasks start
    in array and index order as CPUs free up (later ones fill gaps, as SLURM's backfill does),
    an array's tasks only after the arrays it depends on have ended, at most ``parallelism``
    tasks of one array at a time."""
    pending = [(a.name, t.cpus, t.expected_s) for a in arrays for t in a.tasks]
    active: dict[str, int] = defaultdict(int)
    if any(c > total_cpus for _, c, _ in pending):
        raise ValueError(f"a task asks for more than the {total_cpus} CPUs available")
    after = {a.name: set(a.after) for a in arrays}
    left = defaultdict(int)
    for name, _, _ in pending:
        left[name] += 1
    ended: set[str] = {a.name for a in arrays if not left[a.name]}
    running: list[tuple[float, int, str]] = []
    free, now = total_cpus, 0.0
    while pending or running:
        still = []
        for name, cpus, secs in pending:
            if after[name] <= ended and cpus <= free and active[name] < parallelism:
                free -= cpus
                active[name] += 1
                heapq.heappush(running, (now + secs, cpus, name))
            else:
                still.append((name, cpus, secs))
        pending = still
        if not running:
            raise ValueError("tasks that can never start (dependency on an array that does not exist)")
        now, cpus, name = heapq.heappop(running)
        free += cpus
        active[name] -= 1
        left[name] -= 1
        if not left[name]:
            ended.add(name)
    return now


def simulate_cell_layout(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings,
                         ) -> tuple[list[float], float]:
    """Per-task wall seconds and the sweep's wall seconds of the ``cell`` layout.

    Cells start in sweep order as slots free up (``nodes`` x ``cpus_per_node // cell_cpus``
    slots). A cell first needs its test set, then its samples (BO run / random evaluations),
    then fits; evaluations of an artefact it computes run on its ``cell_cpus``, a BO run on one;
    an artefact that an earlier cell is computing is waited for (the allocation held idle);
    its SR fits run in parallel on ``cell_cpus`` workers, longest first.
    """
    C = s.cell_cpus
    slots = [0.0] * min(s.nodes * max(1, s.cpus_per_node // C), s.array_parallelism)
    heapq.heapify(slots)
    ready: dict[str, float] = {}
    fit_owner: dict[str, str] = {}
    walls, end_all = [], 0.0
    by_cell: dict[str, list[WorkItem]] = defaultdict(list)
    for i in items:
        for c in i.cells:
            by_cell[c].append(i)
    for cell in cells:
        mine = by_cell.get(cell.cell_id)
        if not mine:
            continue
        start = heapq.heappop(slots)
        t = start

        def shared(key: str, duration: float) -> None:
            nonlocal t
            if key in ready:
                t = max(t, ready[key])
            else:
                ready[key] = t + duration
                t = ready[key]

        chunks = [i for i in mine if i.kind == "test_chunk"]
        for ts in (i for i in mine if i.kind == "test_set"):
            shared(ts.id, sum(c.seconds for c in chunks if c.group == ts.group) / C + ts.seconds)
        rand = [i for i in mine if i.kind == "random_chunk"]
        if rand:
            shared("|".join(sorted(i.id for i in rand)), sum(i.seconds for i in rand) / C)
        for bo in (i for i in mine if i.kind == "bo_run"):
            shared(bo.id, bo.seconds)
        for other in (i for i in mine if i.kind in ("pdp", "baselines")):
            shared(other.id, other.seconds)
        fits = [i for i in mine if i.kind == "sr_fit" and fit_owner.setdefault(i.id, cell.cell_id) == cell.cell_id]
        if fits:
            t += simulate([replace_deps(f) for f in to_tasks(fits)], min(C, len(fits))).makespan
        t += s.startup_s
        walls.append(t - start)
        end_all = max(end_all, t)
        heapq.heappush(slots, t)
    return walls, end_all


def replace_deps(task):
    """The task without dependencies (inside a cell, its fits wait only for the cell's stages)."""
    from dataclasses import replace

    return replace(task, deps=())


def estimate_layout(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings) -> LayoutEstimate:
    """The :class:`LayoutEstimate` of running ``items`` (for ``cells``) in layout ``s``."""
    stage_s, n_items = stage_seconds(items)
    work = sum(i.seconds for i in items)
    arrays = shape_jobs(items, cells, s)
    if s.layout == "cell":
        walls, wall = simulate_cell_layout(items, cells, s)
        n_jobs = len(walls)
        billed = s.cell_cpus * sum(walls)
        summary = [("cells", n_jobs, s.cell_cpus, max(walls, default=0.0))]
    else:
        n_jobs = sum(len(a.tasks) for a in arrays)
        billed = sum(t.cpus * t.expected_s for a in arrays for t in a.tasks)
        if s.layout == "node":
            wall = max((t.expected_s for a in arrays for t in a.tasks), default=0.0)
        else:
            wall = simulate_arrays(arrays, s.nodes * s.cpus_per_node, s.array_parallelism) if arrays else 0.0
        summary = [(a.name, len(a.tasks), a.cpus, max(t.expected_s for t in a.tasks)) for a in arrays]
    used = work + n_jobs * s.startup_s
    return LayoutEstimate(settings=s, n_jobs=n_jobs, arrays=summary, used_s=used, billed_s=billed, wall_s=wall,
                          stage_s=stage_s, n_items=n_items)


def node_counts(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings,
                candidates: Sequence[int] = (1, 2, 4, 8, 16, 32)) -> list[tuple[int, LayoutEstimate]]:
    """The node layout's estimate for several node counts (more nodes: shorter, less efficient)."""
    from dataclasses import replace

    n_groups = len({i.group for i in items})
    out = []
    for n in candidates:
        if n > max(1, n_groups):
            break
        out.append((n, estimate_layout(items, cells, replace(s, layout="node", nodes=n))))
    return out
