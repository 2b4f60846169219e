"""Benchmark: smac 2.0.0's selection (the paper's SMAC) vs the pinned smac's, on real BO runs.

For each (model, dataset, seed) row, the BO run of symexp's pipeline (``run_bo`` on the
benchmark's objective, settings of ``conf/bo/paper.yaml``) is made twice, with
``selection: smac2.0`` and ``selection: native``, and per mode it prints

* the share of the evaluated configurations by origin: Sobol initial design, local search,
  random challengers of the acquisition maximiser ("random, sorted by EI"), random
  configurations interleaved by SMAC's random design ("random, interleaved"), and SMAC's
  fallback when it found no new configuration ("random, no candidates");
* the distance of each BO proposal to the incumbent at that moment (the best configuration
  evaluated before it), in the unit cube of the space (log scale for log hyperparameters):
  median, mean and the share within 0.05;
* the best cost found and the wall time of the run;
* with ``--gp-rmse``: the GP baseline's RMSE on the test grid (the run's GP snapshot for
  ``--n``, default 140, against the mean true cost over evaluation seeds 0-4 on the 10 x 10 grid,
  as in Table 1).

Not a test: at the paper's settings one row takes 2 x (3 to 10) minutes on one core.

    .venv/bin/python bench/bench_smac_selection.py --rows svm:blood_transfusion:0,lr:australian:0 \\
        --data-dir $SYMEXP_DATA_DIR --cache-dir results/cache --gp-rmse --out selection.json
    .venv/bin/python bench/bench_smac_selection.py --rows synthetic:synthetic:0 --n-trials 60   # quick
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


from symexp.symbolic.convert import rmse
from symexp.benchmarks import make_benchmark
from symexp.errors import SymexpError
from symexp.pipeline.training import TolerantObjective
from symexp.app.config import bo_settings, preset_config
from symexp.sampling import gp_for, run_bo
from symexp.benchmarks.testset import load_or_compute_test_set

MODES = ("smac2.0", "native")
ORIGIN_CLASSES = {
    "Initial Design": "initial design",
    "Acquisition Function Maximizer: Local Search": "local search",
    "Acquisition Function Maximizer: Random Search (sorted)": "random, sorted by EI",
    "Acquisition Function Maximizer: Random Search": "random, sorted by EI",
    "Random Search (max retries, no candidates)": "random, no candidates",
    "Random Search": "random, interleaved",
}
CLASSES = ("initial design", "local search", "random, sorted by EI", "random, interleaved", "random, no candidates")


def origin_class(origin: str) -> str:
    if origin.startswith("Initial Design"):
        return "initial design"
    return ORIGIN_CLASSES.get(origin, f"other: {origin}")


def distances_to_incumbent(run) -> np.ndarray:
    """For every BO proposal, the unit-cube distance to the best configuration evaluated before it."""
    U = run.space.in_unit_cube(run.X)
    y = np.where(np.isfinite(run.y), run.y, np.inf)
    out = []
    for i in range(run.n_initial_design, run.n_trials):
        best = int(np.argmin(y[:i]))  # first of equal costs, like SMAC's incumbent
        out.append(float(np.linalg.norm(U[i] - U[best])))
    return np.asarray(out)


def summarise(run, seconds: float, gp_rmse: float | None) -> dict:
    classes = [origin_class(o) for o in run.origins]
    shares = {c: classes.count(c) / len(classes) for c in sorted(set(classes), key=lambda c: (c not in CLASSES, c))}
    d = distances_to_incumbent(run)
    return {
        "n_trials": run.n_trials,
        "origin_shares": shares,
        "distance_to_incumbent": {"median": float(np.median(d)), "mean": float(np.mean(d)),
                                  "share_within_0.05": float(np.mean(d <= 0.05)), "n": int(len(d))},
        "best_cost": float(np.nanmin(run.y)),
        "seconds": seconds,
        "gp_rmse": gp_rmse,
        "snapshot_max_deviation": max((v for v in run.snapshot_deviations.values() if v is not None), default=None),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", required=True, help="comma-separated model:dataset:seed, e.g. svm:blood_transfusion:0")
    ap.add_argument("--n-trials", type=int, default=None, help="BO budget (default: conf/bo/paper.yaml)")
    ap.add_argument("--data-dir", default=None, help="offline OpenML CSVs (default: $SYMEXP_DATA_DIR)")
    ap.add_argument("--cache-dir", default=None, help="evaluation / test-set cache (default: a temporary directory)")
    ap.add_argument("--gp-rmse", action="store_true", help="also score the GP baseline on the test grid")
    ap.add_argument("--n", type=int, default=None, help="BO evaluations of the GP scored with --gp-rmse "
                                                        "(default: table1's n, conf/experiment/table1.yaml)")
    ap.add_argument("--out", default=None, help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    args.n = args.n if args.n is not None else preset_config("table1")["n_samples"][0]

    try:
        rows = []
        for item in args.rows.split(","):
            model, dataset, seed = item.strip().split(":")
            rows.append((model, dataset, int(seed)))
    except ValueError:
        print(f"error: --rows must be model:dataset:seed[,...], got {args.rows!r}", file=sys.stderr)
        return 2
    try:
        base = bo_settings(preset_config("table1"))  # the paper's BO settings, from conf/
        if args.n_trials is not None:
            base = dataclasses.replace(base, n_trials=args.n_trials,
                                       snapshot_sizes=tuple(n for n in base.snapshot_sizes if n <= args.n_trials)
                                       or (args.n_trials,))
        if args.gp_rmse and args.n not in base.snapshot_sizes:
            raise SymexpError(f"--n {args.n} is not a snapshot size of the BO settings {list(base.snapshot_sizes)}")
        benches = [make_benchmark(m, d, "hpobench", data_dir=args.data_dir, cache_dir=args.cache_dir)
                   for m, d, _ in rows]
    except SymexpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-selection-") as tmp:
        for (model, dataset, seed), bench in zip(rows, benches):
            test = None
            if args.gp_rmse:
                cache = args.cache_dir or Path(tmp) / "cache"
                test = load_or_compute_test_set(bench, 10, (0, 1, 2, 3, 4), cache)
            for mode in MODES:
                settings = dataclasses.replace(base, selection=mode)
                t0 = time.perf_counter()
                run = run_bo(TolerantObjective(bench), bench.space, settings, seed, Path(tmp) / "work")
                seconds = time.perf_counter() - t0
                gp = None
                if test is not None:
                    ok = np.isfinite(test.y)
                    gp = rmse(test.y[ok], gp_for(run, args.n).predict(test.X[ok])[0])
                res = {"model": model, "dataset": dataset, "seed": seed, "selection": mode,
                       **summarise(run, seconds, gp)}
                results.append(res)
                shares = ", ".join(f"{k} {v:.0%}" for k, v in res["origin_shares"].items())
                dist = res["distance_to_incumbent"]
                line = (f"{model:>9} {dataset:<18} seed {seed:<2} {mode:<8} | {shares} | distance to incumbent: "
                        f"median {dist['median']:.3f}, mean {dist['mean']:.3f}, <= 0.05: {dist['share_within_0.05']:.0%} "
                        f"| best cost {res['best_cost']:.4f} | {seconds:.0f} s")
                if gp is not None:
                    line += f" | GP RMSE (n={args.n}) {gp:.4f}"
                print(line, flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
