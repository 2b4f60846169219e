"""Benchmark: overhead of symexp's SymbolicRegression over calling gplearn directly.

symexp evolves generation by generation (warm start) to enforce a wall-clock cap, and converts
the program to SymPy afterwards. This script fits both ways on the same arrays with the paper's
settings (population 5000, 20 generations, parsimony 1e-4, the paper's function set, capped exp)
and prints the times, the ratio, and whether both give the identical program. Both use the class
the engine uses (the fast fit unless ``SYMEXP_SR_REFERENCE=1``; the fast fit itself against
gplearn's: bench_sr_fast.py).

Not a test: run it by hand, once or twice (each fit takes about a minute at paper scale).

    .venv/bin/python bench/bench_sr_overhead.py                 # paper scale
    .venv/bin/python bench/bench_sr_overhead.py --population 500 --generations 5   # quick
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from symexp.app.config import preset_config, sr_settings
from symexp.symbolic import SymbolicRegression
from symexp.symbolic.fast_gplearn import regressor_class
from symexp.symbolic.functions import gplearn_function_set



def landscape(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of a smooth 2-D cost-like function with a little noise, e.g. 1 - accuracy
    over (log-scaled) C and gamma of an SVM."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.exp(rng.uniform(np.log(2**-10), np.log(2**10), n)),
                         np.exp(rng.uniform(np.log(2**-10), np.log(2**10), n))])
    u, v = np.log(X[:, 0]) / 7, np.log(X[:, 1]) / 7
    y = 0.15 + 0.1 * (u - 0.5) ** 2 + 0.2 / (1 + np.exp(-3 * v)) + 0.005 * rng.normal(size=n)
    return X, y


def main() -> None:
    paper = preset_config("table1")  # the paper's settings, from conf/
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=paper["sr"]["population_size"])
    ap.add_argument("--generations", type=int, default=paper["sr"]["generations"])
    ap.add_argument("--parsimony", type=float, default=paper["parsimony"][0])
    ap.add_argument("--n-points", type=int, default=paper["n_samples"][0])
    ap.add_argument("--seed", type=int, default=0, help="SR seed (gplearn random_state)")
    ap.add_argument("--repeats", type=int, default=1, help="pairs of fits (direct, symexp), alternating")
    args = ap.parse_args()

    settings = dataclasses.replace(sr_settings(paper), population_size=args.population,
                                   generations=args.generations, parsimony_coefficient=args.parsimony)
    X, y = landscape(args.n_points, seed=1)
    names = ["C", "gamma"]
    print(f"{args.n_points} points, 2 features; population {args.population}, {args.generations} generations, "
          f"parsimony {args.parsimony:g}, n_jobs 1, SR seed {args.seed}")

    # Wall time is noisy on a shared machine, so also report CPU time and the time spent outside
    # gplearn's generation loop (sum of run_details_['generation_time']): the latter is exactly
    # what the harness adds (per-generation refit bookkeeping), independent of machine load.
    direct_s, evolve_s, total_s, direct_cpu, evolve_cpu = [], [], [], [], []
    for r in range(args.repeats):
        gp = regressor_class()(**settings.gplearn_kwargs(),
                               function_set=gplearn_function_set(settings.function_set, settings.exp_cap),
                               feature_names=names, random_state=args.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        with np.errstate(all="ignore"):
            gp.fit(X, y)
        direct_s.append(time.perf_counter() - t0)
        direct_cpu.append(time.process_time() - c0)
        direct_outside = direct_s[-1] - sum(gp.run_details_["generation_time"])

        est = SymbolicRegression(settings, random_state=args.seed, feature_names=names)
        t0, c0 = time.perf_counter(), time.process_time()
        est.fit(X, y)
        total_s.append(time.perf_counter() - t0)
        evolve_cpu.append(time.process_time() - c0)
        evolve_s.append(est.fit_seconds_)
        ours_outside = est.fit_seconds_ - sum(est.run_details_["generation_time"])

        same = est.program_ == str(gp._program)
        print(f"repeat {r}: gplearn fit {direct_s[-1]:.2f} s wall / {direct_cpu[-1]:.2f} s CPU | symexp evolution "
              f"{evolve_s[-1]:.2f} s wall (ratio {evolve_s[-1] / direct_s[-1]:.3f}), whole fit incl. SymPy "
              f"{total_s[-1]:.2f} s wall / {evolve_cpu[-1]:.2f} s CPU (CPU ratio {evolve_cpu[-1] / direct_cpu[-1]:.3f}; "
              f"conversion {est.convert_seconds_:.2f} s) | outside the generation loop: gplearn "
              f"{direct_outside * 1e3:.1f} ms, symexp {ours_outside * 1e3:.1f} ms | identical program: {same}")
        if not same:
            print(f"  gplearn: {gp._program}\n  symexp:  {est.program_}")
    print(f"program: {est.program_}")
    print(f"formula: {est.formula_}  (complexity {est.complexity_}, generations {est.generations_completed_}, "
          f"timed out: {est.timed_out_})")
    d, e, t = min(direct_s), min(evolve_s), min(total_s)
    dc, ec = min(direct_cpu), min(evolve_cpu)
    print(f"best of {args.repeats}: gplearn {d:.2f} s, symexp evolution {e:.2f} s -> overhead ratio {e / d:.3f}; "
          f"with SymPy conversion {t:.2f} s -> ratio {t / d:.3f}; CPU {dc:.2f} s vs {ec:.2f} s -> ratio {ec / dc:.3f}")


if __name__ == "__main__":
    main()
