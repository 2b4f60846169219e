"""Equivalence of :class:`symexp.symbolic.fast_gplearn.FastSymbolicRegressor` and gplearn 0.4.3.

Every test fits gplearn's own ``SymbolicRegressor`` (the reference) and the fast class on the same
data with the same ``random_state`` and asserts that they agree exactly: the best program (string
and nodes, constants bit for bit), its raw and penalised fitness, ``run_details_`` (all but the
timing), and in the small fits every program of the last population (nodes, fitness, genome,
in-bag state) and numpy's global RandomState after the fit (gplearn leaves it changed).

The fast part uses the smoke preset's settings; the matrix at the paper's settings (population
5000, 20 generations) on training sets of the real benchmarks (random configurations with their
true cost, n = 20, 140, 400, the paper's function set with the capped exp, parsimony values of the
sweep) is marked slow (about a minute per case).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from gplearn.functions import _Function
from gplearn.genetic import SymbolicRegressor

from symexp.app.config import preset_config, sr_settings
from symexp.symbolic import fast_gplearn
from symexp.symbolic.fast_gplearn import FastSymbolicRegressor, regressor_class
from symexp.symbolic.functions import gplearn_function_set

NAMES = ["a", "b"]


def settings(preset: str, **changes):
    """The SR settings of a preset (conf/), with ``changes``."""
    return dataclasses.replace(sr_settings(preset_config(preset)), **changes)


def landscape(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth 2-D cost-like function with a little noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    y = 0.2 + 0.1 * np.sin(3 * X[:, 0]) + 0.05 * X[:, 1] ** 2 + 0.01 * rng.normal(size=n)
    return X, y


def fit(cls, s, X, y, seed: int, **extra):
    """Fit ``cls`` with settings ``s``; returns the estimator and numpy's global state after."""
    kwargs = {**s.gplearn_kwargs(), **extra}
    gp = cls(**kwargs, function_set=gplearn_function_set(s.function_set, s.exp_cap), feature_names=NAMES,
             random_state=seed)
    np.random.seed(12345)  # the same global state before both fits
    with np.errstate(all="ignore"):
        gp.fit(X, y)
    return gp, np.random.get_state()


def nodes(program) -> list:
    """A program's nodes, exact: function names, feature indices, constants as (type, hex)."""
    return [n.name if isinstance(n, _Function) else (type(n).__name__, n.hex() if isinstance(n, float) else n)
            for n in program.program]


def same_float(a, b) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def assert_same_fit(ref, fast) -> None:
    """Best program, its fitness and the per-generation statistics agree exactly."""
    assert str(fast._program) == str(ref._program)
    assert nodes(fast._program) == nodes(ref._program)
    assert same_float(fast._program.raw_fitness_, ref._program.raw_fitness_)
    assert same_float(fast._program.fitness_, ref._program.fitness_)
    assert set(fast.run_details_) == set(ref.run_details_)
    for key, values in ref.run_details_.items():
        if key == "generation_time":
            continue
        assert len(fast.run_details_[key]) == len(values), key
        assert all(same_float(float(a), float(b)) for a, b in zip(fast.run_details_[key], values)), key


def assert_same_population(ref, fast) -> None:
    """Every program of every kept generation: nodes, fitness, genome, in-bag state."""
    assert len(fast._programs) == len(ref._programs)
    for gen_ref, gen_fast in zip(ref._programs, fast._programs):
        if gen_ref is None:
            assert gen_fast is None
            continue
        assert [p is None for p in gen_fast] == [p is None for p in gen_ref]
        for p, q in zip(gen_ref, gen_fast):
            if p is None:
                continue
            assert nodes(q) == nodes(p)
            assert same_float(q.raw_fitness_, p.raw_fitness_) and same_float(q.fitness_, p.fitness_)
            assert list(q.__dict__) == list(p.__dict__)
            genome_p, genome_q = p.parents, q.parents
            assert (genome_p is None) == (genome_q is None)
            if genome_p is not None:
                assert {k: list(v) if isinstance(v, range | list) else v for k, v in genome_q.items()} == \
                       {k: list(v) if isinstance(v, range | list) else v for k, v in genome_p.items()}
            assert q._n_samples == p._n_samples and q._max_samples == p._max_samples
            sp, sq = p._indices_state, q._indices_state
            assert sq[0] == sp[0] and np.array_equal(sq[1], sp[1]) and sq[2:] == sp[2:]


def assert_same_global_state(a, b) -> None:
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def compare(s, X, y, seed: int, population: bool = True, **extra):
    ref, ref_state = fit(SymbolicRegressor, s, X, y, seed, **extra)
    fast, fast_state = fit(FastSymbolicRegressor, s, X, y, seed, **extra)
    assert type(fast) is FastSymbolicRegressor and type(ref) is SymbolicRegressor
    assert_same_fit(ref, fast)
    if population:
        assert_same_population(ref, fast)
    assert_same_global_state(ref_state, fast_state)
    return ref, fast


# -- real benchmarks' training sets ------------------------------------------------------------------
_TRAINING: dict = {}


def benchmark_training_set(data_dir, model: str, dataset: str, n: int, seed: int = 0):
    """``n`` random configurations of (model, dataset)'s paper pair with their true cost (the
    random mode's training set; cached per test session)."""
    from symexp.benchmarks import make_benchmark
    from symexp.sampling import random_configurations

    key = (model, dataset, n, seed)
    if key not in _TRAINING:
        bench = make_benchmark(model, dataset, data_dir=data_dir)
        X = random_configurations(bench.space, n, seed)
        y = bench.evaluate_many(bench.space.from_array(X), seeds=seed)
        _TRAINING[key] = (X, np.asarray(y, dtype=float))
    return _TRAINING[key]


# -- fast suite ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_smoke_settings_same_programs(seed):
    """Smoke preset (population 500, 8 generations), the paper's function set with the capped exp."""
    X, y = landscape(24, seed=seed)
    compare(settings("smoke"), X, y, seed)


@pytest.mark.parametrize("seed", [0, 6])
def test_real_benchmark_smoke_settings(data_dir, seed):
    """svm on blood_transfusion, 20 random configurations with their true cost (log-scaled C
    and gamma over orders of magnitude: constants, protected functions and exp all matter)."""
    X, y = benchmark_training_set(data_dir, "svm", "blood_transfusion", 20)
    compare(settings("smoke"), X, y, seed)


@pytest.mark.parametrize("parsimony", [0.0001, 0.01, 0.075, "auto"])
def test_parsimony_values(parsimony):
    """Parsimony coefficients of the sweep (and gplearn's 'auto'): penalised fitness drives the
    tournaments, so any difference in it changes the programs."""
    X, y = landscape(60, seed=1)
    s = settings("smoke", population_size=300, generations=6)
    compare(s, X, y, 5, parsimony_coefficient=parsimony)


def test_subsampling_and_oob_fitness():
    """max_samples < 1: in-bag rows drawn per program (gplearn's code), OOB fitness recorded."""
    X, y = landscape(50, seed=2)
    ref, fast = compare(settings("smoke", population_size=300, generations=5, max_samples=0.7), X, y, 1)
    assert not np.isnan(ref.run_details_["best_oob_fitness"][-1])


def test_other_metric_and_low_memory():
    """A metric without the unit-weight shortcut (mean absolute error) and low_memory=True."""
    X, y = landscape(40, seed=3)
    s = settings("smoke", population_size=300, generations=5, metric="mean absolute error", low_memory=True)
    compare(s, X, y, 2)


def test_warm_start_with_new_data_between_fits():
    """Warm starts on the same data reuse evaluated programs; on new data they must not."""
    X1, y1 = landscape(30, seed=4)
    X2, y2 = landscape(30, seed=5)
    s = settings("smoke", population_size=300, generations=6)
    fits = {}
    for cls in (SymbolicRegressor, FastSymbolicRegressor):
        gp = cls(**s.gplearn_kwargs(), function_set=gplearn_function_set(s.function_set, s.exp_cap),
                 feature_names=NAMES, random_state=9, warm_start=True)
        with np.errstate(all="ignore"):
            for k in range(1, 7):
                gp.set_params(generations=k)
                gp.fit(X1 if k <= 3 else X2, y1 if k <= 3 else y2)
        fits[cls] = gp
    assert_same_fit(fits[SymbolicRegressor], fits[FastSymbolicRegressor])
    assert_same_population(fits[SymbolicRegressor], fits[FastSymbolicRegressor])


@pytest.mark.slow
def test_parallel_jobs():
    """n_jobs = 2 (programs evolved in two worker processes, seeds split as gplearn splits them)."""
    X, y = landscape(30, seed=6)
    compare(settings("smoke", population_size=200, generations=3), X, y, 4, population=False, n_jobs=2)


def test_engine_uses_fast_by_default_and_reference_on_request(monkeypatch):
    """The gplearn engine (SymbolicRegression, generation by generation) runs the fast class
    unless SYMEXP_SR_REFERENCE=1; both give the same program and statistics; records say which."""
    from symexp.pipeline.recording import package_versions
    from symexp.symbolic import SymbolicRegression

    X, y = landscape(24, seed=7)
    s = settings("smoke", population_size=300, generations=5)
    monkeypatch.delenv("SYMEXP_SR_REFERENCE", raising=False)
    assert regressor_class() is FastSymbolicRegressor and package_versions()["gplearn_fit"] == "fast"
    fast = SymbolicRegression(s, random_state=3, feature_names=NAMES).fit(X, y)
    monkeypatch.setenv("SYMEXP_SR_REFERENCE", "1")
    assert regressor_class() is SymbolicRegressor and package_versions()["gplearn_fit"] == "reference"
    ref = SymbolicRegression(s, random_state=3, feature_names=NAMES).fit(X, y)
    assert type(fast.gp_) is FastSymbolicRegressor and type(ref.gp_) is SymbolicRegressor
    assert fast.program_ == ref.program_ and fast.formula_ == ref.formula_
    assert_same_fit(ref.gp_, fast.gp_)
    assert not hasattr(fast.gp_, "_fast_memo")  # dropped with the population after the fit
    monkeypatch.setenv("SYMEXP_SR_REFERENCE", "0")
    assert regressor_class() is FastSymbolicRegressor


def test_other_gplearn_version_falls_back_to_reference(monkeypatch):
    """Only gplearn 0.4.3's code was reproduced: any other version runs gplearn's own class."""
    monkeypatch.delenv("SYMEXP_SR_REFERENCE", raising=False)
    monkeypatch.setattr(fast_gplearn, "GPLEARN_VERSION", "0.4.4")
    assert regressor_class() is SymbolicRegressor and fast_gplearn.implementation() == "reference"


def test_program_table_matches_exactly():
    """Programs equal under == but not bit for bit (feature 0 vs constant 0.0, 0.0 vs -0.0)
    are different programs for the table of evaluated programs."""
    from gplearn.functions import add2

    same = fast_gplearn._same_nodes
    assert same([add2, 0, 0.5], [add2, 0, 0.5])
    assert not same([add2, 0, 0.5], [add2, 0.0, 0.5])
    assert not same([add2, 1, 0.0], [add2, 1, -0.0])
    assert same([add2, 1, -0.0], [add2, 1, -0.0])


# -- slow: the paper's settings ----------------------------------------------------------------------
PAPER_CASES = [
    # (model, dataset, n, SR seed, parsimony)
    ("lr", "blood_transfusion", 20, 0, None),
    ("lr", "blood_transfusion", 20, 3, None),
    ("lr", "blood_transfusion", 140, 0, None),
    ("lr", "blood_transfusion", 140, 6, None),
    ("lr", "blood_transfusion", 400, 3, None),
    ("svm", "blood_transfusion", 20, 6, None),
    ("svm", "blood_transfusion", 140, 3, None),
    ("svm", "blood_transfusion", 400, 0, None),
    ("lr", "australian", 140, 0, None),
    ("svm", "australian", 400, 6, None),
    ("lr", "blood_transfusion", 400, 0, 0.00025),
    ("lr", "blood_transfusion", 400, 6, 0.005),
    ("svm", "blood_transfusion", 400, 3, 0.075),
]


@pytest.mark.slow
@pytest.mark.parametrize("model,dataset,n,seed,parsimony", PAPER_CASES)
def test_paper_settings_same_programs(data_dir, model, dataset, n, seed, parsimony):
    """Population 5000, 20 generations, the paper's function set and parsimony (or a value of
    the parsimony sweep), on a real benchmark's random training set of n points."""
    X, y = benchmark_training_set(data_dir, model, dataset, n)
    s = settings("table1") if parsimony is None else settings("table1", parsimony_coefficient=parsimony)
    compare(s, X, y, seed, population=False)


@pytest.mark.slow
def test_paper_settings_through_the_engine(data_dir, monkeypatch):
    """The engine's generation-by-generation fit (warm start, 20 fits) at the paper's settings:
    fast and reference give the same program, formula and statistics."""
    from symexp.symbolic import SymbolicRegression

    X, y = benchmark_training_set(data_dir, "svm", "blood_transfusion", 140)
    s = settings("table1")
    monkeypatch.delenv("SYMEXP_SR_REFERENCE", raising=False)
    fast = SymbolicRegression(s, random_state=0, feature_names=["C", "gamma"]).fit(X, y)
    monkeypatch.setenv("SYMEXP_SR_REFERENCE", "1")
    ref = SymbolicRegression(s, random_state=0, feature_names=["C", "gamma"]).fit(X, y)
    assert fast.program_ == ref.program_ and fast.formula_ == ref.formula_
    assert_same_fit(ref.gp_, fast.gp_)
