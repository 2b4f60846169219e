"""The shared test set: true cost on a grid over the explained hyperparameters.

Computed once per (benchmark, grid, evaluation seeds) and stored in the cache, so that every
method, mode, script and job scores against the same numbers (the paper's code drew a fresh
test set in every script). Concurrent jobs that need it compute it once (a file lock).

A grid point's true cost is the mean over the evaluation seeds that trained; a grid point on
which no evaluation succeeded makes the test set unusable (:class:`TestSetError`): nothing is
stored, and the job stops with the points named. A stored test set that does not parse or has
holes is set aside and computed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from symexp.errors import SymexpError
from symexp.store.once import compute_once
from symexp.seeding import stable_hash
from symexp.benchmarks.space import SearchSpace


class EvaluatesMany(Protocol):
    key: str
    space: SearchSpace

    def evaluate_many(self, configs, seeds, n_jobs: int = 1) -> np.ndarray: ...


@dataclass(frozen=True)
class TestSet:
    """Grid points ``X`` (m, d) in raw units and their mean true cost ``y`` (m,)."""

    X: np.ndarray
    y: np.ndarray
    costs: np.ndarray  # (m, n_seeds): one column per evaluation seed
    eval_seeds: tuple[int, ...]
    computed_here: bool
    path: Path | None = None  # the cache file

    __test__ = False  # not a pytest class


class TestSetError(RuntimeError):
    """Some grid point has no successful evaluation: there is no true cost to score against."""

    __test__ = False


TEST_SET_DIR = "testsets"


def test_set_path(cache_dir: Path, bench_key: str, points_per_dim: int, eval_seeds: tuple[int, ...]) -> Path:
    tag = stable_hash(bench_key, points_per_dim, list(eval_seeds))
    return Path(cache_dir) / TEST_SET_DIR / f"{slug(bench_key)}-grid{points_per_dim}-{tag}.json"


def test_set_files(cache_dir: Path, bench_prefix: str) -> list[Path]:
    """The test-set files in the cache of every benchmark whose key starts with ``bench_prefix``
    (e.g. ``"lr/australian/hpobench/"``), as :func:`test_set_path` names them."""
    from symexp.store.once import artefact_files

    return artefact_files(Path(cache_dir) / TEST_SET_DIR, "*.json", slug(bench_prefix))


def slug(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def compute_test_set(bench: EvaluatesMany, points_per_dim: int, eval_seeds: tuple[int, ...], n_jobs: int = 1) -> dict:
    """Evaluate every grid point under every evaluation seed; JSON-ready dict."""
    X = bench.space.test_grid(points_per_dim)
    configs = bench.space.from_array(X)
    paired_configs = [c for c in configs for _ in eval_seeds]
    paired_seeds = [s for _ in configs for s in eval_seeds]
    costs = np.asarray(bench.evaluate_many(paired_configs, paired_seeds, n_jobs=n_jobs, on_error="nan"), dtype=float)
    costs = costs.reshape(len(configs), len(eval_seeds))
    # A failed training is NaN; a grid point's cost is the mean of the seeds that trained.
    ok = np.isfinite(costs)
    dead = np.flatnonzero(~ok.any(axis=1))
    if len(dead):
        shown = "; ".join(str(configs[i]) for i in dead[:3]) + (" ..." if len(dead) > 3 else "")
        raise TestSetError(f"test set of {bench.key}: {len(dead)} of {len(configs)} grid point(s) have no successful "
                           f"evaluation under any of the {len(eval_seeds)} evaluation seeds ({shown}); not storing it")
    y = np.nansum(np.where(ok, costs, 0.0), axis=1) / ok.sum(axis=1)
    return {
        "benchmark": bench.key,
        "hyperparameters": bench.space.names,
        "points_per_dim": points_per_dim,
        "eval_seeds": list(eval_seeds),
        "X": X.tolist(),
        "costs": [[float(v) if np.isfinite(v) else None for v in row] for row in costs],
        "y": [float(v) for v in y],
    }


def test_set_problem(data: object) -> str | None:
    """Why a stored test set cannot be used (``None`` if it can)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    missing = [k for k in ("X", "y", "costs", "eval_seeds") if k not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    if not (len(data["X"]) == len(data["y"]) == len(data["costs"])) or not data["y"]:
        return f"{len(data['X'])} grid points but {len(data['y'])} costs"
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in data["y"]):
        return "a grid point without a true cost"
    return None


def load_or_compute_test_set(
    bench: EvaluatesMany,
    points_per_dim: int,
    eval_seeds: tuple[int, ...] | list[int],
    cache_dir: str | Path,
    n_jobs: int = 1,
    log=None,
) -> TestSet:
    """The test set of ``bench`` from the cache, computing it (once, under a lock) if absent."""
    eval_seeds = tuple(int(s) for s in eval_seeds)
    if not eval_seeds:
        raise SymexpError("test_set.eval_seeds is empty; give at least one evaluation seed")
    path = test_set_path(Path(cache_dir), bench.key, points_per_dim, eval_seeds)
    kwargs = {} if log is None else {"log": log}  # where a damaged file is reported (default: stderr)
    data, computed = compute_once(path, lambda: compute_test_set(bench, points_per_dim, eval_seeds, n_jobs),
                                  validate=test_set_problem, **kwargs)
    return TestSet(
        X=np.asarray(data["X"], dtype=float),
        y=np.asarray(data["y"], dtype=float),
        costs=np.array([[np.nan if v is None else v for v in row] for row in data["costs"]], dtype=float),
        eval_seeds=tuple(data["eval_seeds"]),
        computed_here=computed,
        path=path,
    )
