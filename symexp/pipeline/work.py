"""Work finer than a cell: the pieces of many cells, for jobs that keep many CPUs busy.

:func:`run_cell` does one cell from start to end. A job that runs many cells on many CPUs needs
the pieces instead, with what each piece needs first, so that it can start every BO run at once,
fill the other CPUs with evaluations and SR fits, and never wait for a lock another job holds.
:func:`plan_work` cuts cells into :class:`WorkItem` s; each shared artefact and each record is
one item, however many cells (of however many presets) need it:

===============  ===========================================  ===================================
kind             what                                         needs
===============  ===========================================  ===================================
``test_chunk``   some evaluations of a benchmark's test grid  --
``test_set``     assembles the test set from its evaluations  its ``test_chunk`` s
``random_chunk`` some evaluations of a random sample          --
``bo_run``       one SMAC run (single-threaded, the longest)  --
``pdp``          fANOVA + partial dependence for one n        its ``bo_run``
``baselines``    GP and linear-regression records of a cell   ``test_set``, ``bo_run``
``sr_fit``       one SR fit, written as its record            ``test_set`` and the training data
===============  ===========================================  ===================================

:func:`execute_item` runs one item in any process; :func:`run_job` runs a job's items on a pool
(the order of :mod:`symexp.cluster.schedule`), holding the presence of its cells and writing their
``job_status.json``. Items are idempotent: what exists is skipped, a record claimed by another
live job is left to it, and an artefact that another process is computing is never waited for
(the item fails with that reason; its dependents are skipped). Record items never run SMAC: a
missing BO run is an :class:`ArtefactMissing` error, reported for the cell, never recomputed
by every fit that needs it.
"""

from __future__ import annotations

import dataclasses
import resource
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symexp.pipeline.plan import planned_keys
from symexp.pipeline.spec import CellSpec
from symexp.pipeline.training import ArtefactMissing, bo_run_path, bo_run_settings, pdp_artefact_path
from symexp.store.records import RecordKey, RecordStore

Log = Callable[[str], None]

KINDS = ("test_chunk", "test_set", "random_chunk", "bo_run", "pdp", "baselines", "sr_fit")
ARTEFACT_KINDS = ("test_chunk", "random_chunk", "bo_run", "pdp")
RECORD_KINDS = ("test_set", "baselines", "sr_fit")
# An artefact missing more than this share of its evaluations was not computed by its job.
MAX_MISSING_SHARE = 0.05


@dataclass(frozen=True)
class CellWork:
    """A cell as a job sees it: its spec, id, planned records and job directory (``None``: no
    ``job_status.json``)."""

    spec: CellSpec
    cell_id: str
    keys: tuple[RecordKey, ...]
    job_dir: Path | None = None


@dataclass(frozen=True)
class WorkItem:
    """One piece of work. ``group`` is its benchmark key: items of one group share artefacts,
    items of different groups share nothing. ``seconds``: expected CPU seconds (one core);
    ``cells``: ids of the cells it serves; ``args``: kind-specific (see :func:`execute_item`)."""

    id: str
    kind: str
    spec: CellSpec
    group: str
    seconds: float
    deps: tuple[str, ...] = ()
    args: tuple = ()
    cells: tuple[str, ...] = ()


# -- benchmarks, once per process ------------------------------------------------------------------

_BENCHES: dict[tuple, Any] = {}


def benchmark_for(spec: CellSpec):
    """The cell's benchmark (one object per process and benchmark, data loaded once)."""
    from symexp.benchmarks import make_benchmark

    key = (spec.model, spec.dataset, spec.protocol, spec.hyperparameters, str(spec.data_dir), str(spec.cache_dir),
           spec.split)
    bench = _BENCHES.get(key)
    if bench is None:
        bench = make_benchmark(model=spec.model, dataset=spec.dataset, protocol=spec.protocol,
                               hyperparameters=list(spec.hyperparameters) if spec.hyperparameters else None,
                               data_dir=spec.data_dir, cache_dir=spec.cache_dir / "evaluations", split=spec.split)
        _BENCHES[key] = bench
    return bench


def cell_work(spec: CellSpec, job_dir: Path | None = None) -> CellWork:
    """A :class:`CellWork` from a spec (validates it, without writing)."""
    from symexp.pipeline.plan import cell_id
    from symexp.pipeline.spec import validate_spec

    keys = planned_keys(spec, validate_spec(spec, check_dirs=False))
    return CellWork(spec=spec, cell_id=cell_id(keys), keys=tuple(keys), job_dir=job_dir)


def _entry_paths(bench, cache_dir: Path, configs: Sequence[dict], seeds: Sequence[int]) -> list[Path]:
    from symexp.benchmarks.cache import EvaluationCache, entry_id

    cache = EvaluationCache(Path(cache_dir) / "evaluations", bench.key)
    return [cache.path(entry_id(bench.key, bench.protocol, bench.fidelity, bench.full_config(c), int(s)))
            for c, s in zip(configs, seeds)]


def _has_cache(bench, cache_dir: Path) -> bool:
    """Whether the cache holds any evaluation of ``bench`` (if not, every one is missing)."""
    from symexp.benchmarks.cache import EvaluationCache

    return EvaluationCache(Path(cache_dir) / "evaluations", bench.key).directory.is_dir()


def _test_pairs(spec: CellSpec, bench) -> tuple[np.ndarray, list[dict], list[tuple[int, int]]]:
    """The test grid (m, d), its configurations and every (grid index, evaluation seed) pair."""
    X = bench.space.test_grid(spec.test_points_per_dim)
    configs = bench.space.from_array(X)
    pairs = [(i, int(s)) for i in range(len(configs)) for s in spec.test_eval_seeds]
    return X, configs, pairs


def _chunks(indices: list, per_chunk: int) -> list[list]:
    per_chunk = max(1, int(per_chunk))
    return [indices[i:i + per_chunk] for i in range(0, len(indices), per_chunk)]


# -- planning --------------------------------------------------------------------------------------

def plan_work(cells: Sequence[CellWork], costs, chunk_seconds: float) -> list[WorkItem]:
    """The work items that bring ``cells`` to done, from what the store and cache hold now.

    Reads only (records, cache files); never moves or writes a file. ``costs``: a
    :class:`symexp.cluster.costs.CostModel` for the items' expected seconds; ``chunk_seconds``: expected
    length of an evaluation chunk. Items are in a stable order: per group, artefacts first.
    """
    from symexp.cluster.costs import BASELINES_S, ITEM_OVERHEAD_S, PDP_ARTEFACT_S
    from symexp.benchmarks.testset import test_set_path

    items: dict[str, WorkItem] = {}
    served: dict[str, list[str]] = defaultdict(list)  # item id -> cells it serves

    def add(item: WorkItem, cell: str) -> str:
        if item.id not in items:
            items[item.id] = item
        if cell not in served[item.id]:
            served[item.id].append(cell)
        return item.id

    stores: dict[Path, RecordStore] = {}
    todo: dict[str, list[RecordKey]] = {}
    owner: dict[str, str] = {}  # record id -> first cell that plans it
    random_max: dict[tuple[str, int], int] = defaultdict(int)
    for cell in cells:
        spec = cell.spec
        store = stores.setdefault(Path(spec.store_dir), RecordStore(spec.store_dir))
        keys = []
        for key in cell.keys:
            state, _ = store.state(key)
            if state == "ok" or (state == "failed" and spec.keep_failed):
                continue
            keys.append(key)
            owner.setdefault(key.record_id, cell.cell_id)
        todo[cell.cell_id] = keys
        if keys and spec.mode == "random":
            bench = benchmark_for(spec)
            random_max[(bench.key, spec.sampling_seed)] = max(random_max[(bench.key, spec.sampling_seed)],
                                                              max(k.n_samples for k in keys))

    test_items: dict[str, str] = {}  # test set path -> id of its test_set item ('' when it exists)
    random_items: dict[tuple[str, int], list[tuple[str, int]]] = {}  # -> [(chunk id, first index)]
    for cell in cells:
        keys = todo[cell.cell_id]
        if not keys:
            continue
        spec = cell.spec
        bench = benchmark_for(spec)
        group = bench.key
        all_hps = spec.hyperparameters is not None and len(spec.hyperparameters) > 2
        ev = costs.eval_seconds(spec.model, spec.dataset, bench.key, all_hps=all_hps)
        bo_deps: dict[int, list[str]] = {}  # n -> the BO run item its training set needs (none: cached)

        # the test set: chunks of its missing evaluations, then the assembly
        test_dep: list[str] = []
        if spec.pdp is None:
            tpath = test_set_path(spec.cache_dir, bench.key, spec.test_points_per_dim, tuple(spec.test_eval_seeds))
            if str(tpath) not in test_items:
                test_items[str(tpath)] = ""
                if not tpath.exists():
                    _, configs, pairs = _test_pairs(spec, bench)
                    missing = pairs
                    if _has_cache(bench, spec.cache_dir):
                        paths = _entry_paths(bench, spec.cache_dir, [configs[i] for i, _ in pairs], [s for _, s in pairs])
                        missing = [p for p, path in zip(pairs, paths) if not path.exists()]
                    chunk_ids = []
                    for chunk in _chunks(missing, chunk_seconds / ev):
                        cid = f"test_chunk:{tpath.name}:{chunk[0][0]}.{chunk[0][1]}-{chunk[-1][0]}.{chunk[-1][1]}"
                        chunk_ids.append(add(WorkItem(cid, "test_chunk", spec, group, ev * len(chunk), args=tuple(chunk)),
                                             cell.cell_id))
                    tid = f"test_set:{tpath.name}"
                    test_items[str(tpath)] = add(WorkItem(tid, "test_set", spec, group, ITEM_OVERHEAD_S,
                                                          deps=tuple(chunk_ids)), cell.cell_id)
            if test_items[str(tpath)]:
                test_dep = [add(items[test_items[str(tpath)]], cell.cell_id)]

        # the training data
        if spec.mode == "random":
            rkey = (bench.key, spec.sampling_seed)
            if rkey not in random_items:
                from symexp.sampling import random_configurations

                n_max = random_max[rkey]
                missing = list(range(n_max))
                if _has_cache(bench, spec.cache_dir):
                    configs = bench.space.from_array(random_configurations(bench.space, n_max, spec.sampling_seed))
                    paths = _entry_paths(bench, spec.cache_dir, configs, [spec.sampling_seed] * n_max)
                    missing = [i for i, p in enumerate(paths) if not p.exists()]
                random_items[rkey] = []
                for chunk in _chunks(missing, chunk_seconds / ev):
                    cid = f"random_chunk:{bench.key}:seed{spec.sampling_seed}:{chunk[0]}-{chunk[-1]}"
                    random_items[rkey].append((add(WorkItem(cid, "random_chunk", spec, group, ev * len(chunk),
                                                            args=tuple(chunk)), cell.cell_id), chunk[0]))
        else:
            # One item per SMAC run the remaining records need: the main run, and under
            # bo.variant=separate a run of its own for each small n (BOSettings.run_settings).
            for n in sorted({k.n_samples for k in keys}):
                settings = bo_run_settings(spec, bench, n)
                path = bo_run_path(spec, bench.key, settings)
                if not path.exists():
                    secs = costs.bo_run_seconds(spec.model, spec.dataset, settings.n_trials, bench.key, all_hps=all_hps)
                    bo_deps[n] = [add(WorkItem(f"bo_run:{path.relative_to(spec.cache_dir)}", "bo_run", spec, group,
                                               secs, args=(settings,)), cell.cell_id)]

        def deps_for(n: int) -> tuple[str, ...]:
            data_deps = bo_deps.get(n, [])
            out = list(test_dep) + list(data_deps)
            if spec.mode == "random":
                out += [cid for cid, first in random_items[(bench.key, spec.sampling_seed)] if first < n]
            if spec.pdp is not None:
                ppath = pdp_artefact_path(spec, bench, n)
                if not ppath.exists():
                    pid = f"pdp:{ppath.relative_to(spec.cache_dir)}"
                    out.append(add(WorkItem(pid, "pdp", spec, group, PDP_ARTEFACT_S, deps=tuple(data_deps), args=(n,)),
                                   cell.cell_id))
            return tuple(out)

        base = [k for k in keys if k.method in ("gp_baseline", "linear_regression") and owner[k.record_id] == cell.cell_id]
        if base:
            deps = tuple(sorted({d for n in {k.n_samples for k in base} for d in deps_for(n)}))
            add(WorkItem(f"baselines:{cell.cell_id}", "baselines", spec, group, BASELINES_S * len({k.n_samples for k in base}),
                         deps=deps, args=tuple(base)), cell.cell_id)
        for key in keys:
            if not key.method.startswith("sr_"):
                continue
            fid = f"sr_fit:{key.record_id}"
            if fid in items:
                add(items[fid], cell.cell_id)
                continue
            points = spec.bo_gp_points if spec.mode == "bo_gp" else key.n_samples
            secs = costs.sr_fit_seconds(spec.sr.population_size, spec.sr.generations, points) + ITEM_OVERHEAD_S
            add(WorkItem(fid, "sr_fit", spec, group, secs, deps=deps_for(key.n_samples), args=(key,)), cell.cell_id)

    return [dataclasses.replace(item, cells=tuple(served[item.id])) for item in items.values()]


# -- executing one item ------------------------------------------------------------------------------

def _quiet(msg: str) -> None:
    pass


def _printer(prefix: str) -> Log:
    def log(msg: str) -> None:
        print(f"{prefix}{msg}", flush=True)
    return log


def execute_item(item: WorkItem) -> dict[str, Any]:
    """Run one work item in this process; returns what it did (counts, timings).

    Raises on failure (the scheduler records the reason and skips what depends on it); a
    failed SR fit is a record (``status: failed``), not a failure of the item.
    """
    log = _printer(f"[{item.kind} {item.spec.model}/{item.spec.dataset} {item.spec.mode} seed {item.spec.sampling_seed}] ")
    w0, c0 = time.perf_counter(), time.process_time()
    out = _EXECUTORS[item.kind](item, log)
    out["wall_s"], out["cpu_s"] = time.perf_counter() - w0, time.process_time() - c0
    return out


def _run_test_chunk(item: WorkItem, log: Log) -> dict[str, Any]:
    from symexp.benchmarks.testset import load_or_compute_test_set

    spec = item.spec
    bench = benchmark_for(spec)
    _, configs, pairs = _test_pairs(spec, bench)
    chunk = list(item.args)
    before = bench.n_trainings
    bench.evaluate_many([configs[i] for i, _ in chunk], [s for _, s in chunk], n_jobs=1, on_error="nan")
    out = {"trainings": bench.n_trainings - before}
    # The chunk that completes the grid assembles the test set, so that no fit has to.
    paths = _entry_paths(bench, spec.cache_dir, [configs[i] for i, _ in pairs], [s for _, s in pairs])
    if all(p.exists() for p in paths):
        load_or_compute_test_set(bench, spec.test_points_per_dim, spec.test_eval_seeds, spec.cache_dir, n_jobs=1, log=log)
        out["assembled"] = True
    return out


def require_test_set(spec: CellSpec, bench, log: Log):
    """The test set, assembled from cached evaluations if need be; :class:`ArtefactMissing` when
    more than a few of its evaluations were never computed (their job failed or did not run)."""
    from symexp.benchmarks.testset import load_or_compute_test_set, test_set_path

    path = test_set_path(spec.cache_dir, bench.key, spec.test_points_per_dim, tuple(spec.test_eval_seeds))
    if not path.exists():
        _, configs, pairs = _test_pairs(spec, bench)
        paths = _entry_paths(bench, spec.cache_dir, [configs[i] for i, _ in pairs], [s for _, s in pairs])
        missing = sum(not p.exists() for p in paths)
        if missing > max(1, MAX_MISSING_SHARE * len(paths)):
            raise ArtefactMissing(f"test set of {bench.key}: {missing} of {len(paths)} evaluations are not in the cache; "
                                  "they are computed by an earlier job (failed, cancelled or still running?)")
    return load_or_compute_test_set(bench, spec.test_points_per_dim, spec.test_eval_seeds, spec.cache_dir,
                                    n_jobs=1, log=log)


def _run_test_set(item: WorkItem, log: Log) -> dict[str, Any]:
    spec = item.spec
    test = require_test_set(spec, benchmark_for(spec), log)
    return {"assembled": bool(test.computed_here)}


def _run_random_chunk(item: WorkItem, log: Log) -> dict[str, Any]:
    from symexp.sampling import random_configurations

    spec = item.spec
    bench = benchmark_for(spec)
    idx = list(item.args)
    X = random_configurations(bench.space, max(idx) + 1, spec.sampling_seed)[idx]
    before = bench.n_trainings
    bench.evaluate_many(bench.space.from_array(X), spec.sampling_seed, n_jobs=1, on_error="nan")
    return {"trainings": bench.n_trainings - before}


def _run_bo(item: WorkItem, log: Log) -> dict[str, Any]:
    from filelock import Timeout

    from symexp.cluster.costs import BO_TIMING_SUFFIX
    from symexp.pipeline.training import load_or_run_bo
    from symexp.store.atomic import atomic_write_json

    spec = item.spec
    bench = benchmark_for(spec)
    settings = item.args[0] if item.args else bo_run_settings(spec, bench)
    path = bo_run_path(spec, bench.key, settings)
    existed = path.exists()
    w0, c0 = time.perf_counter(), _cpu_with_children()
    try:
        run, trainings, _ = load_or_run_bo(spec, bench, log, settings=settings, lock_timeout=0)
    except Timeout:
        raise RuntimeError(f"BO run {path.name} is being computed by another process; not waiting for it") from None
    if not existed:
        # Beside the run: how long it took, for the cost model of the next estimate.
        atomic_write_json(path.with_name(path.stem + BO_TIMING_SUFFIX),
                          {"benchmark": bench.key, "n_trials": int(settings.n_trials), "wall_s": time.perf_counter() - w0,
                           "cpu_s": _cpu_with_children() - c0, "host": socket.gethostname()})
    return {"trainings": trainings}


def _cpu_with_children() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run_pdp(item: WorkItem, log: Log) -> dict[str, Any]:
    from symexp.pipeline.training import pdp_training_sets

    spec = dataclasses.replace(item.spec, n_samples=(int(item.args[0]),))
    pdp_training_sets(spec, benchmark_for(spec), log, compute_bo=False)
    return {}


def training_set_for(spec: CellSpec, n: int, log: Log):
    """The training set of ``spec`` for one sample size ``n``, from cached artefacts only
    (never a BO run; :class:`ArtefactMissing` if one is not there). Returns ``(set, trainings)``."""
    from symexp.pipeline.training import pdp_training_sets, training_sets

    bench = benchmark_for(spec)
    one = dataclasses.replace(spec, n_samples=(int(n),), n_jobs=1)
    before = bench.n_trainings
    if spec.pdp is not None:
        sets, _ = pdp_training_sets(one, bench, log, compute_bo=False)
        return sets[n], bench.n_trainings - before
    test = require_test_set(one, bench, log)
    if spec.mode == "random":
        from symexp.sampling import random_configurations

        configs = bench.space.from_array(random_configurations(bench.space, int(n), spec.sampling_seed))
        paths = _entry_paths(bench, spec.cache_dir, configs, [spec.sampling_seed] * len(configs))
        missing = sum(not p.exists() for p in paths)
        if missing > max(1, MAX_MISSING_SHARE * len(paths)):
            raise ArtefactMissing(f"random sample of {bench.key} seed {spec.sampling_seed}: {missing} of {len(paths)} "
                                  "evaluations are not in the cache; they are computed by an earlier job")
    sets, _ = training_sets(one, bench, test, log, compute_bo=False)
    return sets[n], bench.n_trainings - before


def _write_records(item: WorkItem, keys: Sequence[RecordKey], compute: Callable[[RecordKey, Any], dict[str, Any]],
                   log: Log) -> dict[str, Any]:
    """Claim each record, build its training set, compute and write it; skip what exists or
    what another live job holds."""
    from symexp.pipeline.recording import ELSEWHERE, EXISTS, claim_record, package_versions, write_record

    spec = item.spec
    store = RecordStore(spec.store_dir)
    out = {"written": 0, "skipped": 0, "claimed_elsewhere": 0, "failed_records": []}
    versions = None
    sets: dict[int, tuple[Any, int, float, float]] = {}
    for key in keys:
        claim = claim_record(store, key, spec.keep_failed, log)
        if claim is EXISTS:
            out["skipped"] += 1
            continue
        if claim is ELSEWHERE:
            out["claimed_elsewhere"] += 1
            continue
        try:
            if key.n_samples not in sets:
                w0, c0 = time.perf_counter(), time.process_time()
                ts, trainings = training_set_for(spec, key.n_samples, log)
                sets[key.n_samples] = (ts, trainings, time.perf_counter() - w0, time.process_time() - c0)
            ts, trainings, wall, cpu = sets[key.n_samples]
            versions = versions or package_versions()
            fields = compute(key, ts)
            rec = write_record(store, key, spec, ts, fields, versions, trainings,
                               {"training_set": {"wall_s": wall, "cpu_s": cpu}}, benchmark_for(spec).split_info)
            out["written"] += 1
            if rec.get("status") != "ok":
                out["failed_records"].append(f"{key.method} n={key.n_samples} sr_seed={key.sr_seed}: {rec.get('error')}")
        finally:
            claim.release()
    return out


def _run_baselines(item: WorkItem, log: Log) -> dict[str, Any]:
    from symexp.pipeline.recording import Stopwatch, baseline_fields

    def compute(key: RecordKey, ts) -> dict[str, Any]:
        timings: dict[str, dict[str, float]] = {}
        with Stopwatch(timings, key.method):
            fields = baseline_fields(item.spec, key.method, ts)
        return {**fields, "timings": timings}

    return _write_records(item, list(item.args), compute, log)


def _run_sr_fit(item: WorkItem, log: Log) -> dict[str, Any]:
    from symexp.pipeline.fit import fit_symbolic

    spec = item.spec

    def compute(key: RecordKey, ts) -> dict[str, Any]:
        fields = fit_symbolic(spec.sr, key.sr_seed, key.parsimony, ts.names, ts.log_features, ts.X, ts.y,
                              ts.X_test, ts.y_test)
        status = (f"test RMSE {fields['test_rmse']:.4f}  ops {fields['complexity']}  {fields['formula']}"
                  if fields["status"] == "ok" else f"FAILED: {fields['error']}")
        log(f"n={key.n_samples} sr_seed={key.sr_seed} p={key.parsimony:g}: {status} "
            f"({fields['timings']['sr_fit']['cpu_s']:.0f} CPU-s)")
        return fields

    return _write_records(item, list(item.args), compute, log)


_EXECUTORS: dict[str, Callable[[WorkItem, Log], dict[str, Any]]] = {
    "test_chunk": _run_test_chunk, "test_set": _run_test_set, "random_chunk": _run_random_chunk,
    "bo_run": _run_bo, "pdp": _run_pdp, "baselines": _run_baselines, "sr_fit": _run_sr_fit,
}


# -- a job ----------------------------------------------------------------------------------------

@dataclass
class JobReport:
    """What a job did: item outcomes by state, and per cell its final state and reason."""

    items: dict[str, int] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    busy_s: float = 0.0  # sum of the items' wall seconds: the workers' busy time
    n_workers: int = 1

    @property
    def utilisation(self) -> float:
        """Busy worker time over workers x wall time of the job (1.0: no worker ever idle)."""
        return self.busy_s / (self.n_workers * self.wall_s) if self.wall_s > 0 else 1.0

    @property
    def ok(self) -> bool:
        return not self.failures


def raise_open_file_limit() -> None:
    """A job holds one lock per cell: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
        except (ValueError, OSError):
            pass


def run_job(items: Sequence[WorkItem], cells: Sequence[CellWork], n_workers: int, log: Log = print,
            label: str = "job") -> JobReport:
    """Run ``items`` on ``n_workers`` processes in the order of :mod:`symexp.cluster.schedule`.

    ``cells``: the cells this job answers for: it holds their presence lock (the status command
    shows them *running*) and writes their ``job_status.json``: ``running`` at the start, then
    ``done`` or ``failed`` with the first reason (an item of theirs failed or was skipped).
    Dependencies on items not in ``items`` count as done (an earlier job computed them).
    Returns the :class:`JobReport`; raises ``KeyboardInterrupt`` after marking the cells
    ``interrupted`` when stopped.
    """
    from symexp.cluster.schedule import Task, run_tasks
    from symexp.store.claims import Claim
    from symexp.store.jobstatus import write_job_status

    t0 = time.perf_counter()
    raise_open_file_limit()
    presences = []
    for cell in cells:
        store = RecordStore(cell.spec.store_dir)
        presence = Claim(store.claim_path(f"cell-{cell.cell_id}"), exclusive=False)
        for _ in range(100):  # refused only during a status probe, which lasts microseconds
            if presence.try_acquire():
                break
            time.sleep(0.01)
        presences.append(presence)
    with_status = [c for c in cells if c.job_dir is not None]
    for cell in with_status:
        write_job_status(cell.job_dir, "running", layout=label)
    tasks = [Task(id=i.id, seconds=i.seconds, deps=i.deps, payload=i, kind=i.kind) for i in items]
    kinds = defaultdict(int)
    for i in items:
        kinds[i.kind] += 1
    log(f"{label}: {len(items)} work items ({', '.join(f'{v} {k}' for k, v in kinds.items())}) for {len(cells)} cells "
        f"on {n_workers} worker(s)")
    report = JobReport(n_workers=n_workers)
    done = [0]

    def on_done(task: Task, outcome) -> None:
        done[0] += 1
        report.busy_s += outcome.wall_s
        report.items[outcome.state] = report.items.get(outcome.state, 0) + 1
        if outcome.state != "ok":
            report.failures.append(f"{task.id}: {outcome.state}: {outcome.error}")
            log(f"  [{done[0]}/{len(tasks)}] {task.id} {outcome.state.upper()}: {outcome.error}")
        elif task.kind in ("bo_run", "test_set") or done[0] % 50 == 0 or done[0] == len(tasks):
            log(f"  [{done[0]}/{len(tasks)}] {task.id} done in {outcome.wall_s:.0f} s "
                f"({time.perf_counter() - t0:.0f} s into the job)")

    try:
        outcomes = run_tasks(tasks, n_workers, execute_item, on_done=on_done)
    except KeyboardInterrupt as exc:
        for cell in with_status:
            write_job_status(cell.job_dir, "interrupted", error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        for p in presences:
            p.release()
        raise
    by_cell: dict[str, list[str]] = defaultdict(list)
    for i in items:
        for c in i.cells:
            by_cell[c].append(i.id)
    for cell in cells:
        mine = by_cell.get(cell.cell_id, [])
        bad = [f"{iid}: {outcomes[iid].error}" for iid in mine if outcomes[iid].state != "ok"]
        results = [outcomes[iid].result for iid in mine if outcomes[iid].state == "ok"]
        failed_records = [f for r in results for f in (r or {}).get("failed_records", [])]
        state = "failed" if bad else "done"
        report.cells[cell.cell_id] = state
        if cell.job_dir is None:
            continue
        summary = {k: sum((r or {}).get(k, 0) for r in results) for k in ("written", "skipped", "claimed_elsewhere")}
        if bad:
            write_job_status(cell.job_dir, "failed", error=bad[0], n_failed_items=len(bad), **summary,
                             failed_records=failed_records)
        else:
            write_job_status(cell.job_dir, "done", failed=len(failed_records), **summary, failed_records=failed_records)
    for p in presences:
        p.release()
    report.wall_s = time.perf_counter() - t0
    log(f"{label}: finished in {report.wall_s:.0f} s: " + ", ".join(f"{v} {k}" for k, v in report.items.items())
        + f"; workers busy {100 * report.utilisation:.0f} % of the time")
    return report
