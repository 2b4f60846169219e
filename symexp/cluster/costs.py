"""What work costs: the calibration constants, in one place, and what the cache and store measured.

Every constant below is CPU seconds of one core, measured with ``bench/calibrate_costs.py``
(``time.process_time`` of the working process, so machine load changes it little). The measuring
machine: 2 cores (x86-64, shared with other jobs: load 3-8 during the runs, so *wall* times there
were 1.5-2.5x the CPU times printed here); a cluster core of the same generation is assumed equal.

:class:`CostModel` answers "how many CPU seconds will this take": it prefers what the local
cache and store measured (evaluation ``fit_seconds`` per benchmark, BO run timings, SR fit
``cpu_s`` per training-set size) and falls back to the constants. ``sources`` says which it used.
Measured values from a loaded machine are wall-clock and therefore pessimistic (see the README).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# -- evaluations -------------------------------------------------------------------------------
# Mean CPU seconds of one whole evaluation (data, bootstrap, fit, predict, cache write) over the
# paper's 10 x 10 test grid of the model's two hyperparameters: 10 grid points chosen as a Latin
# square (each grid value of both axes once, so e.g. an MLP's batch size is covered from 4 to
# 256, where one evaluation differs ~50x), seed 0 (`calibrate_costs.py evals`).
EVAL_CPU_S: dict[tuple[str, str], float] = {
    ("lr", "blood_transfusion"): 0.043, ("lr", "vehicle"): 0.265, ("lr", "australian"): 0.081, ("lr", "car"): 0.586,
    ("lr", "phoneme"): 0.286, ("lr", "segment"): 1.253, ("lr", "credit_g"): 0.131, ("lr", "kc1"): 0.190,
    ("svm", "blood_transfusion"): 0.017, ("svm", "vehicle"): 0.053, ("svm", "australian"): 0.031, ("svm", "car"): 0.100,
    ("svm", "phoneme"): 0.526, ("svm", "segment"): 0.170, ("svm", "credit_g"): 0.045, ("svm", "kc1"): 0.072,
    ("rf", "blood_transfusion"): 0.639, ("rf", "vehicle"): 0.882, ("rf", "australian"): 0.710, ("rf", "car"): 0.951,
    ("rf", "phoneme"): 3.352, ("rf", "segment"): 1.974, ("rf", "credit_g"): 1.026, ("rf", "kc1"): 1.276,
    ("xgb", "blood_transfusion"): 0.520, ("xgb", "vehicle"): 3.444, ("xgb", "australian"): 1.065, ("xgb", "car"): 4.776,
    ("xgb", "phoneme"): 4.533, ("xgb", "segment"): 9.587, ("xgb", "credit_g"): 2.957, ("xgb", "kc1"): 3.413,
    ("nn", "blood_transfusion"): 3.617, ("nn", "vehicle"): 2.198, ("nn", "australian"): 0.973, ("nn", "car"): 2.111,
    ("nn", "phoneme"): 18.836, ("nn", "segment"): 3.916, ("nn", "credit_g"): 1.242, ("nn", "kc1"): 6.318,
}
# The five-hyperparameter MLP of the pdp preset: 10 uniform random configurations of its space.
EVAL_CPU_S_ALL_HPS: dict[tuple[str, str], float] = {("nn", "blood_transfusion"): 9.040}
# Fallback for a pair not measured: seconds at blood_transfusion (748 rows) scaled by rows.
DATASET_ROWS = {
    "blood_transfusion": 748, "vehicle": 846, "australian": 690, "car": 1728, "phoneme": 5404,
    "segment": 2310, "credit_g": 1000, "kc1": 2109, "breast_cancer": 569, "synthetic": 748,
}
SYNTHETIC_EVAL_CPU_S = 1e-4
# BO samples where it expects good configurations, not uniformly: mean seconds of a BO run's
# evaluations over the grid mean. nn: on blood_transfusion BO prefers small batch sizes (8-9 in
# 39 of its first 95 trials), the slow end: its evaluations' mean fit time was 2.7x the grid's
# (36.3 s vs 13.6 s wall, both measured by `calibrate_costs.py bo` / `evals` under the same load).
# lr, svm: the paper subset's runs gave 0.9-3.9x, but grid and BO were measured hours apart under
# different loads; their evaluations are a small part of a BO run (SMAC: 1.1 s per trial), so 1.
BO_EVAL_FACTOR: dict[str, float] = {"nn": 2.7}

# -- SMAC --------------------------------------------------------------------------------------
# SMAC's own CPU seconds per trial (GP fit, acquisition maximisation, bookkeeping; in the child
# process), beside the evaluations: one 200-trial run with the paper's settings on
# lr/blood_transfusion (evaluations 0.043 CPU-s each), CPU of the process and its children
# 229 s (`calibrate_costs.py bo`). The paper subset's BO cells measured 5.4 s per trial of *wall*
# time on the same machine under a load of 7-9 on 2 cores (`calibrate_costs.py cache`).
SMAC_S_PER_TRIAL = 1.10

# -- symbolic regression -------------------------------------------------------------------------
# CPU seconds of one gplearn fit with population 5000 x 20 generations (the paper's settings),
# incl. the SymPy conversion: SR_FIT_BASE_S + SR_FIT_PER_POINT_S * training points, with the fast
# gplearn fit (symexp/symbolic/fast_gplearn.py, the default; docs/fast_gplearn.md). Measured by
# `bench/bench_sr_fast.py` on 2026-12-08 (lr on blood_transfusion, random training sets, SR seed
# 0, load 9-12 on 2 cores): fast 6.89 / 6.52 / 6.95 CPU-s at 20 / 140 / 400 points, gplearn's own
# fit 35.8 / 39.8 / 39.0 in the same run (5.2-6.1x); least squares 6.71 + 0.0004 * points. The
# cost is nearly flat in the points: what remains is gplearn's random draws and per-program
# bookkeeping, and each distinct program is evaluated once. Before the fast fit (gplearn's own,
# `SYMEXP_SR_REFERENCE=1`): 44.0 + 0.01 * points, from the paper subset's records (40.7-48.1 CPU-s
# at 140 points) and `calibrate_costs.py sr`. Other population sizes / generation counts scale it
# by their product.
SR_FIT_BASE_S = 6.7
SR_FIT_PER_POINT_S = 0.0004
SR_REFERENCE_WORK = 5000 * 20
FAST_GPLEARN = "fast"  # versions.gplearn_fit of the records whose SR timings the model learns from

# -- small steps --------------------------------------------------------------------------------
BASELINES_S = 2.0        # GP mean + linear regression on a cell's training sets
PDP_ARTEFACT_S = 20.0    # fANOVA on the GP + partial dependence for one n
ITEM_OVERHEAD_S = 1.0    # per work item: reading its inputs (test set, BO run, GP labels)
TASK_STARTUP_S = 10.0    # per SLURM task: interpreter, imports, planning (measured on the local SLURM)

MIN_MEASURED_EVALS = 20  # fewer cached evaluations of a benchmark: use the constants


@dataclass
class CostModel:
    """Expected CPU seconds of the pieces of work, from measurements where there are any.

    ``cache_dir``: the evaluation cache / BO runs to learn from (``None``: constants only);
    ``records``: SR records (dicts with ``timings``, ``n_train_points``, ``identity``) to learn
    per-fit seconds from. ``prefer_measured=False`` ignores both (a prediction from the
    calibration alone, e.g. to check it against a measured run).
    """

    cache_dir: Path | None = None
    records: Iterable[dict[str, Any]] | None = None
    prefer_measured: bool = True
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._eval: dict[str, float] = {}
        self._sr = _sr_samples(self.records) if (self.records is not None and self.prefer_measured) else {}
        self._bo: dict[str, list[float]] | None = None

    # -- evaluations -------------------------------------------------------------------------
    def eval_seconds(self, model: str, dataset: str, bench_key: str | None = None, all_hps: bool = False) -> float:
        """CPU seconds of one evaluation of (model, dataset) averaged over the space."""
        if bench_key and self.prefer_measured and self.cache_dir is not None:
            if bench_key not in self._eval:
                self._eval[bench_key] = measured_eval_seconds(Path(self.cache_dir) / "evaluations", bench_key)
            measured = self._eval[bench_key]
            if measured is not None:
                self.sources[f"evaluations {model}/{dataset}"] = "measured in the cache (fit wall seconds)"
                return measured
        table = EVAL_CPU_S_ALL_HPS if all_hps else EVAL_CPU_S
        if model == "synthetic":
            return SYNTHETIC_EVAL_CPU_S
        if (model, dataset) in table:
            self.sources.setdefault(f"evaluations {model}/{dataset}", "calibration")
            return table[(model, dataset)]
        base = table.get((model, "blood_transfusion")) or EVAL_CPU_S.get((model, "blood_transfusion"), 1.0)
        self.sources.setdefault(f"evaluations {model}/{dataset}", "calibration, scaled by rows")
        return base * DATASET_ROWS.get(dataset, 748) / 748

    def bo_eval_seconds(self, model: str, dataset: str, bench_key: str | None = None, all_hps: bool = False) -> float:
        return self.eval_seconds(model, dataset, bench_key, all_hps) * BO_EVAL_FACTOR.get(model, 1.0)

    def bo_run_seconds(self, model: str, dataset: str, n_trials: int, bench_key: str | None = None,
                       all_hps: bool = False) -> float:
        """Seconds of one BO run of ``n_trials`` (SMAC plus its evaluations, one core)."""
        if bench_key and self.prefer_measured and self.cache_dir is not None:
            runs = self._measured_bo().get(bench_key)
            if runs:
                self.sources[f"BO runs {model}/{dataset}"] = f"measured ({len(runs)} run(s))"
                return statistics.fmean(runs) * n_trials / 200
        return n_trials * (SMAC_S_PER_TRIAL + self.bo_eval_seconds(model, dataset, bench_key, all_hps))

    def _measured_bo(self) -> dict[str, list[float]]:
        if self._bo is None:
            self._bo = measured_bo_seconds(Path(self.cache_dir))
        return self._bo

    # -- symbolic regression -----------------------------------------------------------------
    def sr_fit_seconds(self, population: int, generations: int, points: int) -> float:
        """CPU seconds of one SR fit on ``points`` training points."""
        work = population * generations / SR_REFERENCE_WORK
        samples = self._sr.get((population, generations))
        if samples:
            self.sources["SR fits"] = f"measured ({sum(len(v) for v in samples.values())} records)"
            return _interpolate(samples, points)
        self.sources.setdefault("SR fits", "calibration")
        return (SR_FIT_BASE_S + SR_FIT_PER_POINT_S * points) * work


def _interpolate(samples: dict[int, list[float]], points: int) -> float:
    """Median CPU seconds at the measured sizes; between and beyond them along the calibrated
    slope (one measured size) or the measured line (two or more)."""
    med = {p: statistics.median(v) for p, v in samples.items()}
    if points in med:
        return med[points]
    sizes = sorted(med)
    if len(sizes) == 1:
        p0 = sizes[0]
        return max(1.0, med[p0] * (SR_FIT_BASE_S + SR_FIT_PER_POINT_S * points) / (SR_FIT_BASE_S + SR_FIT_PER_POINT_S * p0))
    lo = max((p for p in sizes if p < points), default=sizes[0])
    hi = min((p for p in sizes if p > points), default=sizes[-1])
    if lo == hi:
        lo, hi = (sizes[0], sizes[1]) if points < sizes[0] else (sizes[-2], sizes[-1])
    slope = (med[hi] - med[lo]) / (hi - lo)
    return max(1.0, med[lo] + slope * (points - lo))


def _sr_samples(records: Iterable[dict[str, Any]]) -> dict[tuple[int, int], dict[int, list[float]]]:
    """SR fit CPU seconds by (population, generations) and training points, from ok SR records
    fitted by the fast gplearn fit (``versions.gplearn_fit == "fast"``; older records and
    ``SYMEXP_SR_REFERENCE=1`` ones timed gplearn's own fit, several times slower)."""
    out: dict[tuple[int, int], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if not str(r.get("method", "")).startswith("sr_") or r.get("status") != "ok":
            continue
        versions = r.get("versions")
        if not isinstance(versions, dict) or versions.get("gplearn_fit") != FAST_GPLEARN:
            continue
        sr = (r.get("identity") or {}).get("sr") or {}
        cpu = ((r.get("timings") or {}).get("sr_fit") or {}).get("cpu_s")
        points = r.get("n_train_points")
        if cpu is None or points is None or "population_size" not in sr or sr.get("engine", "gplearn") != "gplearn":
            continue
        out[(int(sr["population_size"]), int(sr["generations"]))][int(points)].append(float(cpu))
    return out


def measured_eval_seconds(eval_root: Path, bench_key: str, limit: int = 2000) -> float | None:
    """Mean ``fit_seconds`` of up to ``limit`` cached evaluations of the benchmark, or ``None``
    when there are fewer than :data:`MIN_MEASURED_EVALS`."""
    root = Path(eval_root).joinpath(*bench_key.split("/"))
    if not root.is_dir():
        return None
    values = []
    for path in root.rglob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            values.append(float(json.loads(path.read_text())["fit_seconds"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if len(values) >= limit:
            break
    return statistics.fmean(values) if len(values) >= MIN_MEASURED_EVALS else None


BO_TIMING_SUFFIX = ".timing.json"


def measured_bo_seconds(cache_dir: Path) -> dict[str, list[float]]:
    """Wall seconds of BO runs by benchmark key, from the timing files the work items leave
    beside the runs they computed (``<run>.timing.json``: wall_s, cpu_s, n_trials, benchmark)."""
    out: dict[str, list[float]] = defaultdict(list)
    root = Path(cache_dir) / "bo"
    if not root.is_dir():
        return out
    for path in root.rglob(f"*{BO_TIMING_SUFFIX}"):
        try:
            t = json.loads(path.read_text())
            out[str(t["benchmark"])].append(float(t["wall_s"]) * 200 / int(t["n_trials"]))
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
            continue
    return out


def measured_sr_fits(store_dir: Path) -> dict[int, list[float]]:
    """SR fit CPU seconds by training points over every ok gplearn record of a store at the
    paper's settings (for the calibration script)."""
    from symexp.store.records import RecordStore

    records = []
    for path in RecordStore(store_dir).iter_paths():
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return dict(_sr_samples(records).get((5000, 20), {}))


def measured_smac_seconds_per_trial(store_dir: Path, cache_dir: Path) -> dict[str, float]:
    """Per benchmark: (BO run wall - its evaluations' fit seconds) / trials, from the records of
    cells that ran their BO run themselves (``sampling`` timing, ``n_trainings`` >= trials)."""
    from symexp.store.records import RecordStore

    out: dict[str, float] = {}
    for path in RecordStore(store_dir).iter_paths():
        try:
            r = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if r.get("mode") not in ("bo", "bo_gp") or "bo_run" not in (r.get("artefacts") or {}):
            continue
        wall = ((r.get("timings") or {}).get("sampling") or {}).get("wall_s")
        run_path = Path(cache_dir) / r["artefacts"]["bo_run"]
        key = r["identity"]["benchmark"]["key"]
        if wall is None or key in out or not run_path.is_file() or (r.get("n_trainings") or 0) < 100:
            continue
        run = json.loads(run_path.read_text())
        evals = _bo_eval_fit_seconds(Path(cache_dir), r["identity"]["benchmark"], run)
        if evals is not None:
            out[key] = (wall - evals) / len(run["X"])
    return out


def _bo_eval_fit_seconds(cache_dir: Path, bench_identity: dict, run: dict) -> float | None:
    from symexp.benchmarks import make_benchmark
    from symexp.benchmarks.cache import entry_id

    try:
        bench = make_benchmark(bench_identity["model"], bench_identity["dataset"], bench_identity["protocol"],
                               hyperparameters=bench_identity["hyperparameters"])
    except Exception:  # noqa: BLE001 - data not available here: no measurement
        return None
    total = 0.0
    names = bench.space.names
    for x, seed in zip(run["X"], run["eval_seeds"]):
        config = bench.space.from_array([x])[0] if hasattr(bench.space, "from_array") else dict(zip(names, x))
        full = bench.full_config(config)
        eid = entry_id(bench_identity["key"], bench.protocol, bench.fidelity, full, int(seed))
        path = cache_dir / "evaluations" / Path(*bench_identity["key"].split("/")) / eid[:2] / f"{eid}.json"
        try:
            total += float(json.loads(path.read_text())["fit_seconds"])
        except (OSError, ValueError, KeyError):
            return None
    return total
