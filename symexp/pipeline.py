"""One experiment cell, end to end: benchmark -> samples -> surrogate -> formula -> records.

A *cell* is one (experiment, model, dataset, protocol, mode, sampling seed). It writes one
record per (sample size, SR seed, parsimony), plus, in mode ``bo_gp``, the GP and linear-
regression baselines per sample size. Everything expensive that cells share (evaluations,
the test set, BO runs) comes from the cache and is computed once across processes.

Order of work, chosen so that a user error costs nothing and a killed job loses nothing:

1. validate the whole specification (bad input -> one-line :class:`SymexpError`, nothing written);
2. skip the cell if all its records exist;
3. test set, training sets (BO run / random sample / GP labels), each cached;
4. SR fits in parallel processes; each record is written atomically as soon as its fit ends.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from symexp.baselines import LinearBaseline, rmse
from symexp.errors import SymexpError, unknown_choice
from symexp.once import compute_once
from symexp.records import RecordKey, RecordStore
from symexp.seeding import stable_hash
from symexp.testset import TestSet, load_or_compute_test_set, slug

MODES = ("bo", "random", "bo_gp")
VERSIONED_PACKAGES = (
    "symexp", "smac", "ConfigSpace", "gplearn", "scikit-learn", "numpy", "scipy", "sympy",
    "xgboost-cpu", "pandas", "openml",
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class PDPSettings:
    """More than ``top_k`` hyperparameters (paper Section 4.1.3): explain the ``top_k`` most
    important ones (fANOVA on the GP) with the rest integrated out by partial dependence.
    Values come from the experiment config (``conf/experiment/pdp.yaml``)."""

    top_k: int                     # how many hyperparameters the formula explains
    n_background: int              # background samples of the other hyperparameters
    importance_points_per_dim: int  # grid for the fANOVA variance decomposition

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise SymexpError(f"pdp.top_k must be >= 1, got {self.top_k}")
        if self.n_background < 1:
            raise SymexpError(f"pdp.n_background must be >= 1, got {self.n_background}")
        if self.importance_points_per_dim < 2:
            raise SymexpError(f"pdp.importance_points_per_dim must be >= 2, got {self.importance_points_per_dim}")


@dataclass(frozen=True)
class CellSpec:
    """Everything one job needs; built from the Hydra config by ``experiments/``."""

    experiment: str
    model: str
    dataset: str
    protocol: str
    mode: str
    sampling_seed: int
    n_samples: tuple[int, ...]
    sr_seeds: tuple[int, ...]
    parsimony: tuple[float, ...]
    sr: Any  # symexp.symbolic.SRSettings (parsimony is set per fit)
    bo: Any  # symexp.sampling.BOSettings
    test_points_per_dim: int
    test_eval_seeds: tuple[int, ...]
    bo_gp_points: int
    store_dir: Path
    cache_dir: Path
    workdir: Path
    hyperparameters: tuple[str, ...] | None = None
    data_dir: Path | None = None
    linreg_log_features: bool = False
    n_jobs: int = 1
    config_hash: str = ""
    pdp: PDPSettings | None = None


@dataclass
class CellReport:
    written: list[Path] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[RecordKey, str]] = field(default_factory=list)
    n_trainings: int = 0
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# validation and planning
# ----------------------------------------------------------------------------------------------

def validate_spec(spec: CellSpec):
    """Check the whole specification before any compute; return the benchmark.

    Raises :class:`SymexpError` with a one-line message on the first problem.
    """
    from symexp.benchmarks import make_benchmark

    if spec.mode not in MODES:
        raise unknown_choice("mode", spec.mode, MODES)
    if not spec.n_samples:
        raise SymexpError("n_samples is empty; give at least one training-set size")
    if not spec.sr_seeds:
        raise SymexpError("sr_seeds is empty; give at least one SR seed")
    check_parsimony(spec.parsimony)
    for n in spec.n_samples:
        if int(n) != n or n < 1:
            raise SymexpError(f"n_samples must be positive integers, got {n!r}")
    if spec.mode in ("bo", "bo_gp"):
        too_big = [n for n in spec.n_samples if n > spec.bo.n_trials]
        if too_big:
            raise SymexpError(
                f"n_samples {too_big} larger than the BO budget bo.n_trials={spec.bo.n_trials}; "
                f"valid: 1..{spec.bo.n_trials}"
            )
    if spec.mode == "bo_gp":
        no_snap = [n for n in spec.n_samples if n not in spec.bo.snapshot_sizes]
        if no_snap:
            raise SymexpError(
                f"mode bo_gp needs a GP snapshot for every n; n_samples {no_snap} not in "
                f"bo.snapshot_sizes={list(spec.bo.snapshot_sizes)}"
            )
    if spec.test_points_per_dim < 1:
        raise SymexpError(f"test_set.points_per_dim must be >= 1, got {spec.test_points_per_dim}")
    if spec.bo_gp_points < 1:
        raise SymexpError(f"bo_gp.n_points must be >= 1, got {spec.bo_gp_points}")
    if spec.n_jobs < 1:
        raise SymexpError(f"n_jobs must be >= 1 (or auto), got {spec.n_jobs}")
    bench = make_benchmark(
        model=spec.model,
        dataset=spec.dataset,
        protocol=spec.protocol,
        hyperparameters=list(spec.hyperparameters) if spec.hyperparameters else None,
        data_dir=spec.data_dir,
        cache_dir=spec.cache_dir / "evaluations",
    )
    bench.space.require_numerical("symbolic regression")
    if spec.pdp is not None:
        if spec.mode != "bo_gp":
            raise SymexpError(f"pdp (explaining the top-k of many hyperparameters) needs mode bo_gp, got mode {spec.mode}")
        if bench.space.dim <= spec.pdp.top_k:
            raise SymexpError(f"pdp.top_k={spec.pdp.top_k} but the space has only {bench.space.dim} hyperparameters "
                              f"({', '.join(bench.space.names)}); drop pdp or explain more hyperparameters")
    # Settings objects validate themselves when built; re-check parsimony through them.
    for p in spec.parsimony:
        dataclasses.replace(spec.sr, parsimony_coefficient=float(p))
    return bench


def check_parsimony(values: Sequence[float]) -> None:
    """Parsimony coefficients: a non-empty list of numbers > 0."""
    if not values:
        raise SymexpError("parsimony is empty; give at least one parsimony coefficient")
    for p in values:
        if isinstance(p, bool) or not isinstance(p, int | float) or not p > 0:
            raise SymexpError(f"parsimony must be > 0, got {p!r}")


def planned_keys(spec: CellSpec) -> list[RecordKey]:
    """All records this cell writes, in a stable order."""
    keys = []
    base = dict(experiment=spec.experiment, model=spec.model, dataset=spec.dataset,
                protocol=spec.protocol, sampling_seed=spec.sampling_seed)
    for n in spec.n_samples:
        for sr_seed in spec.sr_seeds:
            for p in spec.parsimony:
                keys.append(RecordKey(method=f"sr_{spec.mode}", n_samples=n, sr_seed=sr_seed,
                                      parsimony=float(p), **base))
        if spec.mode == "bo_gp" and spec.pdp is None:
            keys.append(RecordKey(method="gp_baseline", n_samples=n, **base))
            keys.append(RecordKey(method="linear_regression", n_samples=n, **base))
    return keys


def package_versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Stopwatch:
    """Wall and CPU seconds of a block, accumulated under a stage name."""

    def __init__(self, timings: dict[str, dict[str, float]], stage: str):
        self.timings, self.stage = timings, stage

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        t = self.timings.setdefault(self.stage, {"wall_s": 0.0, "cpu_s": 0.0})
        t["wall_s"] += time.perf_counter() - self.w0
        t["cpu_s"] += time.process_time() - self.c0
        return False


# ----------------------------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------------------------

def bo_run_path(spec: CellSpec, bench_key: str) -> Path:
    settings = dataclasses.asdict(spec.bo)
    return spec.cache_dir / "bo" / slug(bench_key) / f"seed{spec.sampling_seed}-{stable_hash(bench_key, settings)}.json"


@dataclass(frozen=True)
class TolerantObjective:
    """``bench.evaluate`` for SMAC, with a failed training (exception, NaN) returned as NaN:
    SMAC's worker then records the trial as crashed and the run goes on. Picklable."""

    bench: Any

    def __call__(self, config: dict[str, Any], seed: int) -> float:
        from symexp.benchmarks import EvaluationError

        try:
            return self.bench.evaluate(config, seed)
        except EvaluationError:
            return float("nan")

    @property
    def n_trainings(self) -> int:
        return self.bench.n_trainings


def load_or_run_bo(spec: CellSpec, bench, log: Log):
    """The BO run of this (benchmark, seed, settings): from the cache, or run once under a lock."""
    from symexp.sampling import BORun, run_bo

    path = bo_run_path(spec, bench.key)
    trainings = 0

    def compute() -> dict:
        nonlocal trainings
        log(f"  BO: running SMAC ({spec.bo.n_trials} trials, seed {spec.sampling_seed})")
        run = run_bo(TolerantObjective(bench), bench.space, spec.bo, spec.sampling_seed, spec.workdir / "smac")
        trainings = run.objective_trainings or 0
        return run.to_json()

    data, computed = compute_once(path, compute)
    if not computed:
        log(f"  BO: reusing cached run {path.name}")
    return BORun.from_json(data), trainings


@dataclass
class TrainingSet:
    """What the fits for one n need: training data, the test data they are scored on, and
    the names (and log flags) of the hyperparameters the formula is written in."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    names: list[str]
    log_features: list[bool]
    gp: Any = None  # GP snapshot for bo_gp
    warnings: list[str] = field(default_factory=list)


def _drop_failed(X: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ok = np.isfinite(y)
    if ok.all():
        return X, y, []
    return X[ok], y[ok], [f"{int((~ok).sum())} of {len(y)} {what} evaluations failed and were dropped"]


def training_sets(spec: CellSpec, bench, test: TestSet, log: Log) -> tuple[dict[int, TrainingSet], int]:
    """One training set per requested n, and the trainings a BO run made in its worker process."""
    from symexp.sampling import bo_training_set, gp_for, gp_labels, random_configurations

    out: dict[int, TrainingSet] = {}
    X_test, y_test, test_warn = _drop_failed(test.X, test.y, "test-grid")
    shared = dict(X_test=X_test, y_test=y_test, names=bench.space.names,
                  log_features=[hp.log for hp in bench.space])
    if spec.mode == "random":
        n_max = max(spec.n_samples)
        # One draw of n_max points; smaller n are its prefixes, so sets are nested across n.
        X_all = random_configurations(bench.space, n_max, spec.sampling_seed)
        configs = bench.space.from_array(X_all)
        y_all = np.asarray(bench.evaluate_many(configs, spec.sampling_seed, n_jobs=spec.n_jobs, on_error="nan"),
                           dtype=float)
        for n in spec.n_samples:
            X, y, warn = _drop_failed(X_all[:n], y_all[:n], "random-sample")
            out[n] = TrainingSet(X, y, warnings=test_warn + warn, **shared)
        return out, 0

    run, bo_trainings = load_or_run_bo(spec, bench, log)
    for n in spec.n_samples:
        if spec.mode == "bo":
            X, y = bo_training_set(run, n)
            X, y, warn = _drop_failed(np.asarray(X, float), np.asarray(y, float), "BO")
            out[n] = TrainingSet(X, y, warnings=test_warn + warn, **shared)
        else:
            gp = gp_for(run, n)
            X, y = gp_labels(gp, bench.space, spec.bo_gp_points, spec.sampling_seed)
            out[n] = TrainingSet(np.asarray(X, float), np.asarray(y, float), gp=gp, warnings=list(test_warn), **shared)
    return out, bo_trainings


PDP_NOTE = ("test_rmse and train_rmse are against the GP's partial dependence on the top-k "
            "hyperparameters (others integrated out), not the true cost")


def pdp_artefact_path(spec: CellSpec, bench_key: str, n: int) -> Path:
    tag = stable_hash(bench_key, dataclasses.asdict(spec.bo), dataclasses.asdict(spec.pdp),
                      spec.test_points_per_dim, spec.bo_gp_points, spec.sampling_seed, n)
    return spec.cache_dir / "pdp" / slug(bench_key) / f"seed{spec.sampling_seed}-n{n}-{tag}.json"


def compute_pdp_artefact(spec: CellSpec, bench, gp, n: int) -> dict[str, Any]:
    """fANOVA importances on the GP mean, the top-k, their PD on the test grid and on random points."""
    from symexp.importance import fanova_importance
    from symexp.pdp import partial_dependence
    from symexp.seeding import derive_rng, derive_seed

    def gp_mean(X: np.ndarray) -> np.ndarray:
        return gp.predict(X)[0]

    shares = fanova_importance(gp_mean, bench.space, points_per_dim=spec.pdp.importance_points_per_dim)
    importances = {k: float(v) for k, v in shares.items() if isinstance(k, str)}
    top = sorted(importances, key=lambda k: (-importances[k], k))[: spec.pdp.top_k]
    sub = bench.space.subspace(top)
    background_seed = derive_seed("pdp_background", spec.sampling_seed, n)
    grid = sub.test_grid(spec.test_points_per_dim)
    _, pd_grid = partial_dependence(gp_mean, bench.space, top, grid=grid,
                                    n_background=spec.pdp.n_background, seed=background_seed)
    train_X = sub.sample(spec.bo_gp_points, derive_rng("pdp_train", spec.sampling_seed, n))
    _, train_y = partial_dependence(gp_mean, bench.space, top, grid=train_X,
                                    n_background=spec.pdp.n_background, seed=background_seed)
    return {
        "benchmark": bench.key, "model": spec.model, "dataset": spec.dataset, "protocol": spec.protocol,
        "sampling_seed": spec.sampling_seed, "n_samples": n, "hyperparameters": bench.space.names,
        "importances": importances, "top": top,
        "grid": np.asarray(grid).tolist(), "pd": np.asarray(pd_grid).tolist(),
        "train_X": np.asarray(train_X).tolist(), "train_y": np.asarray(train_y).tolist(),
    }


def pdp_training_sets(spec: CellSpec, bench, log: Log) -> tuple[dict[int, TrainingSet], int]:
    """Per n: SR data = random points of the top-k subspace labelled by the GP's PD (cached)."""
    from symexp.sampling import gp_for

    run, bo_trainings = load_or_run_bo(spec, bench, log)
    out: dict[int, TrainingSet] = {}
    for n in spec.n_samples:
        gp = gp_for(run, n)
        art, _ = compute_once(pdp_artefact_path(spec, bench.key, n), lambda: compute_pdp_artefact(spec, bench, gp, n))
        top = list(art["top"])
        shares = ", ".join(f"{k} {art['importances'][k]:.2f}" for k in sorted(art["importances"], key=lambda k: -art["importances"][k]))
        log(f"  n={n}: fANOVA importance on the GP: {shares}; explaining {', '.join(top)}")
        out[n] = TrainingSet(
            X=np.asarray(art["train_X"], float), y=np.asarray(art["train_y"], float),
            X_test=np.asarray(art["grid"], float), y_test=np.asarray(art["pd"], float),
            names=top, log_features=[bench.space[t].log for t in top], gp=gp, warnings=[PDP_NOTE],
        )
    return out, bo_trainings


# ----------------------------------------------------------------------------------------------
# SR fit (runs in a worker process)
# ----------------------------------------------------------------------------------------------

def fit_symbolic(sr_settings, sr_seed: int, parsimony: float, names: Sequence[str], log_features: Sequence[bool],
                 X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Fit one symbolic regression and score it; returns record fields (never raises)."""
    from symexp.symbolic import make_regressor

    w0, c0 = time.perf_counter(), time.process_time()
    try:
        settings = dataclasses.replace(sr_settings, parsimony_coefficient=float(parsimony))
        est = make_regressor(settings, int(sr_seed), list(names), list(log_features))
        est.fit(X, y, X_eval=X_test)  # guards of protected ops decided on training + test points
        fields = {
            "status": "ok",
            "test_rmse": rmse(y_test, est.predict(X_test)),
            "train_rmse": rmse(y, est.predict(X)),
            "complexity": int(est.complexity_),
            "formula": est.formula_,
            "formula_latex": est.latex_,
            "program": est.program_,
            "sr_timed_out": bool(est.timed_out_),
            "sr_engine": settings.engine,
        }
    except Exception as exc:  # a crashed fit is a result to record, not a reason to stop the cell
        fields = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    fields["timings"] = {"sr_fit": {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}}
    return fields


def _indexed(index: int, fn: Callable[..., dict[str, Any]], *args: Any) -> tuple[int, dict[str, Any]]:
    return index, fn(*args)


# ----------------------------------------------------------------------------------------------
# the cell
# ----------------------------------------------------------------------------------------------

def run_cell(spec: CellSpec, log: Log = print) -> CellReport:
    """Run one cell; see the module docstring. Returns what was written, skipped and failed."""
    bench = validate_spec(spec)
    store = RecordStore(spec.store_dir)
    keys = planned_keys(spec)
    todo = [k for k in keys if not store.exists(k)]
    report = CellReport(skipped=len(keys) - len(todo))
    cell = f"{spec.experiment}: {spec.model} / {spec.dataset} / {spec.mode} / seed {spec.sampling_seed}"
    if not todo:
        log(f"{cell}: all {len(keys)} records exist, nothing to do")
        return report
    log(f"{cell}: {len(todo)} of {len(keys)} records to compute ({report.skipped} exist)")

    timings = report.timings
    trainings_before = bench.n_trainings
    if spec.pdp is None:
        with Stopwatch(timings, "test_set"):
            test: TestSet = load_or_compute_test_set(bench, spec.test_points_per_dim, spec.test_eval_seeds,
                                                     spec.cache_dir, n_jobs=spec.n_jobs)
        log(f"  test set: {len(test.y)} grid points x {len(test.eval_seeds)} seeds "
            f"({'computed' if test.computed_here else 'from cache'}, {timings['test_set']['wall_s']:.1f} s)")
        with Stopwatch(timings, "sampling"):
            sets, bo_trainings = training_sets(spec, bench, test, log)
    else:
        with Stopwatch(timings, "sampling"):
            sets, bo_trainings = pdp_training_sets(spec, bench, log)
    log(f"  training sets: n = {list(sets)} ({timings['sampling']['wall_s']:.1f} s)")
    report.n_trainings = bench.n_trainings - trainings_before + bo_trainings
    versions = package_versions()

    def write(key: RecordKey, fields: dict[str, Any]) -> None:
        ts = sets[key.n_samples]
        rec = {"hyperparameters": ts.names, "mode": spec.mode, "versions": versions,
               "config_hash": spec.config_hash}
        rec.update(fields)
        rec["n_train_points"] = int(len(ts.y))
        rec["n_trainings"] = report.n_trainings
        stage_timings = {k: dict(v) for k, v in timings.items()}
        stage_timings.update(fields.get("timings", {}))
        rec["timings"] = stage_timings
        rec["warnings"] = ts.warnings or None
        store.write(key, rec)
        report.written.append(store.path(key))
        if rec.get("status") != "ok":
            report.failed.append((key, rec.get("error") or "unknown"))

    # Baselines (bo_gp): cheap, written first.
    for key in todo:
        ts = sets[key.n_samples]
        if key.method == "gp_baseline":
            with Stopwatch(timings, "gp_baseline"):
                mean, _ = ts.gp.predict(ts.X_test)
                fields = {"status": "ok", "test_rmse": rmse(ts.y_test, mean), "train_rmse": None}
            write(key, fields)
        elif key.method == "linear_regression":
            with Stopwatch(timings, "linear_regression"):
                lin = LinearBaseline(ts.log_features if spec.linreg_log_features else None).fit(ts.X, ts.y)
                fields = {"status": "ok", "test_rmse": rmse(ts.y_test, lin.predict(ts.X_test)),
                          "train_rmse": rmse(ts.y, lin.predict(ts.X))}
            write(key, fields)

    # Largest training sets first (longest fits first keeps both workers busy to the end), and
    # each record written the moment its fit ends, whatever the order.
    sr_keys = sorted((k for k in todo if k.method.startswith("sr_")), key=lambda k: -len(sets[k.n_samples].y))
    if sr_keys:
        log(f"  symbolic regression: {len(sr_keys)} fits on {min(spec.n_jobs, len(sr_keys))} process(es)")
        with Stopwatch(timings, "sr_total"):
            jobs = (
                delayed(_indexed)(j, fit_symbolic, spec.sr, k.sr_seed, k.parsimony, sets[k.n_samples].names,
                                  sets[k.n_samples].log_features, sets[k.n_samples].X, sets[k.n_samples].y,
                                  sets[k.n_samples].X_test, sets[k.n_samples].y_test)
                for j, k in enumerate(sr_keys)
            )
            results = Parallel(n_jobs=min(spec.n_jobs, len(sr_keys)), return_as="generator_unordered")(jobs)
            for i, (j, fields) in enumerate(results, start=1):
                key = sr_keys[j]
                write(key, fields)
                status = (f"test RMSE {fields['test_rmse']:.4f}  ops {fields['complexity']}  {fields['formula']}"
                          if fields["status"] == "ok" else f"FAILED: {fields['error']}")
                log(f"  [{i}/{len(sr_keys)}] n={key.n_samples} sr_seed={key.sr_seed} p={key.parsimony:g}: {status}")
    return report


def default_n_jobs() -> int:
    """CPUs this process may use (respects SLURM/cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
