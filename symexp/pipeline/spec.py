"""What one job computes (:class:`CellSpec`) and its validation before any work.

A *cell* is one (model, dataset, protocol, mode, sampling seed) with its sample sizes, SR seeds,
parsimony coefficients and settings. :func:`validate_spec` checks all of it (and that the data
loads and the store and cache take files) before anything expensive runs, so a user error costs
nothing and writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symexp.errors import SymexpError, unknown_choice

MODES = ("bo", "random", "bo_gp")
MAX_SEED = 2**31 - 1  # seeds go to numpy, scikit-learn, xgboost and SMAC: all accept [0, 2**31 - 1)


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
    """Everything one job needs; built from the Hydra config by :mod:`symexp.app.config`.

    ``experiment`` only labels log lines: records do not belong to an experiment (see
    :mod:`symexp.store.records`). ``keep_failed``: do not recompute records whose fit failed.
    """

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
    pdp: PDPSettings | None = None
    keep_failed: bool = False
    split: str = "openml_folds"  # test rows without the task's split file (conf: split)

    @property
    def label(self) -> str:
        return f"{self.experiment}: {self.model} / {self.dataset} / {self.mode} / seed {self.sampling_seed}"


def check_parsimony(values: Sequence[float]) -> None:
    """Parsimony coefficients: a non-empty list of numbers > 0."""
    if not values:
        raise SymexpError("parsimony is empty; give at least one parsimony coefficient")
    for p in values:
        if isinstance(p, bool) or not isinstance(p, int | float) or not p > 0:
            raise SymexpError(f"parsimony must be > 0, got {p!r}")


def check_seed(name: str, value: Any) -> int:
    """A seed: an integer in [0, 2**31 - 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_SEED:
        raise SymexpError(f"{name} must be an integer in [0, {MAX_SEED}), got {value!r}")
    return int(value)


def check_writable_dir(path: Path, what: str, key: str) -> None:
    """Create ``path`` if needed and prove it takes files (one-line error otherwise)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise SymexpError(f"{what} {path} is not writable ({exc.strerror or exc}); pass a writable directory "
                          f"as {key}") from None


def validate_spec(spec: CellSpec, *, check_dirs: bool = True):
    """Check the whole specification before any compute; return the benchmark.

    Pure checks come first (so a typo writes nothing); then the data is loaded and checked
    (malformed data is the user's to fix, never a failed training); last, with ``check_dirs``,
    the store and the cache are created and probed for writing. Raises :class:`SymexpError`
    with a one-line message on the first problem.
    """
    from symexp.benchmarks import make_benchmark
    from symexp.store.records import RecordStore, check_store_format

    if spec.mode not in MODES:
        raise unknown_choice("mode", spec.mode, MODES)
    check_seed("sampling_seed", spec.sampling_seed)
    if not spec.n_samples:
        raise SymexpError("n_samples is empty; give at least one training-set size")
    if not spec.sr_seeds:
        raise SymexpError("sr_seeds is empty; give at least one SR seed")
    for s in spec.sr_seeds:
        check_seed("sr_seeds", s)
    check_parsimony(spec.parsimony)
    for n in spec.n_samples:
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise SymexpError(f"n_samples must be integers >= 2 (a formula needs at least 2 points), got {n!r}")
    if spec.mode in ("bo", "bo_gp"):
        too_big = [n for n in spec.n_samples if n > spec.bo.n_trials]
        if too_big:
            raise SymexpError(
                f"n_samples {too_big} larger than the BO budget bo.n_trials={spec.bo.n_trials}; "
                f"valid: 2..{spec.bo.n_trials}"
            )
    if spec.mode == "bo_gp":
        no_snap = [n for n in spec.n_samples if n not in spec.bo.snapshot_sizes]
        if no_snap:
            raise SymexpError(
                f"mode bo_gp needs a GP snapshot for every n; n_samples {no_snap} not in "
                f"bo.snapshot_sizes={list(spec.bo.snapshot_sizes)}"
            )
    for s in spec.test_eval_seeds:
        check_seed("test_set.eval_seeds", s)
    if not spec.test_eval_seeds:
        raise SymexpError("test_set.eval_seeds is empty; give at least one evaluation seed")
    if spec.test_points_per_dim < 1:
        raise SymexpError(f"test_set.points_per_dim must be >= 1, got {spec.test_points_per_dim}")
    if spec.bo_gp_points < 2:
        raise SymexpError(f"bo_gp.n_points must be >= 2, got {spec.bo_gp_points}")
    if spec.n_jobs < 1:
        raise SymexpError(f"n_jobs must be >= 1 (or auto), got {spec.n_jobs}")
    check_store_format(Path(spec.store_dir))
    bench = make_benchmark(
        model=spec.model,
        dataset=spec.dataset,
        protocol=spec.protocol,
        hyperparameters=list(spec.hyperparameters) if spec.hyperparameters else None,
        data_dir=spec.data_dir,
        cache_dir=spec.cache_dir / "evaluations",
        split=spec.split,
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
    bench.check_data()
    if check_dirs:
        RecordStore(spec.store_dir).ensure_writable()
        check_writable_dir(Path(spec.cache_dir), "cache directory", "paths.cache (or $SYMEXP_CACHE)")
    return bench
