"""How the model seed shapes a benchmark's noise (not a test): HPOBench's seeding vs a seed per evaluation.

Under ``protocol=hpobench`` symexp seeds the model as HPOBench does where HPOBench is
deterministic: ``random_state`` = the evaluation's seed (one value for every configuration of a
BO run or random sample; XGBoost 0). Before, every evaluation drew its own model seed. Both draw
the bootstrap rows per evaluation. For each model on one dataset this script evaluates a k x k
grid of the paper's hyperparameter pair under several seeds with both schemes and prints:

* ``noise``: the mean over grid points of the standard deviation over seeds (cost units);
* ``common``: the share of a seed's residuals (cost minus the mean over seeds) that is common to
  all grid points of that seed, i.e. the variance of a seed's mean residual over the mean residual
  variance (about 1/k**2 when every evaluation's noise is its own, up to 1 when a seed shifts the
  whole surface);
* ``rank``: the mean Spearman correlation between a single seed's surface (what one BO run or
  random sample sees) and the mean surface (the true cost of the test set).

    .venv/bin/python bench/bench_seeding.py [--models rf,nn] [--dataset blood_transfusion] [--grid 5] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]

from symexp.benchmarks import make_benchmark
from symexp.benchmarks.objective import MLBenchmark


class PerEvaluationSeed(MLBenchmark):
    """The previous scheme: every evaluation draws its own model seed (a different benchmark key)."""

    def _model_seed(self, seed: int, rng: np.random.Generator) -> int:
        return int(rng.integers(0, 2**31 - 1))


def surfaces(bench, grid: np.ndarray, seeds: list[int], n_jobs: int) -> np.ndarray:
    """Costs (n_seeds, n_points)."""
    configs = bench.space.from_array(grid)
    out = [bench.evaluate_many(configs, s, n_jobs=n_jobs, on_error="nan") for s in seeds]
    return np.asarray(out, dtype=float)


def metrics(C: np.ndarray) -> tuple[float, float, float]:
    ok = np.isfinite(C).all(axis=0)
    C = C[:, ok]
    mean = C.mean(axis=0)
    resid = C - mean
    noise = float(C.std(axis=0, ddof=1).mean())
    common = float(resid.mean(axis=1).var() / max(resid.var(axis=1).mean(), 1e-300))
    rank = float(np.mean([spearmanr(row, mean).statistic for row in C]))
    return noise, common, rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rf,nn,xgb,lr")
    parser.add_argument("--dataset", default="blood_transfusion")
    parser.add_argument("--grid", type=int, default=5, help="points per hyperparameter")
    parser.add_argument("--seeds", type=int, default=3, help="evaluation seeds 0..k-1")
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    cache = Path(tempfile.mkdtemp(prefix="bench-seeding-"))
    print(f"{'model':<6} {'scheme':<22} {'noise':>8} {'common':>8} {'rank':>6} {'seconds':>8}")
    for model in args.models.split(","):
        ours = make_benchmark(model, args.dataset, "hpobench", cache_dir=cache)
        other = PerEvaluationSeed(model=model, dataset=args.dataset, protocol="hpobench",
                                  hyperparameters=ours.space.names, fidelity=ours.fidelity,
                                  data_dir=ours.data_dir, cache_dir=cache)
        other.key += "/per-evaluation-seed"  # its own cache entries
        other._cache.bench_key = other.key
        grid = ours.space.test_grid(args.grid)
        for name, bench in (("hpobench (model=seed)", ours), ("per-evaluation seed", other)):
            t0 = time.perf_counter()
            noise, common, rank = metrics(surfaces(bench, grid, seeds, args.n_jobs))
            print(f"{model:<6} {name:<22} {noise:8.4f} {common:8.3f} {rank:6.3f} {time.perf_counter() - t0:8.1f}",
                  flush=True)
    print(f"(grid {args.grid}x{args.grid} of the paper's pair on {args.dataset}, seeds {seeds}; "
          f"'common' is about {1 / args.grid**2:.2f} for independent noise)")


if __name__ == "__main__":
    main()
