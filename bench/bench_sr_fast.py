"""Benchmark: CPU seconds per SR fit, gplearn's own fit (reference) against the fast one.

Fits symexp's ``SymbolicRegression`` (the gplearn engine as the pipeline runs it: generation by
generation, then the SymPy conversion) at the paper's settings (conf/: population 5000, 20
generations, parsimony 1e-4, the paper's function set with the capped exp) on the random-mode
training set of a real benchmark (default lr on blood_transfusion: random configurations of its
paper pair with their true cost), once with ``SYMEXP_SR_REFERENCE=1`` and once without,
alternating in this one process so machine load affects both alike. Prints per n the CPU
seconds (``time.process_time``) of each, the ratio, and whether the programs agree.

The floor: the numpy work of evaluating every program once, i.e. gplearn's ``raw_fitness``
(``execute`` and the metric, one ``np.errstate`` around all) on every program of every
generation of the fit, timed after the fact; and that of evaluating only the distinct programs
(what the fast fit evaluates).

Not a test: run it by hand, nice'd, with few repetitions (a reference fit takes about a minute):

    nice .venv/bin/python bench/bench_sr_fast.py                     # n = 20, 140, 400
    nice .venv/bin/python bench/bench_sr_fast.py --points 140 --repeats 2 --model svm
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import numpy as np

from symexp.app.config import preset_config, sr_settings
from symexp.symbolic import SymbolicRegression
from symexp.symbolic.fast_gplearn import REFERENCE_ENV, FastSymbolicRegressor


def training_set(model: str, dataset: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The random mode's training set: ``n`` random configurations and their true cost."""
    from symexp.benchmarks import make_benchmark
    from symexp.sampling import random_configurations

    bench = make_benchmark(model, dataset)
    X = random_configurations(bench.space, n, seed)
    y = np.asarray(bench.evaluate_many(bench.space.from_array(X), seeds=seed), dtype=float)
    return X, y, list(bench.space.names)


def fit_cpu(settings, X, y, names, seed: int, reference: bool) -> tuple[float, SymbolicRegression]:
    if reference:
        os.environ[REFERENCE_ENV] = "1"
    else:
        os.environ.pop(REFERENCE_ENV, None)
    c0 = time.process_time()
    est = SymbolicRegression(settings, random_state=seed, feature_names=names).fit(X, y)
    return time.process_time() - c0, est


def floor_seconds(settings, X, y, seed: int) -> tuple[float, float, int, int]:
    """CPU seconds of evaluating every program of every generation once, and of evaluating the
    distinct ones only; with the counts. The populations come from a fast fit, one generation
    at a time (what the engine does)."""
    from symexp.symbolic.functions import gplearn_function_set

    gp = FastSymbolicRegressor(**settings.gplearn_kwargs(),
                               function_set=gplearn_function_set(settings.function_set, settings.exp_cap),
                               random_state=seed, warm_start=True)
    every = distinct = 0.0
    n_every = n_distinct = 0
    seen: set = set()
    ones = np.ones(len(y))
    with np.errstate(all="ignore"):
        for k in range(1, settings.generations + 1):
            gp.set_params(generations=k)
            gp.fit(X, y)
            population = gp._programs[-1]
            c0 = time.process_time()
            for p in population:
                p.raw_fitness(X, y, ones)
            every += time.process_time() - c0
            n_every += len(population)
            new = []
            for p in population:
                key = tuple((type(v).__name__, v.hex() if isinstance(v, float) else v) if not hasattr(v, "arity")
                            else id(v) for v in p.program)
                if key not in seen:
                    seen.add(key)
                    new.append(p)
            c0 = time.process_time()
            for p in new:
                p.raw_fitness(X, y, ones)
            distinct += time.process_time() - c0
            n_distinct += len(new)
            if gp.run_details_["best_fitness"][-1] <= settings.stopping_criteria:
                break
    return every, distinct, n_every, n_distinct


def main() -> None:
    paper = preset_config("table1")  # the paper's settings, from conf/
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="20,140,400", help="training-set sizes (comma-separated)")
    ap.add_argument("--model", default="lr")
    ap.add_argument("--dataset", default="blood_transfusion")
    ap.add_argument("--seed", type=int, default=paper["sr_seeds"][0], help="SR seed (gplearn random_state)")
    ap.add_argument("--sampling-seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1, help="pairs of fits (reference, fast), alternating")
    ap.add_argument("--population", type=int, default=paper["sr"]["population_size"])
    ap.add_argument("--generations", type=int, default=paper["sr"]["generations"])
    ap.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    args = ap.parse_args()

    settings = dataclasses.replace(sr_settings(paper), population_size=args.population,
                                   generations=args.generations, time_limit_s=None)
    print(f"{args.model}/{args.dataset} random training sets (sampling seed {args.sampling_seed}); population "
          f"{settings.population_size}, {settings.generations} generations, parsimony "
          f"{settings.parsimony_coefficient:g}, SR seed {args.seed}; CPU seconds per fit incl. the SymPy conversion")
    X, y, names = training_set(args.model, args.dataset, 20, args.sampling_seed)
    warm = dataclasses.replace(settings, population_size=50, generations=2)
    for reference in (True, False):  # imports and first-call costs, outside the measurement
        fit_cpu(warm, X, y, names, args.seed, reference)
    rows = []
    for n in [int(v) for v in args.points.split(",")]:
        X, y, names = training_set(args.model, args.dataset, n, args.sampling_seed)
        ref_s, fast_s = [], []
        for r in range(args.repeats):
            order = (True, False) if r % 2 == 0 else (False, True)
            ests = {}
            for reference in order:
                cpu, ests[reference] = fit_cpu(settings, X, y, names, args.seed, reference)
                (ref_s if reference else fast_s).append(cpu)
            same = (ests[True].program_ == ests[False].program_
                    and ests[True].run_details_["best_fitness"] == ests[False].run_details_["best_fitness"])
            print(f"n={n} repeat {r}: reference {ref_s[-1]:.2f} s, fast {fast_s[-1]:.2f} s, identical: {same}  "
                  f"({ests[False].program_})", flush=True)
        os.environ.pop(REFERENCE_ENV, None)
        floor = None if args.no_floor else floor_seconds(settings, X, y, args.seed)
        rows.append((n, statistics.fmean(ref_s), statistics.fmean(fast_s), floor))

    print("\n| n | reference CPU-s | fast CPU-s | ratio | floor: every program once (CPU-s, programs) "
          "| distinct programs once (CPU-s, programs) |")
    print("|---|---|---|---|---|---|")
    for n, ref, fast, floor in rows:
        f = ("-", "-") if floor is None else (f"{floor[0]:.2f} ({floor[2]})", f"{floor[1]:.2f} ({floor[3]})")
        print(f"| {n} | {ref:.2f} | {fast:.2f} | {ref / fast:.2f}x | {f[0]} | {f[1]} |")
    if len(rows) > 1:
        ns = np.array([r[0] for r in rows], float)
        fast = np.array([r[2] for r in rows])
        slope, base = np.polyfit(ns, fast, 1)
        print(f"\nleast squares, fast: {base:.2f} + {slope:.5f} * points CPU-s per fit")


if __name__ == "__main__":
    main()
