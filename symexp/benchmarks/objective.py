"""Benchmarks: the HPOBench "BB" ML objective (:class:`MLBenchmark`) and a synthetic one.

A benchmark maps a configuration of the *explained* hyperparameters (the others stay at their
HPOBench defaults) and a seed to a cost, ``1 - validation accuracy``. Every cost is determined
by ``(benchmark key, protocol, fidelity, full configuration, seed)`` (full_config = the
explained values plus the defaults), so the same configuration and seed give a bitwise
identical cost in any process, and costs are cached on disk by that identity (:mod:`.cache`).
The benchmark key covers the model, dataset (and, offline, the SHA-256 of its CSV), protocol,
fidelity, split, explained hyperparameters and :data:`BENCHMARK_VERSION`.

Protocols
---------
``hpobench``
    HPOBench's behaviour (``hpobench/dependencies/ml/ml_benchmark_template.py``, the version
    with ``if eval == "valid"``, a comparison of the builtin ``eval`` that is always false): the
    model is fit on train + valid, on a bootstrap sample (drawn with replacement) of size
    ``int(max(subsample, lower_bound) * n)`` where ``lower_bound = max(1/512, 10 * n_classes /
    n_train)``; the cost is measured on the validation rows (which the model has mostly seen).

    Seeds, as in the authors' code: their BO calls ``objective_function(cfg, rng=seed)`` with
    SMAC's seed, and HPOBench turns an int ``rng`` into a fresh ``RandomState(seed)`` that
    initialises the model. So the model's ``random_state`` here is the evaluation's seed itself
    (one value for all configurations of a BO run, a random sample or a test-grid seed); this
    part of HPOBench is deterministic and reproduced exactly. XGBoost gets seed 0: in HPOBench's
    xgboost ``init_model`` an int ``rng`` becomes the benchmark's own seed, and ``None`` (random
    sampling and the test set, whose ``seed=`` argument HPOBench ignores) means xgboost's default 0.
    What is not reproducible in HPOBench is drawn from a per-evaluation seed
    ``derive_seed("evaluation", key, full_config, seed)`` instead: the bootstrap indices (HPOBench
    draws them from the benchmark's shared ``RandomState``, so they depend on the evaluation
    history and on an unseeded benchmark seed) and, for random sampling and the test set, nothing
    else. ``bench/bench_seeding.py`` measures what this choice changes.
``clean``
    Fit on the training rows only, no resampling (with a ``subsample < 1`` fidelity override,
    a subset drawn without replacement), cost on the validation rows; the model's seed is drawn
    from the per-evaluation seed.

Both protocols use the same split and preprocessing (:mod:`.split`).

Failures
--------
A training that raises or gives a non-finite cost on valid data is the model's failure on that
configuration (:class:`EvaluationError`: a result, recorded as failed, never cached). A failure
of the environment is not: unreadable or malformed data (:class:`~symexp.errors.SymexpError`,
raised before any training by :meth:`Benchmark.check_data`), running out of memory, an
operating-system error (disk full) or a killed worker propagate unchanged and fail the job.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symexp.benchmarks.cache import EvaluationCache, entry_id
from symexp.benchmarks.datasets import DatasetInfo, csv_path, dataset_info, file_sha256, resolve_data_dir
from symexp.benchmarks.models import INT_FIDELITIES, ML_MODELS, build_model, model_info
from symexp.benchmarks.split import PreparedData, check_split_method, get_prepared, split_description, split_source
from symexp.errors import SymexpError, unknown_choice
from symexp.seeding import derive_rng, derive_seed, stable_hash
from symexp.benchmarks.space import Numerical, SearchSpace

MODELS: tuple[str, ...] = (*ML_MODELS, "synthetic")
PROTOCOLS: tuple[str, ...] = ("hpobench", "clean")

# Bump when a change to this package changes costs: it is part of every benchmark key, so old
# cache entries are simply not found any more. 2: HPOBench's model seeding (model seed = the
# evaluation's seed, XGBoost 0) under protocol hpobench; dataset checksum in the key.
BENCHMARK_VERSION = 2

# Failures of the machine, not of the model: never turned into a failed evaluation.
ENVIRONMENT_ERRORS: tuple[type[BaseException], ...] = (MemoryError, OSError, ImportError)


class EvaluationError(RuntimeError):
    """A training crashed or produced a non-finite cost. Never cached."""

    def __init__(self, config: Mapping[str, Any], reason: str):
        super().__init__(dict(config), str(reason))
        self.config = dict(config)
        self.reason = str(reason)

    def __str__(self) -> str:
        return f"evaluation of {self.config} failed: {self.reason}"


class Benchmark:
    """Common machinery: validation, seeds, the cache, parallel evaluation, the training counter.

    Subclasses implement :meth:`_train` (one cache miss) and :attr:`split_info`.
    """

    model: str
    dataset: str
    protocol: str
    space: SearchSpace
    full_space: SearchSpace
    fidelity: dict[str, int | float]
    key: str

    def __init__(self, *, model: str, dataset: str, protocol: str, full_space: SearchSpace,
                 hyperparameters: Sequence[str], fidelity: Mapping[str, int | float],
                 key_parts: Mapping[str, Any], cache_dir: Path | None):
        self.model = model
        self.dataset = dataset
        self.protocol = protocol
        self.full_space = full_space
        self.space = full_space.subspace(list(hyperparameters))
        self.fidelity = dict(fidelity)
        digest = stable_hash(
            {"version": BENCHMARK_VERSION, "fidelity": self.fidelity, "hyperparameters": self.space.names, **key_parts},
            length=10,
        )
        self.key = f"{model}/{dataset}/{protocol}/{digest}"
        self.cache_dir = cache_dir
        self._cache = EvaluationCache(cache_dir, self.key)
        self._n_trainings = 0

    # -- pickling: cheap, no data, a fresh counter ---------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_n_trainings"] = 0
        state.pop("_data", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key} space=[{self.space.describe()}] fidelity={self.fidelity}>"

    # -- public API ------------------------------------------------------------------------------
    @property
    def n_trainings(self) -> int:
        """Trainings (cache misses, failed ones included) run by this process and its workers."""
        return self._n_trainings

    @property
    def split_info(self) -> dict[str, Any]:
        raise NotImplementedError

    def full_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``config`` (explained hyperparameters only) and fill in the defaults."""
        if not isinstance(config, Mapping):
            raise SymexpError(f"a configuration must be a mapping of {', '.join(self.space.names)}, got {type(config).__name__}")
        explained = self.space.validate(config)
        return self.full_space.validate({**self.full_space.defaults(), **explained})

    def evaluate(self, config: Mapping[str, Any], seed: int) -> float:
        """Cost (1 - validation accuracy) of ``config`` with ``seed``; cached."""
        full = self.full_config(config)
        seed = _check_seed(seed)
        eid = entry_id(self.key, self.protocol, self.fidelity, full, seed)
        try:
            cost, trained = self._cache.get_or_compute(eid, self._entry_fields(full, seed), self._trainer(full, seed))
        except EvaluationError:
            self._n_trainings += 1
            raise
        self._n_trainings += int(trained)
        return cost

    def evaluate_many(self, configs: Sequence[Mapping[str, Any]], seeds: int | Sequence[int], n_jobs: int = 1,
                      on_error: str = "raise") -> np.ndarray:
        """Costs of ``configs`` (shape ``(len(configs),)``); cache misses run in parallel.

        ``seeds``: one int for all configurations, or a sequence paired with ``configs``.
        ``n_jobs``: worker processes for the misses (:mod:`symexp.parallel`: they die with this
        process); ``-1`` = all cores.
        ``on_error``: ``"raise"`` raises the first :class:`EvaluationError` after every other
        evaluation has finished (and been cached); ``"nan"`` returns NaN for failed ones.
        Everything is validated before any work.
        """
        configs = list(configs)
        if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
            seed_list = [int(seeds)] * len(configs)
        elif isinstance(seeds, Sequence | np.ndarray) and not isinstance(seeds, str):
            seed_list = list(seeds)
            if len(seed_list) != len(configs):
                raise SymexpError(f"got {len(seed_list)} seeds for {len(configs)} configurations; give one int or one seed per configuration")
        else:
            raise SymexpError(f"seeds must be an int or a sequence of ints, got {type(seeds).__name__}")
        seed_list = [_check_seed(s) for s in seed_list]
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or not (n_jobs >= 1 or n_jobs == -1):
            raise SymexpError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
        if on_error not in ("raise", "nan"):
            raise unknown_choice("on_error", on_error, ("raise", "nan"))
        fulls = [self.full_config(c) for c in configs]

        eids = [entry_id(self.key, self.protocol, self.fidelity, f, s) for f, s in zip(fulls, seed_list)]
        costs: dict[str, float] = {}
        misses: dict[str, tuple[dict[str, Any], int]] = {}
        for eid, full, seed in zip(eids, fulls, seed_list):
            if eid in costs or eid in misses:
                continue
            hit = self._cache.get(eid)
            if hit is None:
                misses[eid] = (full, seed)
            else:
                costs[eid] = hit

        errors: dict[str, EvaluationError] = {}
        if misses:
            from symexp.parallel import imap_unordered  # noqa: PLC0415

            n_workers = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
            tasks = [(self, eid, full, seed) for eid, (full, seed) in misses.items()]
            for eid, cost, trained, error in imap_unordered(_run_one, tasks, n_workers):
                self._n_trainings += int(trained)
                if error is not None:
                    errors[eid] = error
                else:
                    costs[eid] = cost
                    self._cache.put_memory(eid, cost)
        if errors and on_error == "raise":
            raise next(iter(errors.values()))
        return np.array([costs.get(eid, math.nan) for eid in eids], dtype=float)

    # -- internals -------------------------------------------------------------------------------
    def _entry_fields(self, full: Mapping[str, Any], seed: int) -> dict[str, Any]:
        return {"benchmark": self.key, "protocol": self.protocol, "fidelity": self.fidelity,
                "config": dict(full), "seed": int(seed)}

    def check_data(self) -> None:
        """Load (and check) whatever the benchmark trains on; raise :class:`SymexpError` if unusable.

        Called before the first training, so that bad data is reported as such and never becomes a
        failed evaluation (or a cached NaN)."""

    def _trainer(self, full: dict[str, Any], seed: int):
        def run() -> tuple[float, float]:
            self.check_data()  # outside the try: a data problem is not the model's failure
            try:
                cost, seconds = self._train(full, seed)
            except ENVIRONMENT_ERRORS:
                raise
            except Exception as exc:  # a model that crashes is a failed evaluation, not a bug here
                raise EvaluationError(full, f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
            if not (isinstance(cost, float) and math.isfinite(cost)):
                raise EvaluationError(full, f"non-finite cost {cost!r}")
            return cost, seconds

        return run

    def _evaluation_seed(self, full: Mapping[str, Any], seed: int) -> int:
        return derive_seed("evaluation", self.key, dict(full), int(seed))

    def _model_seed(self, seed: int, rng: np.random.Generator) -> int:
        """The model's ``random_state``: HPOBench's under ``hpobench`` (see the module docstring)."""
        if self.protocol == "hpobench":
            return 0 if self.model == "xgb" else int(seed) % 2**32
        return int(rng.integers(0, 2**31 - 1))

    def _train(self, full: dict[str, Any], seed: int) -> tuple[float, float]:
        """Run one evaluation: ``(cost, fit_seconds)``; raise :class:`EvaluationError` on failure."""
        raise NotImplementedError


def _run_one(bench: Benchmark, eid: str, full: dict[str, Any], seed: int):
    """One cache miss (in this process or a worker process): ``(eid, cost, trained, error)``."""
    try:
        cost, trained = bench._cache.get_or_compute(eid, bench._entry_fields(full, seed), bench._trainer(full, seed))
    except EvaluationError as e:
        return eid, None, True, e
    return eid, cost, trained, None


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise SymexpError(f"seed must be an int, got {seed!r}")
    return int(seed)


# ----------------------------------------------------------------------------------------------
# the ML benchmark
# ----------------------------------------------------------------------------------------------

class MLBenchmark(Benchmark):
    """An HPOBench "BB" benchmark: one model family on one dataset under one protocol."""

    def __init__(self, *, model: str, dataset: str, protocol: str, hyperparameters: Sequence[str],
                 fidelity: Mapping[str, int | float], data_dir: Path | None, cache_dir: Path | None,
                 split: str):
        info = dataset_info(dataset)
        minfo = model_info(model)
        self.info: DatasetInfo = info
        self.data_dir = data_dir if info.needs_files else None
        self.split_method = check_split_method(split)
        # Online the task's own split file is at hand; offline openml_folds regenerates it.
        has_task_split = info.source == "openml" and self.data_dir is None
        split_key = split_description(split_source(split, has_task_split), info)
        # An edited CSV is a different benchmark: its costs, test sets and records must not be reused.
        content = file_sha256(csv_path(info, self.data_dir)) if self.data_dir is not None else None
        super().__init__(model=model, dataset=dataset, protocol=protocol, full_space=minfo.space,
                         hyperparameters=hyperparameters, fidelity=fidelity,
                         key_parts={"split": split_key, "data_sha256": content}, cache_dir=cache_dir)

    @property
    def data(self) -> PreparedData:
        """The split, preprocessed data (loaded at first use, shared within the process)."""
        data = self.__dict__.get("_data")
        if data is None:
            data = get_prepared(self.info, self.data_dir, method=self.split_method)
            self._data = data
        return data

    @property
    def split_info(self) -> dict[str, Any]:
        return dict(self.data.split_info)

    def check_data(self) -> None:
        self.data  # noqa: B018 - loads, types and splits the data; malformed data raises SymexpError

    def _train(self, full: dict[str, Any], seed: int) -> tuple[float, float]:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        d = self.data
        rng = np.random.default_rng(self._evaluation_seed(full, seed))
        model_seed = self._model_seed(seed, rng)
        subsample = float(self.fidelity.get("subsample", 1.0))
        if self.protocol == "hpobench":
            X = np.vstack((d.X_train, d.X_valid))
            y = np.concatenate((d.y_train, d.y_valid))
            lower_bound = max(1.0 / 512.0, 10.0 * d.n_classes / len(d.y_train))
            size = int(max(subsample, lower_bound) * len(y))
            idx = rng.integers(0, len(y), size=size)
            X_fit, y_fit = X[idx], y[idx]
        else:
            X_fit, y_fit = d.X_train, d.y_train
            if subsample < 1.0:
                idx = np.sort(rng.permutation(len(y_fit))[: max(1, int(subsample * len(y_fit)))])
                X_fit, y_fit = X_fit[idx], y_fit[idx]
        try:
            model = build_model(self.model, full, self.fidelity, n_features=d.n_features,
                                n_classes=d.n_classes, random_state=model_seed)
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X_fit, y_fit)
                seconds = time.perf_counter() - start
                pred = np.asarray(model.predict(d.X_valid))
        except ENVIRONMENT_ERRORS:
            raise
        except Exception as e:  # noqa: BLE001 - any training failure becomes an EvaluationError
            raise EvaluationError(full, f"{type(e).__name__}: {e}".splitlines()[0]) from e
        if pred.shape != d.y_valid.shape:
            raise EvaluationError(full, f"prediction shape {pred.shape}, expected {d.y_valid.shape}")
        accuracy = float(np.mean(pred.astype(np.int64) == d.y_valid))
        return 1.0 - accuracy, seconds


# ----------------------------------------------------------------------------------------------
# the synthetic benchmark
# ----------------------------------------------------------------------------------------------

SYNTHETIC_SPACE = SearchSpace((
    Numerical("x", 0.1, 2.0, log=True, default=1.0),
    Numerical("y", 0.0, 1.0, default=0.5),
    # A third, weakly important hyperparameter for tests of the >2-hyperparameter path (fANOVA,
    # partial dependence). At its default the cost is exactly SYNTHETIC_FORMULA.
    Numerical("z", 0.0, 1.0, default=0.5),
))
SYNTHETIC_PAIR = ("x", "y")
SYNTHETIC_FORMULA = "x*y + 0.1"
SYNTHETIC_FORMULA_XYZ = "x*y + 0.1 + 0.05*(z - 0.5)"


class SyntheticBenchmark(Benchmark):
    """Cost ``x*y + 0.1 + 0.05*(z - 0.5)`` plus optional seeded Gaussian noise.

    ``x`` in [0.1, 2] (log), ``y`` in [0, 1], ``z`` in [0, 1] (default 0.5). By default only
    ``x`` and ``y`` are explained (z stays at 0.5), so the cost is ``x*y + 0.1``;
    :attr:`true_formula` is the cost as a function of the explained hyperparameters. A cache
    miss counts as a training and goes through the same cache as the ML benchmarks. ``noise``
    is the standard deviation of the noise, drawn from the per-evaluation seed.
    """

    @property
    def true_formula(self) -> str:
        return SYNTHETIC_FORMULA_XYZ if "z" in self.space.names else SYNTHETIC_FORMULA

    def __init__(self, *, protocol: str, hyperparameters: Sequence[str], noise: float, cache_dir: Path | None):
        self.noise = float(noise)
        super().__init__(model="synthetic", dataset="synthetic", protocol=protocol, full_space=SYNTHETIC_SPACE,
                         hyperparameters=hyperparameters, fidelity={},
                         key_parts={"split": {"source": "synthetic"}, "formula": SYNTHETIC_FORMULA_XYZ, "noise": self.noise},
                         cache_dir=cache_dir)

    @property
    def split_info(self) -> dict[str, Any]:
        return {"source": "synthetic", "n_train": 0, "n_valid": 0, "n_test": 0, "task_id": None, "data_id": None}

    @staticmethod
    def formula(x: float, y: float, z: float = 0.5) -> float:
        return x * y + 0.1 + 0.05 * (z - 0.5)

    def _train(self, full: dict[str, Any], seed: int) -> tuple[float, float]:
        start = time.perf_counter()
        cost = self.formula(float(full["x"]), float(full["y"]), float(full["z"]))
        if self.noise > 0:
            cost += self.noise * float(derive_rng("evaluation", self.key, dict(full), int(seed)).standard_normal())
        return float(cost), time.perf_counter() - start


# ----------------------------------------------------------------------------------------------
# the factory
# ----------------------------------------------------------------------------------------------

def _check_fidelity(model: str, base: Mapping[str, int | float], override: Mapping[str, Any] | None) -> dict[str, Any]:
    fid = dict(base)
    if override is None:
        return fid
    if not isinstance(override, Mapping):
        raise SymexpError(f"fidelity must be a mapping, got {type(override).__name__}")
    for k, v in override.items():
        if k not in base:
            raise SymexpError(f"unknown fidelity {k!r} for model {model}; valid: {', '.join(base) or 'none'}")
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise SymexpError(f"fidelity {k} must be a number, got {v!r}")
        if k in INT_FIDELITIES:
            if v != int(v) or v < 1:
                raise SymexpError(f"fidelity {k} must be a positive integer, got {v!r}")
            fid[k] = int(v)
        else:
            if not 0.0 < float(v) <= 1.0:
                raise SymexpError(f"fidelity {k} must be in (0, 1], got {v!r}")
            fid[k] = float(v)
    return fid


def make_benchmark(
    model: str = "lr",
    dataset: str = "blood_transfusion",
    protocol: str = "hpobench",
    hyperparameters: Sequence[str] | str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    fidelity: Mapping[str, Any] | None = None,
    noise: float = 0.0,
    split: str = "openml_folds",
) -> Benchmark:
    """Build a benchmark after checking every argument (one-line :class:`SymexpError` otherwise).

    Nothing is loaded, trained or written here; data loads at the first evaluation.

    ``hyperparameters``: names to explain (``None``: the paper's pair for the model).
    ``data_dir``: directory of ``<data_id>_<name>.csv``; ``None``: ``$SYMEXP_DATA_DIR``; if that
    is unset too, the data and the task's split come from OpenML.
    ``cache_dir``: root of the on-disk evaluation cache; ``None``: in memory only.
    ``fidelity``: overrides of the fixed (maximal) fidelity, e.g. ``{"iter": 10}`` for fast tests;
    changes the benchmark key. ``noise``: noise level of the synthetic benchmark (0 otherwise).
    ``split``: how the test rows are chosen without the task's split file (``openml_folds``:
    OpenML's generator, the task's own rows; ``stratified_kfold``: the earlier stand-in); part
    of the benchmark key. Pipeline runs take it from ``conf/config.yaml``.
    """
    if model not in MODELS:
        raise unknown_choice("model", model, MODELS)
    from symexp.benchmarks.datasets import DATASETS  # noqa: PLC0415

    if dataset not in DATASETS:
        raise unknown_choice("dataset", dataset, DATASETS)
    if (model == "synthetic") != (dataset == "synthetic"):
        raise SymexpError(
            f"model {model!r} does not run on dataset {dataset!r}: model 'synthetic' goes only with dataset "
            f"'synthetic'; valid datasets for {model}: "
            + (", ".join(d for d in DATASETS if d != "synthetic") if model != "synthetic" else "synthetic")
        )
    if protocol not in PROTOCOLS:
        raise unknown_choice("protocol", protocol, PROTOCOLS)
    check_split_method(split)
    full_space = SYNTHETIC_SPACE if model == "synthetic" else model_info(model).space
    if hyperparameters is None:
        names = list(SYNTHETIC_PAIR if model == "synthetic" else model_info(model).paper_pair)
    else:
        if isinstance(hyperparameters, str):
            hyperparameters = [hyperparameters]
        names = list(hyperparameters)
        if not names:
            raise SymexpError(f"hyperparameters is empty; valid: {', '.join(full_space.names)}")
        bad = [n for n in names if not isinstance(n, str) or n not in full_space.names]
        if bad:
            raise SymexpError(f"unknown hyperparameter(s) {', '.join(map(repr, bad))} for model {model}; valid: {', '.join(full_space.names)}")
        if len(set(names)) != len(names):
            raise SymexpError(f"duplicate hyperparameter names in {names}")
    full_space.subspace(names).require_numerical("explanation")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not math.isfinite(noise) or noise < 0:
        raise SymexpError(f"noise must be a finite number >= 0, got {noise!r}")
    if noise and model != "synthetic":
        raise SymexpError(f"noise is only for the synthetic benchmark, got noise={noise} for model {model}")
    if cache_dir is not None:
        cache_dir = Path(cache_dir).expanduser().resolve()
        if cache_dir.exists() and not cache_dir.is_dir():
            raise SymexpError(f"cache directory {cache_dir} exists and is not a directory")

    if model == "synthetic":
        _check_fidelity(model, {}, fidelity)
        return SyntheticBenchmark(protocol=protocol, hyperparameters=names, noise=float(noise), cache_dir=cache_dir)

    fid = _check_fidelity(model, model_info(model).fidelity, fidelity)
    info = dataset_info(dataset)
    resolved = resolve_data_dir(data_dir) if info.needs_files else None
    if resolved is not None:
        csv_path(info, resolved)  # directory, file and header checks (reads one line)
    return MLBenchmark(model=model, dataset=dataset, protocol=protocol, hyperparameters=names,
                       fidelity=fid, data_dir=resolved, cache_dir=cache_dir, split=split)
