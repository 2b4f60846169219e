"""Cost of an experiment before launching it: jobs and CPU-hours per stage.

Per-evaluation seconds come from the evaluation cache when it has entries for the benchmark
(mean ``fit_seconds`` of up to 2,000 entries); otherwise from a prior measured on a 2-core
machine at the benchmark's default configuration (experiments/bench_evaluation.py on
blood-transfusion), scaled by the dataset's row count. Per-fit SR seconds come from existing
records of the same SR size when there are any; otherwise from a prior (55 CPU-s for
population 5000 x 20 generations on 140 points, experiments/bench_sr_overhead.py), scaled
linearly in population x generations x points. SMAC's own overhead: 2.8 s per trial (a
200-trial run took 555 s on the test function). Everything shared between cells (test sets,
BO runs) is counted once, as the pipeline computes it once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Seconds of one evaluation at the default configuration on blood-transfusion (748 rows).
PRIOR_EVAL_SECONDS = {"lr": 0.14, "svm": 0.04, "rf": 1.2, "xgb": 0.86, "nn": 0.92, "synthetic": 1e-5}
PRIOR_ROWS = 748
DATASET_ROWS = {
    "blood_transfusion": 748, "vehicle": 846, "australian": 690, "car": 1728, "phoneme": 5404,
    "segment": 2310, "credit_g": 1000, "kc1": 2109, "breast_cancer": 569, "synthetic": 748,
}
PRIOR_SR_CPU_S = 55.0  # population 5000, 20 generations, 140 points
SMAC_SECONDS_PER_TRIAL = 2.8
MAX_CACHE_SAMPLES = 2000


@dataclass
class Estimate:
    n_jobs: int
    cpu_hours: dict[str, float]
    sources: dict[str, str] = field(default_factory=dict)
    longest_job_cpu_s: float = 0.0

    @property
    def total_cpu_hours(self) -> float:
        return sum(self.cpu_hours.values())

    def job_minutes(self, cpus_per_job: int, margin: float = 1.5) -> int:
        """A SLURM time limit for the longest job: its CPU time spread over its CPUs, with margin."""
        return max(10, int(math.ceil(self.longest_job_cpu_s / max(1, cpus_per_job) * margin / 60)))

    def format(self, cpus_per_job: int | None = None) -> str:
        lines = [f"{self.n_jobs} jobs; expected CPU-hours per stage:"]
        for stage, h in self.cpu_hours.items():
            lines.append(f"  {stage:<22} {h:10.1f}")
        lines.append(f"  {'total':<22} {self.total_cpu_hours:10.1f}")
        if cpus_per_job:
            lines.append(f"longest job: {self.longest_job_cpu_s / 3600:.2f} CPU-h -> about "
                         f"{self.job_minutes(cpus_per_job)} min on {cpus_per_job} CPUs (x1.5 margin)")
        evals = [k for k in self.sources if k.startswith("eval ")]
        measured = [k[5:] for k in evals if self.sources[k] != "prior"]
        lines.append(f"per-evaluation seconds: measured in the cache for {len(measured)} of {len(evals)} benchmarks"
                     + (f" ({', '.join(sorted(measured))})" if measured else "") + ", prior for the rest")
        lines.append(f"per-fit SR seconds: {self.sources.get('SR fit', 'prior')}")
        return "\n".join(lines)


def measured_eval_seconds(cache_dir: Path, model: str, dataset: str) -> float | None:
    """Mean fit seconds of cached evaluations of (model, dataset), or None."""
    root = Path(cache_dir) / "evaluations" / model / dataset
    if not root.is_dir():
        return None
    total, count = 0.0, 0
    for path in root.rglob("*.json"):
        if path.name.startswith(".tmp-"):
            continue
        try:
            total += float(json.loads(path.read_text())["fit_seconds"])
            count += 1
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if count >= MAX_CACHE_SAMPLES:
            break
    return total / count if count else None


def eval_seconds(cache_dir: Path, model: str, dataset: str, sources: dict[str, str]) -> float:
    measured = measured_eval_seconds(cache_dir, model, dataset)
    if measured is not None:
        sources[f"eval {model}/{dataset}"] = "measured in the cache"
        return measured
    sources[f"eval {model}/{dataset}"] = "prior"
    return PRIOR_EVAL_SECONDS.get(model, 1.0) * DATASET_ROWS.get(dataset, PRIOR_ROWS) / PRIOR_ROWS


def sr_fit_cpu_seconds(population: int, generations: int, n_points: int, measured: pd.DataFrame | None) -> float:
    """CPU seconds of one SR fit; measured per training point if records exist, else the prior."""
    if measured is not None and not measured.empty:
        per_point = (measured["cpu_s"] / measured["n_train_points"]).median()
        return float(per_point * n_points)
    return PRIOR_SR_CPU_S * (population / 5000) * (generations / 20) * (n_points / 140)


def measured_sr_costs(records: pd.DataFrame) -> pd.DataFrame | None:
    """SR fit CPU seconds and training points of the ok SR records of a view (same settings by identity)."""
    if records is None or records.empty:
        return None
    sr = records[records["method"].astype(str).str.startswith("sr_") & (records["status"] == "ok")]
    if sr.empty:
        return None
    cpu = sr["timings"].map(lambda t: (t or {}).get("sr_fit", {}).get("cpu_s"))
    out = pd.DataFrame({"cpu_s": cpu, "n_train_points": sr["n_train_points"]}).dropna()
    return out if not out.empty else None


def estimate(specs: Sequence, cache_dir: Path, records: pd.DataFrame | None = None) -> Estimate:
    """Jobs and CPU-hours per stage for the cells ``specs`` (symexp.pipeline.CellSpec)."""
    sources: dict[str, str] = {}
    hours = {"test sets": 0.0, "BO runs (evaluations)": 0.0, "BO runs (SMAC)": 0.0,
             "random samples": 0.0, "symbolic regression": 0.0}
    seen_tests, seen_bo = set(), set()
    measured_sr = measured_sr_costs(records) if records is not None else None
    if measured_sr is not None:
        sources["SR fit"] = f"measured ({len(measured_sr)} records)"
    else:
        sources["SR fit"] = "prior"
    longest = 0.0
    for s in specs:
        ev = eval_seconds(cache_dir, s.model, s.dataset, sources)
        job = 0.0
        test_key = (s.model, s.dataset, s.protocol, s.hyperparameters)
        if s.pdp is None and test_key not in seen_tests:
            seen_tests.add(test_key)
            n_grid = s.test_points_per_dim ** len(s.hyperparameters or (0, 0))
            cost = n_grid * len(s.test_eval_seeds) * ev
            hours["test sets"] += cost / 3600
            job += cost
        if s.mode in ("bo", "bo_gp"):
            bo_key = (s.model, s.dataset, s.protocol, s.hyperparameters, s.sampling_seed)
            if bo_key not in seen_bo:
                seen_bo.add(bo_key)
                trials = s.bo.n_trials + (sum(s.bo.separate_sizes(len(s.hyperparameters or (0, 0))))
                                          if s.bo.variant == "separate" else 0)
                hours["BO runs (evaluations)"] += trials * ev / 3600
                hours["BO runs (SMAC)"] += trials * SMAC_SECONDS_PER_TRIAL / 3600
                job += trials * (ev + SMAC_SECONDS_PER_TRIAL)
        else:
            cost = max(s.n_samples) * ev
            hours["random samples"] += cost / 3600
            job += cost
        fits = len(s.sr_seeds) * len(s.parsimony)
        for n in s.n_samples:
            points = s.bo_gp_points if s.mode == "bo_gp" else n
            cost = fits * sr_fit_cpu_seconds(s.sr.population_size, s.sr.generations, points, measured_sr)
            hours["symbolic regression"] += cost / 3600
            job += cost
        longest = max(longest, job)
    return Estimate(n_jobs=len(specs), cpu_hours=hours, sources=sources, longest_job_cpu_s=longest)
