"""Pipeline benchmarks (not a test): prints counts and ratios.

1. Trainings per cell: a fresh cell trains exactly the unique configurations it needs
   (test grid x evaluation seeds + its own samples); a second cell of the same benchmark
   trains 0 test-set configurations.
2. SR stage speed-up: the same cell's SR fits with n_jobs=2 vs n_jobs=1 (target >= 1.7x on
   2 cores).

    .venv/bin/python bench/bench_pipeline.py [--population 2000] [--generations 10]

The harness overhead of one SR fit against plain gplearn is measured by bench_sr_overhead.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path


from symexp.pipeline import CellSpec, run_cell
from symexp.sampling import BOSettings
from symexp.symbolic import SRSettings

FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs")


def spec(tmp: Path, mode: str, n_jobs: int, args: argparse.Namespace, tag: str) -> CellSpec:
    sr = SRSettings(population_size=args.population, generations=args.generations, parsimony_coefficient=1e-4,
                    function_set=FUNCTIONS, time_limit_s=None)
    bo = BOSettings(n_trials=40, snapshot_sizes=(40,))
    return CellSpec(
        experiment=f"bench-{tag}", model=args.model, dataset=args.dataset, protocol="hpobench", mode=mode,
        sampling_seed=0, n_samples=(40,), sr_seeds=(0, 3), parsimony=(1e-4, 1e-3), sr=sr, bo=bo,
        test_points_per_dim=10, test_eval_seeds=(0, 1, 2, 3, 4), bo_gp_points=400,
        store_dir=tmp / "store", cache_dir=tmp / "cache", workdir=tmp / "work", n_jobs=n_jobs,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="svm")
    parser.add_argument("--dataset", default="breast_cancer")
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--generations", type=int, default=10)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when redirected to a file
    quiet = lambda _m: None  # noqa: E731

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print("== trainings per cell ==")
        first = run_cell(dataclasses.replace(spec(tmp, "random", 2, args, "t"), sr_seeds=(0,), parsimony=(1e-4,)), log=quiet)
        expected = 10 * 10 * 5 + 40
        print(f"random cell, fresh cache: {first.n_trainings} trainings; unique configurations needed: {expected} "
              f"(ratio {first.n_trainings / expected:.3f})")
        second = run_cell(dataclasses.replace(spec(tmp, "bo", 2, args, "t"), sr_seeds=(0,), parsimony=(1e-4,)), log=quiet)
        print(f"bo cell, same benchmark: {second.n_trainings} trainings (40 BO evaluations, 0 for the test set)")
        third = run_cell(dataclasses.replace(spec(tmp, "bo_gp", 2, args, "t"), sr_seeds=(0,), parsimony=(1e-4,)), log=quiet)
        print(f"bo_gp cell, same seed: {third.n_trainings} trainings (BO run and test set from the cache)")

        # A sample_size-shaped cell: 5 sample sizes x 3 SR seeds = 15 fits. Fits are parallel
        # across processes (gplearn's own n_jobs is slower at these sizes: it pickles the whole
        # population every generation), so a cell needs more fits than workers to balance; a
        # Table-1 cell has 3 equal-size fits, for which 2 workers can give at most 1.5x.
        sizes = (100, 80, 60, 40, 20)
        print(f"\n== SR stage: {len(sizes) * 3} fits (n = {list(sizes)}, SR seeds 0, 3, 6), "
              f"population {args.population}, {args.generations} generations ==")
        times = {}
        for n_jobs in (1, 2):
            # A store of its own: records are content-addressed, so the second run would find the
            # first one's records (n_jobs is not part of a record's identity) and fit nothing.
            cell = dataclasses.replace(spec(tmp, "random", n_jobs, args, f"j{n_jobs}"), n_samples=sizes,
                                       sr_seeds=(0, 3, 6), parsimony=(1e-4,), store_dir=tmp / f"store-j{n_jobs}")
            rep = run_cell(cell, log=quiet)
            times[n_jobs] = rep.timings["sr_total"]["wall_s"]
            fit_cpu = sum(json.loads(p.read_text())["timings"]["sr_fit"]["wall_s"] for p in rep.written)
            print(f"n_jobs={n_jobs}: SR stage {times[n_jobs]:.1f} s wall (sum of fit times {fit_cpu:.1f} s)")
        print(f"speed-up n_jobs=2 vs 1: {times[1] / times[2]:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
