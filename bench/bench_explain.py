"""Benchmark: ``symexp explain`` on runs with a known truth, per engine and setting.

Each problem is a random-search run written as a CSV with a space file, like a user's run: 60 to
100 evaluations of a known function of two hyperparameters, plus hyperparameters that do not
matter. The problems vary the shape, the scale of the objective (0.06 to 0.12, about 1, hundreds),
log-scaled and integer hyperparameters, noise, and the direction (one is maximised):

=================  ==========================================================================
problem            truth (u = log10 of a log-scaled hyperparameter)
=================  ==========================================================================
lr_depth           0.1 (u_lr + 2)^2 + 0.5 exp(-depth / 3) + 0.2; lr log, depth int, 1 irrelevant
                   (a log-scaled truth and an integer)
                   (the issue's "CSV, known truth"; 80 rows)
narrow_band        0.06 + 0.004 (u_gamma + 1.5)^2 + 0.03 exp(-2 (u_C + 3)); C, gamma log;
                   costs in [0.06, 0.12] (70 rows)
time_scale         0.05 n_estimators max_depth^0.8 seconds; n_estimators int log, max_depth int,
                   2 irrelevant (90 rows)
accuracy_max       0.95 - 0.1 x y, maximised; x log, y float, noise sd 0.005, 1 irrelevant (60 rows)
noisy              lr_depth with noise of sd 10 % of the truth's std (80 rows)
irrelevant4        0.15 + 0.01 (u_alpha + 4)^2 + 0.05 u_batch; alpha log, batch int log,
                   4 irrelevant (100 rows)
categorical        0.1 (u_lr + 2)^2 + 0.02 depth + {0, 0.15, 0.3} by kernel (categorical rbf /
                   poly / linear: a categorical effect, integrated out of the formula; 90 rows)
flat               0.3 + noise (sd 0.01); lr log, momentum: nothing to explain (60 rows)
=================  ==========================================================================

For each (problem, variant) the script runs ``explain`` through its library entry point and
prints the wall time (the whole explanation: reading, surrogate, cross-validation, importance,
labels, SR, scoring), the RMSE of the chosen formula against the truth relative to the truth's
standard deviation (on 4000 uniform random configurations of the whole space; the formula
sees its explained columns), its complexity, R^2 against the surrogate, whether the quality
gate warned, and the same RMSE for the best formula on the front and for the surrogate itself
(partial dependence on the explained hyperparameters; the floor any formula fitted to it sees).

    PYTHONHASHSEED=0 .venv/bin/python -m bench.bench_explain                # defaults only
    PYTHONHASHSEED=0 .venv/bin/python -m bench.bench_explain --variants all
    PYTHONHASHSEED=0 .venv/bin/python -m bench.bench_explain --problems lr_depth --variants default,gplearn

Not a test. Runs one explanation at a time (SR single-threaded); ``--out FILE`` writes the rows
as JSON. The machine's load average is printed at the start and the end: other processes slow
every number down.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from symexp.benchmarks.space import Numerical, SearchSpace


@dataclass(frozen=True)
class Problem:
    name: str
    space: SearchSpace
    truth: Callable[[dict[str, np.ndarray]], np.ndarray]
    n: int
    noise_sd: float = 0.0          # absolute
    direction: str = "minimize"
    #: columns that are categorical in the run: name -> choices (in the space an integer index)
    categorical: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _lr_depth(c):
    return 0.1 * (np.log10(c["lr"]) + 2) ** 2 + 0.5 * np.exp(-c["depth"] / 3) + 0.2


PROBLEMS: dict[str, Problem] = {p.name: p for p in [
    Problem("lr_depth", SearchSpace((Numerical("lr", 1e-4, 1.0, log=True), Numerical("depth", 1, 12, integer=True),
                                     Numerical("subsample", 0.5, 1.0))), _lr_depth, 80),
    Problem("narrow_band", SearchSpace((Numerical("C", 1e-3, 1e3, log=True), Numerical("gamma", 1e-4, 10.0, log=True))),
            lambda c: 0.06 + 0.004 * (np.log10(c["gamma"]) + 1.5) ** 2 + 0.03 * np.exp(-2 * (np.log10(c["C"]) + 3)),
            70),
    Problem("time_scale", SearchSpace((Numerical("n_estimators", 10, 1000, log=True, integer=True),
                                       Numerical("max_depth", 2, 30, integer=True), Numerical("min_samples_leaf", 1, 20, integer=True),
                                       Numerical("max_features", 0.1, 1.0))),
            lambda c: 0.05 * c["n_estimators"] * c["max_depth"] ** 0.8, 90),
    Problem("accuracy_max", SearchSpace((Numerical("x", 0.1, 2.0, log=True), Numerical("y", 0.0, 1.0),
                                         Numerical("z", 0.0, 1.0))),
            lambda c: 0.95 - 0.1 * c["x"] * c["y"], 60, noise_sd=0.005, direction="maximize"),
    Problem("noisy", SearchSpace((Numerical("lr", 1e-4, 1.0, log=True), Numerical("depth", 1, 12, integer=True),
                                  Numerical("subsample", 0.5, 1.0))), _lr_depth, 80, noise_sd=0.1 * 0.40),
    Problem("irrelevant4", SearchSpace((Numerical("alpha", 1e-6, 1e-1, log=True),
                                        Numerical("batch", 16, 512, log=True, integer=True))
                                       + tuple(Numerical(f"noise{k}", 0.0, 1.0) for k in range(4))),
            lambda c: 0.15 + 0.01 * (np.log10(c["alpha"]) + 4) ** 2 + 0.05 * np.log10(c["batch"]), 100),
    Problem("categorical", SearchSpace((Numerical("lr", 1e-4, 1.0, log=True), Numerical("depth", 1, 12, integer=True),
                                        Numerical("kernel", 0, 2, integer=True))),
            lambda c: 0.1 * (np.log10(c["lr"]) + 2) ** 2 + 0.02 * c["depth"] + np.array([0.0, 0.15, 0.3])[
                np.asarray(c["kernel"], int)], 90, categorical=(("kernel", ("rbf", "poly", "linear")),)),
    Problem("flat", SearchSpace((Numerical("lr", 1e-4, 1.0, log=True), Numerical("momentum", 0.0, 0.99))),
            lambda c: np.full(len(c["lr"]), 0.3), 60, noise_sd=0.01),
]}

#: name -> options of ``explain`` (on top of the defaults).
VARIANTS: dict[str, dict] = {
    "default": {},
    "operon-1seed": {"sr_seeds": (0,)},
    "operon-noLM": {"local_iterations": 0, "population_size": 1000, "generations": 50},
    "operon-raw": {"units": "raw"},
    "operon-paperfns": {"function_set": ("add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs")},
    "gplearn": {"engine": "gplearn", "sr_seeds": (0,), "population_size": 1000, "generations": 20},
    "both": {"engine": "both", "sr_seeds": (0,), "population_size": 1000, "generations": 20},
}


def columns(space: SearchSpace, X: np.ndarray) -> dict[str, np.ndarray]:
    return {n: X[:, j] for j, n in enumerate(space.names)}


def space_yaml(space: SearchSpace, categorical: dict[str, tuple[str, ...]] | None = None) -> str:
    lines = []
    for hp in space:
        if categorical and hp.name in categorical:
            lines.append(f"{hp.name}: {{type: categorical, choices: [{', '.join(categorical[hp.name])}]}}")
            continue
        kind = "int" if hp.integer else "float"
        lines.append(f"{hp.name}: {{type: {kind}, lower: {hp.lower!r}, upper: {hp.upper!r}, log: {str(hp.log).lower()}}}")
    return "\n".join(lines) + "\n"


def make_run(problem: Problem, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """The run as a CSV (random search, seeded) and its space file."""
    rng = np.random.default_rng(seed)
    X = problem.space.sample(problem.n, rng)
    y = problem.truth(columns(problem.space, X))
    if problem.noise_sd:
        y = y + rng.normal(0.0, problem.noise_sd, len(y))
    df = pd.DataFrame(X, columns=problem.space.names)
    cats = dict(problem.categorical)
    for hp in problem.space:
        if hp.name in cats:
            df[hp.name] = [cats[hp.name][int(round(v))] for v in X[:, problem.space.names.index(hp.name)]]
        elif hp.integer:
            df[hp.name] = df[hp.name].round().astype(int)
    df["cost"] = y
    csv, space = folder / f"{problem.name}.csv", folder / f"{problem.name}.yaml"
    df.to_csv(csv, index=False)
    space.write_text(space_yaml(problem.space, cats))
    return csv, space


def truth_rmse(problem: Problem, names: list[str], predict_fn, X_test: np.ndarray, truth: np.ndarray) -> float:
    """RMSE of a predictor of the explained columns against the truth, over the truth's std
    (inf when not finite; nan for a flat truth)."""
    cols = [problem.space.names.index(n) for n in names]
    pred = predict_fn(X_test[:, cols])
    if not np.all(np.isfinite(pred)):
        return float("inf")
    sd = float(np.std(truth))
    flat = sd <= 1e-9 * max(1.0, float(np.max(np.abs(truth))))
    return float("nan") if flat else float(np.sqrt(np.mean((pred - truth) ** 2)) / sd)


def run_one(problem: Problem, variant: str, folder: Path, data_seed: int = 0) -> dict:
    from symexp.explain import explain

    csv, space = make_run(problem, folder, data_seed)
    t0 = time.perf_counter()
    result = explain(csv, space_file=space, direction=problem.direction, progress=False, **VARIANTS[variant])
    seconds = time.perf_counter() - t0
    X_test = problem.space.sample(4000, np.random.default_rng(12345))
    truth = problem.truth(columns(problem.space, X_test))
    names = result.explained
    chosen = result.chosen
    rel = truth_rmse(problem, names, lambda A: result.predict(chosen, A), X_test, truth)
    best = min(truth_rmse(problem, names, lambda A, c=c: result.predict(c, A), X_test, truth)
               for c in result.front)
    sur = truth_rmse(problem, names, result.surrogate_pd, X_test, truth)
    front = [{"complexity": c.complexity, "r2_surrogate": c.metrics["surrogate"]["r2"],
              "heldout_r2": (c.metrics.get("heldout") or {}).get("r2"),
              "rmse_rel": truth_rmse(problem, names, lambda A, c=c: result.predict(c, A), X_test, truth),
              "formula": c.formula} for c in result.front]
    old = result.front[result.alternatives["r2_tolerance"]]
    held = chosen.metrics.get("heldout") or {}
    return {"problem": problem.name, "variant": variant, "data_seed": data_seed, "seconds": round(seconds, 1),
            "rmse_rel": rel, "complexity": chosen.complexity, "r2_surrogate": chosen.metrics["surrogate"]["r2"],
            "heldout_r2": held.get("r2"), "interval": held.get("interval"),
            "truth_r2": None if np.isnan(rel) else 1.0 - rel**2, "rule": result.rule_name,
            "nothing_to_explain": any(w.startswith("Nothing to explain") for w in result.warnings),
            "old_rule_rmse_rel": truth_rmse(problem, names, lambda A: result.predict(old, A), X_test, truth),
            "old_rule_complexity": old.complexity,
            "warnings": len(result.warnings), "best_front_rmse_rel": best, "surrogate_rmse_rel": sur,
            "explained": names, "formula": chosen.formula, "timings": result.timings, "front": front,
            "fits_stopped_at_time_limit": len({(c.engine, c.seed, c.parsimony) for c in result.candidates if c.timed_out})}


def full_cv(problem: Problem, variant: str, folder: Path, data_seed: int = 0, folds: int = 5) -> dict:
    """The held-out R^2 of the whole pipeline: per fold, ``explain`` on the other evaluations (its
    own surrogate, SR, held-out errors and knee), its chosen formula predicting the fold. Against
    the cheap scheme's ``chosen.heldout.r2`` of one run on all evaluations (same folds)."""
    from symexp.explain import explain, read_run
    from symexp.explain.quality import fit_stats

    csv, space = make_run(problem, folder, data_seed)
    run = read_run(csv, space_file=space, direction=problem.direction)
    t0 = time.perf_counter()
    whole = explain(run, progress=False, **VARIANTS[variant])
    idx = np.random.default_rng(0).permutation(run.n)  # the folds of the surrogate's CV (seed 0)
    pred = np.full(run.n, np.nan)
    for k in range(folds):
        test = np.sort(idx[k::folds])
        train = np.setdiff1d(idx, test)
        sub = dataclasses.replace(run, X=run.X[train], y=run.y[train], notes=list(run.notes))
        res = explain(sub, progress=False, **VARIANTS[variant])
        cols = [run.space.names.index(n) for n in res.explained]
        pred[test] = res.predict(res.chosen, run.X[test][:, cols])
    return {"problem": problem.name, "variant": variant, "cheap_r2": whole.chosen.metrics["heldout"]["r2"],
            "full_r2": fit_stats(pred, run.y)["r2"], "seconds": round(time.perf_counter() - t0, 1)}


def load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated (default: all)")
    parser.add_argument("--variants", default="default", help=f"comma-separated or 'all': {', '.join(VARIANTS)}")
    parser.add_argument("--data-seeds", default="0", help="seeds of the random-search runs (default 0); several "
                                                           "seeds repeat each problem on other evaluations")
    parser.add_argument("--rows", type=int, help="evaluations per run instead of each problem's own (60 to 100)")
    parser.add_argument("--out", help="also write the rows as JSON to this file")
    parser.add_argument("--full-cv", action="store_true", help="instead: compare the reported held-out R^2 with "
                                                               "cross-validation of the whole pipeline (5 refits)")
    args = parser.parse_args(argv)
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    variants = list(VARIANTS) if args.variants == "all" else [v.strip() for v in args.variants.split(",") if v.strip()]
    data_seeds = [int(v) for v in args.data_seeds.split(",") if v.strip()]
    if args.rows is not None:
        for name in problems:
            PROBLEMS[name] = dataclasses.replace(PROBLEMS[name], n=int(args.rows))
    bad = [p for p in problems if p not in PROBLEMS] + [v for v in variants if v not in VARIANTS]
    if bad:
        print(f"unknown problem(s)/variant(s): {', '.join(bad)}", file=sys.stderr)
        return 2
    print(f"load average at start (1, 5, 15 min): {load()}; cores: {os.cpu_count()}", flush=True)
    if args.full_cv:
        print(f"{'problem':<13} {'variant':<14} {'seconds':>7} {'R2 held (reported)':>18} {'R2 full-pipeline CV':>19} "
              f"{'diff':>6}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            for problem in problems:
                for variant in variants:
                    r = full_cv(PROBLEMS[problem], variant, Path(tmp))
                    diff = "-" if r["cheap_r2"] is None or r["full_r2"] is None else \
                        f"{r['cheap_r2'] - r['full_r2']:+.3f}"
                    print(f"{r['problem']:<13} {r['variant']:<14} {r['seconds']:>7.1f} {r['cheap_r2']:>18.3f} "
                          f"{r['full_r2']:>19.3f} {diff:>6}", flush=True)
        print(f"load average at end (1, 5, 15 min): {load()}")
        return 0
    head = (f"{'problem':<13} {'variant':<14} {'seconds':>7} {'R2 held':>7} {'R2 truth':>8} {'gap':>5} {'ops':>4} "
            f"{'rmse/std':>8} {'old ops':>7} {'old r/s':>7} {'warn':>4}  formula")
    print(head, flush=True)

    def r2(v):
        return "-" if v is None else f"{v:.3f}"

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for problem in problems:
            for data_seed in data_seeds:
                for variant in variants:
                    rows.append(run_one(PROBLEMS[problem], variant, Path(tmp), data_seed))
                    r = rows[-1]
                    gap = "-" if r["heldout_r2"] is None or r["truth_r2"] is None else \
                        f"{abs(r['heldout_r2'] - r['truth_r2']):.3f}"
                    name = r["problem"] if len(data_seeds) == 1 else f"{r['problem']}/{data_seed}"
                    warn = "NTE" if r["nothing_to_explain"] else str(r["warnings"])
                    print(f"{name:<13} {r['variant']:<14} {r['seconds']:>7.1f} {r2(r['heldout_r2']):>7} "
                          f"{r2(r['truth_r2']):>8} {gap:>5} {r['complexity']:>4} {r['rmse_rel']:>8.3f} "
                          f"{r['old_rule_complexity']:>7} {r['old_rule_rmse_rel']:>7.3f} {warn:>4}  {r['formula'][:80]}",
                          flush=True)
    print("\nR2 held: the chosen formula's held-out R^2 as reported; R2 truth: its R^2 against the truth; gap: "
          "their difference; rmse/std: its RMSE against the truth over the truth's std; old: the R^2-tolerance "
          "rule's choice; NTE: 'nothing to explain' warned.")
    print("\nper variant (mean over runs): seconds, rmse/std, complexity, share with rmse/std < 0.1, max gap")
    for variant in variants:
        sel = [r for r in rows if r["variant"] == variant]
        ok = [r for r in sel if np.isfinite(r["rmse_rel"])]
        gaps = [abs(r["heldout_r2"] - r["truth_r2"]) for r in sel if r["heldout_r2"] is not None
                and r["truth_r2"] is not None]
        print(f"  {variant:<16} {np.mean([r['seconds'] for r in sel]):7.1f} s  "
              f"{np.mean([min(r['rmse_rel'], 10.0) for r in ok]) if ok else float('nan'):.3f}  "
              f"{np.mean([r['complexity'] for r in sel]):5.1f}  {np.mean([r['rmse_rel'] < 0.1 for r in ok]) if ok else 0:.0%}"
              f"  {max(gaps) if gaps else float('nan'):.3f}")
    print(f"load average at end (1, 5, 15 min): {load()}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
