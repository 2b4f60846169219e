"""How a sweep's work items become cluster jobs (plain data: nothing here talks to SLURM).

Three layouts (``cluster.layout``), chosen by how the cluster bills:

``shared`` (nodes shared between jobs: each task asks for what it uses)
    Array ``evaluations``: test-grid and random-sample evaluations, bundled into 1-CPU tasks of
    about ``task_seconds``. Array ``bo_runs``: one 1-CPU task per BO run (SMAC is sequential),
    with the PD artefacts that follow from it. Arrays ``fits_random`` (after ``evaluations``) and
    ``fits_bo`` (after both): whole cells' SR fits and baselines, bundled into tasks of
    ``task_cpus`` CPUs and about ``task_seconds``. A task of the later arrays starts only when
    the arrays it depends on have ended (``--dependency=afterany``), so it never waits for a
    lock: the artefacts it reads are there. With ``task_cpus=1`` no CPU of a task is ever idle.
``node`` (whole nodes: a job gets ``cpus_per_node`` CPUs, billed whether used or not)
    One job per node, at most ``nodes``; the benchmarks (everything that shares a test set and
    BO runs) are partitioned over the jobs, largest first onto the least-loaded job, so that
    each job computes every artefact its cells need itself; inside a job a pool of
    ``cpus_per_node`` workers runs the items in :mod:`symexp.cluster.schedule` order (BO runs first,
    then by the longest chain of work behind each item).
``cell`` (the original layout: one task per cell, ``cell_cpus`` CPUs, through Hydra)
    Kept for comparison; see :func:`symexp.cluster.estimate.simulate_cell_layout` for its cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from symexp.cluster.costs import TASK_STARTUP_S
from symexp.errors import SymexpError, unknown_choice
from symexp.cluster.schedule import Task, simulate

if TYPE_CHECKING:  # only annotations: the work items are the pipeline's (symexp.pipeline.work)
    from symexp.pipeline.work import CellWork, WorkItem

LAYOUTS = ("cell", "shared", "node")
EVALUATION_KINDS = ("test_chunk", "random_chunk")
BO_KINDS = ("bo_run", "pdp")


@dataclass(frozen=True)
class LayoutSettings:
    """The shape of the jobs (see the module docstring); ``nodes`` is also the number of
    ``cpus_per_node``-CPU nodes the sweep's wall time is estimated for.

    A field that a cluster group leaves out (``cluster=local_pool``) takes the value of
    ``conf/cluster/slurm.yaml``; tests/test_layout.py checks that these defaults equal it.
    """

    layout: str = "shared"
    cpus_per_node: int = 64
    nodes: int = 8
    task_cpus: int = 1
    task_seconds: float = 3600.0
    cell_cpus: int = 64
    chunk_seconds: float = 120.0
    startup_s: float = TASK_STARTUP_S
    array_parallelism: int = 512  # at most this many tasks of one array run at once

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise unknown_choice("cluster.layout", self.layout, LAYOUTS)
        for name in ("cpus_per_node", "nodes", "task_cpus", "cell_cpus", "array_parallelism"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SymexpError(f"cluster.{name} must be a positive integer, got {value!r}")
        for name in ("task_seconds", "chunk_seconds"):
            if not getattr(self, name) > 0:
                raise SymexpError(f"cluster layout setting {name} must be > 0, got {getattr(self, name)!r}")
        cpus = {"shared": ("task_cpus", self.task_cpus), "cell": ("cpus_per_task", self.cell_cpus)}.get(self.layout)
        if cpus and cpus[1] > self.cpus_per_node:
            raise SymexpError(f"cluster.{cpus[0]}={cpus[1]} does not fit on a node (cluster.cpus_per_node="
                              f"{self.cpus_per_node})")


@dataclass
class JobTask:
    """One SLURM array task: its items, the cells it answers for, its CPUs and expected wall
    seconds (startup included)."""

    items: list[WorkItem]
    cells: list[CellWork]
    cpus: int
    expected_s: float

    @property
    def work_s(self) -> float:
        return sum(i.seconds for i in self.items)


@dataclass
class JobArray:
    """A SLURM job array: tasks of equal CPUs; starts after the arrays named in ``after`` end."""

    name: str
    tasks: list[JobTask]
    after: tuple[str, ...] = ()
    cpus: int = 1
    extra: dict = field(default_factory=dict)


def task_wall(items: Sequence[WorkItem], cpus: int, startup_s: float) -> float:
    """Expected wall seconds of a task: its items list-scheduled on ``cpus`` workers, plus startup."""
    if not items:
        return startup_s
    if cpus == 1:
        return startup_s + sum(i.seconds for i in items)
    return startup_s + simulate(to_tasks(items), cpus).makespan


def to_tasks(items: Sequence[WorkItem]) -> list[Task]:
    """Scheduler tasks of ``items`` (dependencies on items outside count as done)."""
    return [Task(id=i.id, seconds=i.seconds, deps=i.deps, payload=None, kind=i.kind) for i in items]


def _cells_served(items: Sequence[WorkItem], cells_by_id: dict[str, CellWork]) -> list[CellWork]:
    seen: dict[str, CellWork] = {}
    for i in items:
        for c in i.cells:
            if c in cells_by_id and c not in seen:
                seen[c] = cells_by_id[c]
    return list(seen.values())


def _bundle(units: list[list[WorkItem]], capacity_s: float) -> list[list[WorkItem]]:
    """Consecutive units joined into bundles of about ``capacity_s`` expected seconds (a unit
    larger than that stays alone; units are never split)."""
    out: list[list[WorkItem]] = []
    current: list[WorkItem] = []
    load = 0.0
    for unit in units:
        secs = sum(i.seconds for i in unit)
        if current and load + secs > capacity_s:
            out.append(current)
            current, load = [], 0.0
        current.extend(unit)
        load += secs
    if current:
        out.append(current)
    return out


def shape_shared(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings) -> list[JobArray]:
    cells_by_id = {c.cell_id: c for c in cells}
    presence_only = {c.cell_id: replace(c, job_dir=None) for c in cells}
    arrays: list[JobArray] = []

    # evaluations: bundled per benchmark (its data loads once per task), 1 CPU
    by_group: dict[str, list[WorkItem]] = defaultdict(list)
    for i in items:
        if i.kind in EVALUATION_KINDS:
            by_group[i.group].append(i)
    units = [[i] for g in sorted(by_group) for i in by_group[g]]
    tasks = [JobTask(b, _cells_served(b, presence_only), 1, task_wall(b, 1, s.startup_s))
             for b in _bundle(units, s.task_seconds)]
    if tasks:
        arrays.append(JobArray("evaluations", _longest_first(tasks), cpus=1))

    # BO runs: one task each, with the PD artefacts computed from it
    pdps: dict[str, list[WorkItem]] = defaultdict(list)
    for i in items:
        if i.kind == "pdp":
            pdps[i.deps[0] if i.deps else ""].append(i)
    tasks = []
    for i in items:
        if i.kind == "bo_run":
            bundle = [i, *pdps.pop(i.id, [])]
            tasks.append(JobTask(bundle, _cells_served(bundle, presence_only), 1, task_wall(bundle, 1, s.startup_s)))
    loose_pdp = [p for ps in pdps.values() for p in ps]  # BO run already cached: PD alone
    for p in loose_pdp:
        tasks.append(JobTask([p], _cells_served([p], presence_only), 1, task_wall([p], 1, s.startup_s)))
    if tasks:
        arrays.append(JobArray("bo_runs", _longest_first(tasks), cpus=1))
    has_eval, has_bo = any(a.name == "evaluations" for a in arrays), any(a.name == "bo_runs" for a in arrays)

    # fits: whole cells (the first cell that plans an item owns it), random ones and BO ones apart
    owned: dict[str, list[WorkItem]] = defaultdict(list)
    for i in items:
        if i.kind not in EVALUATION_KINDS + BO_KINDS:
            owned[i.cells[0]].append(i)
    for name, modes, after in (("fits_random", ("random",), ("evaluations",) if has_eval else ()),
                               ("fits_bo", ("bo", "bo_gp"), tuple(a for a, h in (("evaluations", has_eval),
                                                                                ("bo_runs", has_bo)) if h))):
        units = [owned[c.cell_id] for c in cells if c.spec.mode in modes and owned.get(c.cell_id)]
        bundles = _bundle(units, s.task_seconds * s.task_cpus)
        tasks = [JobTask(b, [cells_by_id[c] for c in dict.fromkeys(i.cells[0] for i in b)], s.task_cpus,
                         task_wall(b, s.task_cpus, s.startup_s)) for b in bundles]
        if tasks:
            arrays.append(JobArray(name, _longest_first(tasks), after=after, cpus=s.task_cpus))
    return arrays


def _longest_first(tasks: list[JobTask]) -> list[JobTask]:
    """SLURM starts an array's tasks in index order: longest first keeps the end short."""
    return sorted(tasks, key=lambda t: -t.expected_s)


def partition_groups(items: Sequence[WorkItem], n_bins: int, cpus: int = 1) -> list[list[str]]:
    """Benchmark groups onto at most ``n_bins`` node jobs of ``cpus`` CPUs.

    A node job cannot end before its longest chain of work (a BO run and the fits after it), so
    a job holding a long chain should get enough other work to keep its CPUs busy meanwhile,
    and no job should get more work than it can do by then. So: each job takes up to
    ``C = max(total work / n_bins, longest chain x cpus)`` seconds of work; groups go, longest
    chain first (then largest work), into the first job with room; a group that fits nowhere
    opens a new job while fewer than ``n_bins`` exist, else goes to the least-loaded one. With
    equal chains this is first-fit decreasing onto ``n_bins`` equal jobs.
    """
    from symexp.cluster.schedule import bottom_levels

    work: dict[str, float] = defaultdict(float)
    by_group: dict[str, list[WorkItem]] = defaultdict(list)
    for i in items:
        work[i.group] += i.seconds
        by_group[i.group].append(i)
    chain = {g: max(bottom_levels(to_tasks(its)).values()) for g, its in by_group.items()}
    capacity = max(sum(work.values()) / max(1, n_bins), max(chain.values(), default=0.0) * cpus)
    bins: list[list[str]] = []
    load: list[float] = []
    for g in sorted(work, key=lambda g: (-chain[g], -work[g], g)):
        k = next((b for b in range(len(bins)) if load[b] + work[g] <= capacity * (1 + 1e-9)), None)
        if k is None and len(bins) < n_bins:
            bins.append([])
            load.append(0.0)
            k = len(bins) - 1
        elif k is None:
            k = min(range(len(bins)), key=lambda b: (load[b], b))
        bins[k].append(g)
        load[k] += work[g]
    return bins


def shape_node(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings) -> list[JobArray]:
    cells_by_id = {c.cell_id: c for c in cells}
    tasks = []
    for groups in partition_groups(items, s.nodes, s.cpus_per_node):
        mine = [i for i in items if i.group in set(groups)]
        tasks.append(JobTask(mine, _cells_served(mine, cells_by_id), s.cpus_per_node,
                             task_wall(mine, s.cpus_per_node, s.startup_s)))
    return [JobArray("nodes", _longest_first(tasks), cpus=s.cpus_per_node)] if tasks else []


def shape_cell(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings) -> list[JobArray]:
    """One task per cell with work (its expected seconds come from the estimate's simulation)."""
    served = {c for i in items for c in i.cells}
    tasks = [JobTask([i for i in items if c.cell_id in i.cells], [c], s.cell_cpus, 0.0)
             for c in cells if c.cell_id in served]
    return [JobArray("cells", tasks, cpus=s.cell_cpus)] if tasks else []


def shape_jobs(items: Sequence[WorkItem], cells: Sequence[CellWork], s: LayoutSettings) -> list[JobArray]:
    """The job arrays of ``items`` in layout ``s.layout`` (in submission order)."""
    return {"shared": shape_shared, "node": shape_node, "cell": shape_cell}[s.layout](items, cells, s)


def time_limit_minutes(array: JobArray, margin: float, minimum: int, maximum: int) -> int:
    """A time limit for every task of ``array``: its longest expected wall x ``margin``."""
    longest = max((t.expected_s for t in array.tasks), default=0.0)
    return int(min(maximum, max(minimum, math.ceil(longest * margin / 60))))
