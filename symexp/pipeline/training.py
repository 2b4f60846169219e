"""A cell's training sets: BO trajectory, random sample, GP labels or PD labels, per sample size.

Everything shared between cells is a cache artefact computed once across processes
(:func:`symexp.store.once.compute_once`): the BO run of (benchmark, seed, BO settings), the PD
artefact of (benchmark, seed, n, settings); evaluations are cached per configuration by the
benchmark. A damaged artefact is set aside and recomputed; a failure is never stored.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symexp.pipeline.spec import CellSpec
from symexp.seeding import stable_hash
from symexp.store.once import artefact_files, compute_once, read_checked
from symexp.benchmarks.testset import TestSet, slug

Log = Callable[[str], None]

PDP_NOTE = ("test_rmse and train_rmse are against the GP's partial dependence on the top-k "
            "hyperparameters (others integrated out), not the true cost")


@dataclass
class TrainingSet:
    """What the fits for one n need: training data, the test data they are scored on, and
    the names (and log flags) of the hyperparameters the formula is written in.

    ``X`` (m, d) raw units, ``y`` (m,); ``X_test`` (k, d), ``y_test`` (k,); ``artefacts``: the
    cache files (relative to the cache root) the set was made from."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    names: list[str]
    log_features: list[bool]
    gp: Any = None  # GP snapshot for bo_gp
    warnings: list[str] = field(default_factory=list)
    artefacts: dict[str, str] = field(default_factory=dict)


# -- BO ----------------------------------------------------------------------------------------

def bo_run_settings(spec: CellSpec, bench, n: int | None = None):
    """Settings of the SMAC run that gives the training set of size ``n`` (``None``: the main run);
    see :meth:`symexp.sampling.BOSettings.run_settings`."""
    return spec.bo.run_settings(bench.space.dim, n)


def bo_runs_needed(spec: CellSpec, bench) -> dict[int, Any]:
    """Per planned sample size, the settings of the SMAC run its training set comes from."""
    return {int(n): bo_run_settings(spec, bench, n) for n in spec.n_samples}


def bo_run_path(spec: CellSpec, bench_key: str, settings) -> Path:
    """Cache file of one SMAC run (benchmark, seed, the run's own settings)."""
    return spec.cache_dir / "bo" / slug(bench_key) / f"seed{spec.sampling_seed}-{stable_hash(bench_key, settings.to_json())}.json"


def bo_run_files(cache_dir: Path, bench_prefix: str, sampling_seed: int) -> list[Path]:
    """The cached BO runs of one sampling seed of every benchmark whose key starts with
    ``bench_prefix``, as :func:`bo_run_path` names them."""
    return artefact_files(Path(cache_dir) / "bo", f"*/seed{sampling_seed}-*.json", slug(bench_prefix))


@dataclass(frozen=True)
class TolerantObjective:
    """``bench.evaluate`` for SMAC, with a failed training (exception, NaN) returned as NaN:
    SMAC's worker then records the trial as crashed and the run goes on. Picklable.

    Only the model's own failures become NaN; a failure of the environment (bad data, out of
    memory, disk full) propagates and ends the BO run without caching anything."""

    bench: Any
    #: every evaluation is in the evaluation cache: a replayed BO checkpoint is checked against it
    verifies_replay = True

    def __call__(self, config: dict[str, Any], seed: int) -> float:
        from symexp.benchmarks import EvaluationError

        try:
            return self.bench.evaluate(config, seed)
        except EvaluationError:
            return float("nan")

    @property
    def n_trainings(self) -> int:
        return self.bench.n_trainings


def bo_run_problem(data: Any) -> str | None:
    """Why a stored BO run cannot be used (``None`` if it can)."""
    from symexp.sampling import BORun

    try:
        run = BORun.from_json(data)
    except Exception as exc:  # noqa: BLE001 - any malformed content
        return f"not a BO run: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if len(run.X) != run.settings.n_trials:
        return f"{len(run.X)} evaluations, expected {run.settings.n_trials}"
    return None


class ArtefactMissing(RuntimeError):
    """A shared artefact this work needs is not in the cache, and this work may not compute it
    (it belongs to an earlier job that failed, was cancelled, or is still running)."""


def load_or_run_bo(spec: CellSpec, bench, log: Log, *, settings=None, compute: bool = True,
                   lock_timeout: float = -1):
    """One SMAC run of this (benchmark, seed): from the cache, or run once under a lock.

    ``settings``: the run's own settings (:func:`bo_run_settings`; default the main run).
    Returns ``(run, trainings, path)``; ``trainings`` counts the model trainings made here.
    ``compute=False``: never run SMAC here; a run missing from the cache raises
    :class:`ArtefactMissing`. ``lock_timeout``: seconds to wait for another process computing
    the same run (-1: as long as it takes); after that ``filelock.Timeout`` is raised."""
    from symexp.sampling import BORun, run_bo

    if settings is None:
        settings = bo_run_settings(spec, bench)
    path = bo_run_path(spec, bench.key, settings)
    trainings = 0
    if not compute:
        data, problem = read_checked(path, bo_run_problem)
        if data is None:
            raise ArtefactMissing(f"BO run {path} is {'damaged (' + problem + ')' if problem else 'not in the cache'}; "
                                  "it is computed by an earlier job (failed, cancelled or still running?)")
        return BORun.from_json(data), 0, path

    def compute() -> dict:
        nonlocal trainings
        log(f"  BO: running SMAC ({settings.n_trials} trials, seed {spec.sampling_seed}, selection {settings.selection})")
        # Every finished trial is appended to a checkpoint beside the artefact: a run that dies late
        # (killed, out of time) is replayed up to there by the next job instead of starting over.
        started = time.monotonic()

        def progress(done: int, n_trials: int, best: float | None) -> None:
            shown = "none yet" if best is None else f"{best:.4f}"
            log(f"  BO: {done} of {n_trials} trials, best cost {shown} ({(time.monotonic() - started) / 60:.1f} min)")

        run = run_bo(TolerantObjective(bench), bench.space, settings, spec.sampling_seed, spec.workdir / "smac",
                     checkpoint=path.with_suffix(".checkpoint.jsonl"), progress=progress)
        if run.replay and run.replay.get("replayed"):
            log(f"  BO: resumed from its checkpoint: {run.replay['replayed']} trial(s) replayed without training")
        if run.replay and run.replay.get("cost_mismatch_at") is not None:
            log(f"  BO: checkpoint replay stopped at trial {run.replay['cost_mismatch_at']}: its cost disagrees with "
                f"the evaluation cache; continued with true costs, checkpoint set aside as {run.replay['set_aside']}")
        elif run.replay and run.replay.get("garbled"):
            log(f"  BO: damaged checkpoint ({run.replay['garbled']}), set aside as {run.replay['set_aside']}")
        trainings = run.objective_trainings or 0
        return run.to_json()

    data, computed = compute_once(path, compute, validate=bo_run_problem, log=log, timeout=lock_timeout)
    if not computed:
        log(f"  BO: reusing cached run {path.name}")
    return BORun.from_json(data), trainings, path


def _bo_runs(spec: CellSpec, bench, log: Log, compute: bool) -> dict[int, tuple[Any, int, Path]]:
    """Per planned n, ``(run, trainings, path)`` of the SMAC run its training set comes from;
    each run is loaded (or computed) once, and ``trainings`` counted once per run."""
    loaded: dict[Path, tuple[Any, int, Path]] = {}
    out = {}
    for n, settings in bo_runs_needed(spec, bench).items():
        path = bo_run_path(spec, bench.key, settings)
        if path not in loaded:
            loaded[path] = load_or_run_bo(spec, bench, log, settings=settings, compute=compute)
            out[n] = loaded[path]
        else:
            run, _, p = loaded[path]
            out[n] = (run, 0, p)
    return out


# -- training sets -------------------------------------------------------------------------------

def _drop_failed(X: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ok = np.isfinite(y)
    if ok.all():
        return X, y, []
    return X[ok], y[ok], [f"{int((~ok).sum())} of {len(y)} {what} evaluations failed and were dropped"]


def training_sets(spec: CellSpec, bench, test: TestSet, log: Log, *, compute_bo: bool = True,
                  ) -> tuple[dict[int, TrainingSet], int]:
    """One training set per requested n, and the trainings a BO run made in its worker process.

    ``compute_bo=False``: the BO run must be in the cache (:class:`ArtefactMissing` otherwise)."""
    from symexp.sampling import bo_training_set, gp_for, gp_labels, random_configurations

    out: dict[int, TrainingSet] = {}
    shared = dict(X_test=test.X, y_test=test.y, names=bench.space.names,
                  log_features=[hp.log for hp in bench.space])
    test_art = {"test_set": str(test.path.relative_to(spec.cache_dir))} if test.path else {}
    if spec.mode == "random":
        n_max = max(spec.n_samples)
        # One draw of n_max points; smaller n are its prefixes, so sets are nested across n.
        X_all = random_configurations(bench.space, n_max, spec.sampling_seed)
        configs = bench.space.from_array(X_all)
        y_all = np.asarray(bench.evaluate_many(configs, spec.sampling_seed, n_jobs=spec.n_jobs, on_error="nan"),
                           dtype=float)
        for n in spec.n_samples:
            X, y, warn = _drop_failed(X_all[:n], y_all[:n], "random-sample")
            out[n] = TrainingSet(X, y, warnings=warn, artefacts=dict(test_art), **shared)
        return out, 0

    runs = _bo_runs(spec, bench, log, compute_bo)
    bo_trainings = sum(trainings for _, trainings, _ in runs.values())
    for n in spec.n_samples:
        run, _, path = runs[n]
        arts = {**test_art, "bo_run": str(path.relative_to(spec.cache_dir))}
        if spec.mode == "bo":
            X, y = bo_training_set(run, n)
            X, y, warn = _drop_failed(np.asarray(X, float), np.asarray(y, float), "BO")
            out[n] = TrainingSet(X, y, warnings=warn, artefacts=dict(arts), **shared)
        else:
            gp = gp_for(run, n)
            X, y = gp_labels(gp, bench.space, spec.bo_gp_points, spec.sampling_seed)
            out[n] = TrainingSet(np.asarray(X, float), np.asarray(y, float), gp=gp, artefacts=dict(arts), **shared)
    return out, bo_trainings


# -- PD (more hyperparameters than the formula explains) ------------------------------------------

def pdp_artefact_path(spec: CellSpec, bench, n: int) -> Path:
    bench_key = bench.key
    tag = stable_hash(bench_key, bo_run_settings(spec, bench, n).to_json(), dataclasses.asdict(spec.pdp),
                      spec.test_points_per_dim, spec.bo_gp_points, spec.sampling_seed, n)
    return spec.cache_dir / "pdp" / slug(bench_key) / f"seed{spec.sampling_seed}-n{n}-{tag}.json"


def pdp_artefact_files(cache_dir: Path) -> list[Path]:
    """Every PD artefact in the cache, as :func:`pdp_artefact_path` names them."""
    return artefact_files(Path(cache_dir) / "pdp", "*/*.json")


def pdp_artefact_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    missing = [k for k in ("importances", "top", "grid", "pd", "train_X", "train_y") if k not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    if len(data["grid"]) != len(data["pd"]) or len(data["train_X"]) != len(data["train_y"]):
        return "grid and PD (or training points and labels) differ in length"
    if any(v is None for v in data["pd"]) or any(v is None for v in data["train_y"]):
        return "non-finite partial dependence"
    return None


def compute_pdp_artefact(spec: CellSpec, bench, gp, n: int) -> dict[str, Any]:
    """fANOVA importances on the GP mean, the top-k, their PD on the test grid and on random points."""
    from symexp.sampling.importance import fanova_importance
    from symexp.sampling.pdp import partial_dependence
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


def pdp_training_sets(spec: CellSpec, bench, log: Log, *, compute_bo: bool = True,
                      ) -> tuple[dict[int, TrainingSet], int]:
    """Per n: SR data = random points of the top-k subspace labelled by the GP's PD (cached).

    ``compute_bo=False``: the BO run must be in the cache (:class:`ArtefactMissing` otherwise)."""
    from symexp.sampling import gp_for

    runs = _bo_runs(spec, bench, log, compute_bo)
    bo_trainings = sum(trainings for _, trainings, _ in runs.values())
    out: dict[int, TrainingSet] = {}
    for n in spec.n_samples:
        run, _, run_path = runs[n]
        gp = gp_for(run, n)
        path = pdp_artefact_path(spec, bench, n)
        art, _ = compute_once(path, lambda: compute_pdp_artefact(spec, bench, gp, n),
                              validate=pdp_artefact_problem, log=log)
        top = list(art["top"])
        shares = ", ".join(f"{k} {art['importances'][k]:.2f}" for k in sorted(art["importances"], key=lambda k: -art["importances"][k]))
        log(f"  n={n}: fANOVA importance on the GP: {shares}; explaining {', '.join(top)}")
        out[n] = TrainingSet(
            X=np.asarray(art["train_X"], float), y=np.asarray(art["train_y"], float),
            X_test=np.asarray(art["grid"], float), y_test=np.asarray(art["pd"], float),
            names=top, log_features=[bench.space[t].log for t in top], gp=gp, warnings=[PDP_NOTE],
            artefacts={"bo_run": str(run_path.relative_to(spec.cache_dir)),
                       "pdp": str(path.relative_to(spec.cache_dir))},
        )
    return out, bo_trainings
