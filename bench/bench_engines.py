"""Benchmark: the operon SR engine vs gplearn on the same training set (time ratio, elbow-formula RMSE).

Both engines get the same training set (``--n-points`` random configurations of a 2-D cost
landscape, labelled by the landscape; the BO-GP training-set size of the paper is 400) and the
paper's settings (population 5000, 20 generations, the paper's function set, 900 s per fit):

* gplearn: a parsimony sweep (default: the paper's 12 coefficients of Fig. 5), one fit per
  (coefficient, SR seed);
* operon: one multi-objective fit per SR seed (NSGA-II on RMSE and length, pyoperon 0.6.2), whose
  Pareto front holds every formula.

Each engine's candidates are scored by the test RMSE of the printed (simplified, rounded) formula
against the noiseless cost on the paper's test grid (10 cell centres per hyperparameter), the
Pareto front (complexity vs test RMSE) is formed and the elbow rule (Appendix A) walked from the
simplest formula picks the *elbow formula*, exactly as ``symexp explain`` does. For gplearn the
paper's own reading of the rule is reported too: the elbow over the sweep points (mean test RMSE
and mean operation count per coefficient, :func:`symexp.symbolic.elbow.elbow_point`).

Printed: wall and CPU time of each engine (all its fits), the ratio gplearn / operon, and the
elbow formula, its complexity and test RMSE for each engine and seed. ``--out FILE`` also writes
the numbers as JSON. Not a test: the gplearn sweep at paper scale takes about 12 x 1 min.

    .venv/bin/python bench/bench_engines.py                                 # paper scale
    .venv/bin/python bench/bench_engines.py --population 500 --generations 5 \\
        --parsimony 0.001,0.01                                                    # quick
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from symexp.symbolic.elbow import elbow_point
from symexp.explain.front import dedupe, elbow_index, gplearn_sweep, operon_front, pareto_front
from symexp.benchmarks.space import Numerical, SearchSpace
from symexp.app.config import preset_config, sr_settings
from symexp.symbolic import operon_status



def problem(name: str) -> tuple[SearchSpace, callable]:
    """A 2-D space and its noiseless cost."""
    if name == "svm":  # 1 - accuracy-like surface over log-scaled C and gamma (bench_sr_overhead.py)
        space = SearchSpace((Numerical("C", 2**-10, 2**10, log=True), Numerical("gamma", 2**-10, 2**10, log=True)))

        def f(X):
            u, v = np.log(X[:, 0]) / 7, np.log(X[:, 1]) / 7
            return 0.15 + 0.1 * (u - 0.5) ** 2 + 0.2 / (1 + np.exp(-3 * v))
        return space, f
    if name == "synthetic":  # symexp's synthetic benchmark, cost x*y + 0.1
        space = SearchSpace((Numerical("x", 0.1, 2.0, log=True), Numerical("y", 0.0, 1.0)))
        return space, lambda X: X[:, 0] * X[:, 1] + 0.1
    if name == "branin":  # Branin over a log float and a log int (symexp.sampling._testing)
        from symexp.sampling._testing import branin, branin_space

        space = branin_space()
        return space, lambda X: np.array([branin(dict(zip(space.names, r)), 0) for r in X])
    raise SystemExit(f"unknown problem {name!r}; valid: svm, synthetic, branin")


def floats(text: str) -> tuple[float, ...]:
    return tuple(float(t) for t in text.split(",") if t.strip())


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    paper = preset_config("parsimony")  # the paper's SR settings and parsimony sweep, from conf/
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="svm", choices=["svm", "synthetic", "branin"])
    ap.add_argument("--n-points", type=int, default=paper["bo_gp"]["n_points"])
    ap.add_argument("--noise", type=float, default=0.005, help="std of Gaussian noise on the training labels")
    ap.add_argument("--population", type=int, default=paper["sr"]["population_size"])
    ap.add_argument("--generations", type=int, default=paper["sr"]["generations"])
    ap.add_argument("--parsimony", type=floats, default=tuple(paper["parsimony"]), help="gplearn sweep (comma-separated)")
    ap.add_argument("--seeds", type=ints, default=(0,), help="SR seeds (comma-separated)")
    ap.add_argument("--time-limit", type=float, default=float(paper["sr"]["time_limit_s"]))
    ap.add_argument("--out", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    if operon_status() is not None:
        raise SystemExit(f"operon unavailable: {operon_status()}")

    space, cost = problem(args.problem)
    rng = np.random.default_rng(12345)
    X = space.sample(args.n_points, rng)
    y = cost(X) + args.noise * rng.normal(size=len(X))
    X_test = space.test_grid(10)
    y_test = cost(X_test)
    names, logs = space.names, [hp.log for hp in space]
    settings = dataclasses.replace(sr_settings(paper), population_size=args.population, generations=args.generations,
                                   time_limit_s=args.time_limit)
    print(f"problem {args.problem}: {args.n_points} training points (noise {args.noise:g}), test grid "
          f"{len(X_test)} points; population {args.population}, {args.generations} generations; gplearn sweep "
          f"{len(args.parsimony)} coefficients; SR seeds {list(args.seeds)}", flush=True)

    def step(what):
        print(f"  fitting {what}", file=sys.stderr, flush=True)

    results = {"problem": args.problem, "n_points": args.n_points, "noise": args.noise,
               "population": args.population, "generations": args.generations,
               "parsimony": list(args.parsimony), "seeds": list(args.seeds), "engines": {}}
    for engine in ("operon", "gplearn"):
        per_seed = []
        wall = cpu = 0.0
        for seed in args.seeds:
            if engine == "gplearn":
                cands, w, c = timed(lambda: gplearn_sweep(X, y, names, logs, settings, args.parsimony, [seed],
                                                          X_test, y_test, step))
            else:
                cands, w, c = timed(lambda: operon_front(X, y, names, logs, settings, [seed], X_test, y_test, step))
            wall, cpu = wall + w, cpu + c
            raw = list(cands)
            front = pareto_front(dedupe(cands))
            e = front[elbow_index(front)]
            entry = {"seed": seed, "wall_s": w, "cpu_s": c, "n_candidates": len(raw), "front_size": len(front),
                     "elbow_formula": e.formula, "elbow_complexity": e.complexity, "elbow_test_rmse": e.rmse,
                     "best_test_rmse": min(x.rmse for x in front)}
            if engine == "gplearn":  # the paper's rule on the sweep points
                pts = sorted(raw, key=lambda x: -x.parsimony)
                i = elbow_point([x.parsimony for x in pts], [x.rmse for x in pts], [x.complexity for x in pts])
                entry.update(paper_elbow_parsimony=pts[i].parsimony, paper_elbow_formula=pts[i].formula,
                             paper_elbow_complexity=pts[i].complexity, paper_elbow_test_rmse=pts[i].rmse,
                             timed_out=sum(x.timed_out for x in raw))
            per_seed.append(entry)
        results["engines"][engine] = {"wall_s": wall, "cpu_s": cpu, "per_seed": per_seed,
                                      "mean_elbow_test_rmse": float(np.mean([s["elbow_test_rmse"] for s in per_seed]))}

    g, o = results["engines"]["gplearn"], results["engines"]["operon"]
    results["time_ratio_wall"] = g["wall_s"] / o["wall_s"]
    results["time_ratio_cpu"] = g["cpu_s"] / o["cpu_s"]
    results["rmse_ratio"] = o["mean_elbow_test_rmse"] / g["mean_elbow_test_rmse"]
    print(f"\n{'engine':<8} {'wall s':>8} {'cpu s':>8} {'seed':>4} {'front':>5} {'ops':>4} {'test RMSE':>10}  elbow formula")
    for engine in ("gplearn", "operon"):
        r = results["engines"][engine]
        for s in r["per_seed"]:
            print(f"{engine:<8} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {s['seed']:>4} {s['front_size']:>5} "
                  f"{s['elbow_complexity']:>4} {s['elbow_test_rmse']:>10.5f}  {s['elbow_formula']}")
            if engine == "gplearn":
                print(f"{'':<8} {'':>8} {'':>8} {'':>4} {'paper':>5} {s['paper_elbow_complexity']:>4} "
                      f"{s['paper_elbow_test_rmse']:>10.5f}  {s['paper_elbow_formula']}  "
                      f"(sweep-point elbow, parsimony {s['paper_elbow_parsimony']:g})")
    print(f"\ntime ratio gplearn/operon: wall {results['time_ratio_wall']:.1f}x, cpu {results['time_ratio_cpu']:.1f}x; "
          f"elbow test RMSE operon/gplearn: {results['rmse_ratio']:.2f} "
          f"(operon {o['mean_elbow_test_rmse']:.5f}, gplearn {g['mean_elbow_test_rmse']:.5f})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
