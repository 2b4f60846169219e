"""Protocol facts of sampling, symbolic regression and scoring, asserted where a cell uses them.

Three Table-1 cells (modes bo, random, bo_gp) run end to end through :func:`run_cell` with the
table1 preset's composed settings, on the synthetic benchmark (``x`` log-scaled, ``y`` linear)
whose cost is made to depend on the evaluation seed. Nothing expensive runs: the BO run is a
prepared :class:`BORun` with a GP snapshot per snapshot size, and gplearn's evolution is replaced
by a spy that records how ``SymbolicRegressor`` is built and fit and answers with a fixed program.
What the pipeline does around them is the real code: the test set, the training sets, the SR
harness (generation loop, SymPy conversion, rounding, op count), scoring and the baselines.

Also here: how SMAC is set up for the preset's BO settings (the BlackBoxFacade a run builds) and
the pdp case (fANOVA on the GP, the two most important hyperparameters, their partial dependence).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from test_protocol_benchmarks import paper_axis

from symexp.app.config import build_view
from symexp.symbolic import parse_formula

PAPER_FUNCTIONS = ["add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs"]
N = 140  # Table 1's sample size
SAMPLING_SEED = 6
EVAL_SEED_SHIFT = 0.01  # the synthetic cost below gets + EVAL_SEED_SHIFT * seed**2

# The program the spy's "evolution" returns: sqrt(x) + 0.12345 * y. Its formula rounds (0.12345 ->
# 0.123) and counts differently in the readable form (sqrt(x), x > 0 on the data) and in the
# paper's (sqrt(Abs(X0)): the authors insert abs under sqrt).
FIXED_PROGRAM = "add(sqrt(X0), mul(X1, 0.12345))"


def quiet(_msg: str) -> None:
    pass


# -- a prepared BO run ---------------------------------------------------------------------------

def fake_bo_run(space, settings, seed):
    """A BORun of ``settings.n_trials`` evaluations with a GP snapshot per snapshot size, each
    trained on the run's first n evaluations (kernel values fixed, not optimised)."""
    from symexp.sampling import BORun, GPSnapshot, random_configurations
    from symexp.sampling.gp import default_kernel, encode, kernel_values

    X = random_configurations(space, settings.n_trials, 1234)
    y = X[:, 0] * X[:, 1] + 0.1
    params = kernel_values(default_kernel(space.to_configspace()))
    params["k1__k2__length_scale"] = [0.3] * space.dim
    snapshots = {
        n: GPSnapshot(space=space, n=n, X_train=encode(space, X[:n]), y_train=y[:n], y_mean=float(np.mean(y[:n])),
                      y_std=float(np.std(y[:n])), kernel_params=dict(params), theta=np.zeros(space.dim + 2),
                      source="refit")
        for n in settings.snapshot_sizes
    }
    return BORun(space=space, settings=settings, seed=seed, X=X, y=y, eval_seeds=np.full(len(X), seed),
                 origins=(["Initial Design: Sobol"] * 16
                          + ["Acquisition Function Maximizer: Local Search"] * (len(X) - 16)),
                 n_initial_design=16, n_failed=0, incumbent=None, snapshots=snapshots)


# -- the gplearn spy -------------------------------------------------------------------------------

def spy_fit(calls: list):
    """A replacement for ``SymbolicRegressor.fit``: records the estimator's parameters and data
    at every call and 'evolves' FIXED_PROGRAM. (Patched on the class: gplearn's own ``__init__``
    refers to the module's ``SymbolicRegressor`` by name, so the class itself must stay.)"""
    from gplearn._program import _Program

    from symexp.symbolic import parse_program

    def fit(self, X, y, sample_weight=None):
        params = self.get_params()
        calls.append({"params": params, "X": np.array(X, dtype=float), "y": np.array(y, dtype=float)})
        program = _Program.__new__(_Program)
        program.program = parse_program(FIXED_PROGRAM, params["feature_names"])
        program.feature_names = params["feature_names"]
        self._program, self._programs = program, []
        self.run_details_ = {"generation": [params["generations"]], "best_fitness": [1.0]}
        return self

    return fit


# -- the three cells --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """Run the table1 cells (bo, random, bo_gp) of the synthetic benchmark; return what each
    SR fit was given and built, the records, the BO run and the benchmark."""
    import gplearn.genetic

    import symexp.pipeline.cell as cell_module
    import symexp.pipeline.training as training
    from symexp.symbolic.fast_gplearn import FastSymbolicRegressor
    from symexp.benchmarks.objective import SyntheticBenchmark
    from symexp.pipeline import run_cell, validate_spec
    from symexp.store import load_records

    tmp = tmp_path_factory.mktemp("cells")
    view = build_view(["experiment=table1", "model=synthetic", "dataset=synthetic", f"sampling_seed={SAMPLING_SEED}",
                       f"paths.store={tmp / 'store'}", f"paths.cache={tmp / 'cache'}"])
    out = {}
    real_train = SyntheticBenchmark._train
    real_fit = cell_module.fit_symbolic
    with pytest.MonkeyPatch.context() as mp:
        # the cost depends on the evaluation seed: cost(config, s) = formula + 0.01 * s**2
        mp.setattr(SyntheticBenchmark, "_train",
                   lambda self, full, seed: (real_train(self, full, seed)[0] + EVAL_SEED_SHIFT * seed**2, 0.0))
        runs = {}

        def fake_load_or_run_bo(spec, bench, log, **_kwargs):
            run = runs.setdefault("run", fake_bo_run(bench.space, spec.bo, spec.sampling_seed))
            return run, 0, spec.cache_dir / "bo" / "prepared.json"

        mp.setattr(training, "load_or_run_bo", fake_load_or_run_bo)
        for view_cell in view.cells:
            spec = dataclasses.replace(view_cell.spec, n_jobs=1, workdir=tmp / "work")  # SR fits in this process
            fits, built = [], []

            def recording_fit(*args, _fits=fits):
                names = ("sr", "sr_seed", "parsimony", "names", "log_features", "X", "y", "X_test", "y_test")
                _fits.append(dict(zip(names, args)))
                return real_fit(*args)

            mp.setattr(cell_module, "fit_symbolic", recording_fit)
            mp.setattr(gplearn.genetic.SymbolicRegressor, "fit", spy_fit(built))
            mp.setattr(FastSymbolicRegressor, "fit", spy_fit(built))  # the engine's default class
            report = run_cell(spec, log=quiet)
            bench = validate_spec(spec, check_dirs=False)
            records, damaged = load_records(spec.store_dir, view_cell.keys)
            assert not damaged and len(records) == len(view_cell.keys) == len(report.written)
            out[spec.mode] = {"spec": spec, "fits": fits, "built": built, "records": records, "bench": bench}
        out["run"] = runs["run"]
    return out


def sr_records(cell):
    df = cell["records"]
    return df[df["method"].str.startswith("sr_")]


def synthetic_cost(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * X[:, 1] + 0.1


def test_sr_is_gplearn_with_the_papers_settings(cells):
    """Appendix D: population 5000, 20 generations, RMSE, parsimony 1e-4, function set add, sub,
    mul, div, sqrt, log, exp (capped at 1e5), sin, cos, abs; all else gplearn's defaults;
    SR seeds 0, 3, 6."""
    from gplearn.genetic import SymbolicRegressor

    defaults = SymbolicRegressor().get_params()
    for mode in ("bo", "random", "bo_gp"):
        built = cells[mode]["built"]
        by_seed: dict[int, list] = {}
        for call in built:
            by_seed.setdefault(call["params"]["random_state"], []).append(call["params"])
        assert sorted(by_seed) == [0, 3, 6]
        for seed, calls in by_seed.items():
            # evolved generation by generation up to the 20th (warm start, one fit per generation)
            assert [c["generations"] for c in calls] == list(range(1, 21))
            p = calls[-1]
            assert p["population_size"] == 5000 and p["metric"] == "rmse" and p["parsimony_coefficient"] == 1e-4
            assert p["warm_start"] is True
            functions = [f if isinstance(f, str) else f.name for f in p["function_set"]]
            assert functions == PAPER_FUNCTIONS
            (exp,) = [f for f in p["function_set"] if not isinstance(f, str)]
            # protected exp: min(exp(a), 1e5); exp(11.5) < 1e5 < exp(11.6)
            np.testing.assert_array_equal(exp(np.array([0.0, 11.6, 20.0, 800.0])), [1.0, 1e5, 1e5, 1e5])
            assert exp(np.array([11.5]))[0] == math.exp(11.5)
            chosen = {"population_size", "generations", "metric", "parsimony_coefficient", "function_set",
                      "random_state", "feature_names", "warm_start"}
            rest = {k: v for k, v in p.items() if k not in chosen}
            assert rest == {k: v for k, v in defaults.items() if k not in chosen}
        sr = sr_records(cells[mode])
        assert sorted(sr["sr_seed"]) == [0, 3, 6] and set(sr["parsimony"]) == {1e-4}


def test_hyperparameters_enter_the_formula_in_raw_units(cells):
    for mode in ("bo", "random", "bo_gp"):
        fits, built = cells[mode]["fits"], cells[mode]["built"]
        assert all(c["params"]["feature_names"] == ["x", "y"] for c in built)  # not log_x
        for fit in fits:
            calls = [c for c in built if c["params"]["random_state"] == fit["sr_seed"]]
            for c in calls:
                np.testing.assert_array_equal(c["X"], fit["X"])  # gplearn sees the raw values
                np.testing.assert_array_equal(c["y"], fit["y"])
        for _, rec in sr_records(cells[mode]).iterrows():  # the formula is in x and y themselves
            expr = parse_formula(rec["formula"], ["x", "y"])
            assert {str(s) for s in expr.free_symbols} == {"x", "y"} and not expr.has(sp.log)


def test_test_set_is_the_grid_and_the_true_cost_the_mean_of_five_evaluations(cells):
    """Every record is scored on the 10 x 10 grid of cell centres (log-spaced for x) against the
    mean cost of 5 evaluations (seeds 0..4): + 0.01 * mean(s**2) = 0.06 here."""
    bench = cells["random"]["bench"]
    grid = np.array(list(itertools.product(*(paper_axis(hp, 10) for hp in bench.space))))
    shift = EVAL_SEED_SHIFT * np.mean(np.arange(5) ** 2)
    for mode in ("bo", "random", "bo_gp"):
        for fit in cells[mode]["fits"]:
            np.testing.assert_allclose(fit["X_test"], grid, rtol=1e-12, atol=0)
            np.testing.assert_allclose(fit["y_test"], synthetic_cost(fit["X_test"]) + shift, rtol=0, atol=1e-12)
    # the record's score is the RMSE of the formula against that true cost
    fit = cells["random"]["fits"][0]
    rec = sr_records(cells["random"]).query(f"sr_seed == {fit['sr_seed']}").iloc[0]
    X = fit["X_test"]
    program = np.sqrt(X[:, 0]) + 0.12345 * X[:, 1]
    assert rec["test_rmse"] == pytest.approx(math.sqrt(np.mean((program - fit["y_test"]) ** 2)), rel=1e-12)


def test_random_mode_trains_on_n_random_configurations_and_their_cost(cells):
    """Random: n random configurations, each labelled with its own cost, evaluated once with the
    cell's sampling seed (the synthetic cost gets + 0.01 * seed**2: + 0.36 at seed 6, not the
    + 0.06 of the test grid's 5-seed mean). Computed here from the formula, not through the
    benchmark, whose evaluation cache the cells have filled."""
    for fit in cells["random"]["fits"]:
        assert fit["X"].shape == (N, 2)
        expected = synthetic_cost(fit["X"]) + EVAL_SEED_SHIFT * SAMPLING_SEED**2
        np.testing.assert_allclose(fit["y"], expected, rtol=0, atol=1e-12)
    assert (sr_records(cells["random"])["n_train_points"] == N).all()


def test_bo_mode_trains_on_the_first_n_evaluations_of_the_bo_run(cells):
    run = cells["run"]
    for fit in cells["bo"]["fits"]:
        np.testing.assert_array_equal(fit["X"], run.X[:N])
        np.testing.assert_array_equal(fit["y"], run.y[:N])


def test_bo_gp_trains_on_400_points_labelled_by_the_gp_of_the_first_n(cells):
    """BO-GP: 400 random configurations labelled with the posterior mean of the GP trained on
    the first n = 140 BO evaluations."""
    run = cells["run"]
    gp = run.snapshots[N]
    for fit in cells["bo_gp"]["fits"]:
        assert fit["X"].shape == (400, 2)
        mean, std = gp.predict(fit["X"])
        np.testing.assert_array_equal(fit["y"], mean)
        assert not np.allclose(fit["y"], run.snapshots[200].predict(fit["X"])[0], rtol=0, atol=1e-6)
        assert not np.allclose(mean, std)
    assert (sr_records(cells["bo_gp"])["n_train_points"] == 400).all()


def test_baselines_are_scored_on_the_same_test_set(cells):
    """GP baseline: the BO run's GP after n; linear regression: least squares on the SR (BO-GP)
    training points in raw units."""
    from sklearn.linear_model import LinearRegression

    fit = cells["bo_gp"]["fits"][0]
    df = cells["bo_gp"]["records"]
    rec = {m: df[df["method"] == m].iloc[0] for m in ("gp_baseline", "linear_regression")}
    gp_pred = cells["run"].snapshots[N].predict(fit["X_test"])[0]
    gp_rmse = math.sqrt(np.mean((gp_pred - fit["y_test"]) ** 2))
    assert rec["gp_baseline"]["test_rmse"] == pytest.approx(gp_rmse, rel=1e-12)
    lin = LinearRegression().fit(fit["X"], fit["y"]).predict(fit["X_test"])
    assert rec["linear_regression"]["test_rmse"] == pytest.approx(math.sqrt(np.mean((lin - fit["y_test"]) ** 2)),
                                                                   rel=1e-9)


def test_formula_is_rounded_to_3_decimals_and_its_ops_counted_as_the_paper(cells):
    """The readable formula: floats rounded to 3 decimals. Its complexity: SymPy's count_ops of
    the authors' conversion (abs under sqrt / log, '%.3f' constants, simplified, rounded)."""
    from gplearn._program import _Program
    from test_symbolic import _authors_count  # the authors' conversion, re-typed as a test oracle

    from symexp.symbolic import parse_program

    program = _Program.__new__(_Program)
    program.program, program.feature_names = parse_program(FIXED_PROGRAM, ["x", "y"]), ["x", "y"]
    paper_ops = _authors_count(program)
    x, y = sp.symbols("x y", positive=True)
    for mode in ("bo", "random", "bo_gp"):
        for _, rec in sr_records(cells[mode]).iterrows():
            assert rec["status"] == "ok"
            real = parse_formula(rec["formula"], ["x", "y"])  # the whitelisted parser: a record is data
            expr = real.subs({sp.Symbol("x", real=True): x, sp.Symbol("y", real=True): y})
            assert sp.simplify(expr - (sp.sqrt(x) + sp.Float("0.123") * y)) == 0
            assert {round(float(f), 3) == float(f) for f in expr.atoms(sp.Float)} == {True}
            readable = sp.count_ops(expr)
            assert paper_ops != readable  # (so that the record must say which of the two it holds)
            assert rec["complexity"] == paper_ops and rec["formula_complexity"] == readable


# -- SMAC as a BO run sets it up ------------------------------------------------------------------------

class _Stop(Exception):
    pass


class StopAtFirstEvaluation:
    """An objective that records the configuration SMAC asks for first, then stops the run."""

    def __init__(self):
        self.asked: list = []

    def __call__(self, config, seed):
        self.asked.append((dict(config), seed))
        raise _Stop


@pytest.mark.parametrize("preset", ["table1", "pdp"])
def test_bo_runs_smacs_blackbox_facade_with_the_papers_settings(monkeypatch, tmp_path, data_dir, preset):
    """SMAC 2 BlackBoxFacade: GP (constant x Matern 5/2 ARD + white noise, normalize_y), EI,
    retrain_after = 1, Sobol initial design of min(8 per hyperparameter, 25 % of 200), a
    deterministic scenario of 200 trials seeded with the sampling seed."""
    from sklearn.gaussian_process.kernels import Product, Sum
    from smac import BlackBoxFacade
    from smac.acquisition.function import EI
    from smac.initial_design import SobolInitialDesign
    from smac.model.gaussian_process import GaussianProcess
    from smac.model.gaussian_process.kernels import ConstantKernel, MaternKernel, WhiteKernel

    from symexp.pipeline import validate_spec
    from symexp.sampling import run_bo
    from symexp.sampling.smac_selection import Smac20LocalAndSortedRandomSearch

    overrides = ["experiment=table1", "model=lr", "dataset=blood_transfusion", "mode=bo", "sampling_seed=6"] \
        if preset == "table1" else ["experiment=pdp", "sampling_seed=3"]
    (cell,) = build_view([*overrides, f"paths.store={tmp_path / 's'}", f"paths.cache={tmp_path / 'c'}"]).cells
    spec = cell.spec
    space = validate_spec(spec, check_dirs=False).space
    facades = []
    real_init = BlackBoxFacade.__init__

    def spy_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        facades.append(self)

    monkeypatch.setattr(BlackBoxFacade, "__init__", spy_init)
    objective = StopAtFirstEvaluation()
    with pytest.raises(_Stop):
        run_bo(objective, space, spec.bo, spec.sampling_seed, tmp_path / "work", isolate=False)
    (smac,) = facades
    scenario = smac.scenario
    assert scenario.n_trials == 200 and scenario.deterministic is True
    assert scenario.seed == spec.sampling_seed == (6 if preset == "table1" else 3)
    design = smac._initial_design
    assert isinstance(design, SobolInitialDesign)
    assert design._n_configs == min(8 * space.dim, int(0.25 * 200)) == (16 if preset == "table1" else 40)
    assert smac._config_selector._retrain_after == 1
    assert isinstance(smac._acquisition_function, EI)
    maximizer = smac._acquisition_maximizer
    assert isinstance(maximizer, Smac20LocalAndSortedRandomSearch) and maximizer._points_per_iteration == 1
    model = smac._model
    assert isinstance(model, GaussianProcess) and model._normalize_y is True
    kernel = model._kernel
    assert isinstance(kernel, Sum) and isinstance(kernel.k1, Product) and isinstance(kernel.k2, WhiteKernel)
    assert isinstance(kernel.k1.k1, ConstantKernel) and isinstance(kernel.k1.k2, MaternKernel)
    assert kernel.k1.k2.nu == 2.5 and len(kernel.k1.k2.length_scale) == space.dim  # ARD
    # the first configuration evaluated comes from that design
    (config, _seed), = objective.asked
    assert set(config) == set(space.names)


# -- the pdp case: fANOVA on the GP, the top two, their partial dependence ----------------------------------

class AdditiveGP:
    """A stand-in GP over the five MLP hyperparameters: mean = alpha (weight 1) + width (0.5,
    squared) + small terms of the others, in unit-cube coordinates; std largest for depth."""

    def __init__(self, space):
        self.space = space

    def parts(self, X):
        u = self.space.in_unit_cube(X)
        names = self.space.names
        col = {n: u[:, names.index(n)] for n in names}
        top = col["alpha"] + 0.5 * col["width"] ** 2
        rest = 0.05 * col["depth"] + 0.02 * col["learning_rate_init"] + 0.01 * col["batch_size"]
        return top, rest, col

    def predict(self, X):
        top, rest, col = self.parts(X)
        return top + rest, 0.1 + 3.0 * col["depth"]


def test_pdp_explains_the_two_most_important_hyperparameters_by_partial_dependence(monkeypatch, tmp_path, data_dir):
    import symexp.sampling.importance
    import symexp.sampling.pdp
    from symexp.pipeline import validate_spec
    from symexp.pipeline.training import compute_pdp_artefact

    (cell,) = build_view(["experiment=pdp", f"paths.store={tmp_path / 's'}", f"paths.cache={tmp_path / 'c'}"]).cells
    spec = cell.spec
    bench = validate_spec(spec, check_dirs=False)
    seen = {"fanova": [], "pd": []}
    real_fanova, real_pd = symexp.sampling.importance.fanova_importance, symexp.sampling.pdp.partial_dependence

    def fanova_spy(f, space, points_per_dim=10, pairwise=False):
        seen["fanova"].append((space.names, points_per_dim))
        return real_fanova(f, space, points_per_dim=points_per_dim, pairwise=pairwise)

    def pd_spy(f, space, features, **kw):
        seen["pd"].append((list(features), kw["n_background"]))
        return real_pd(f, space, features, **kw)

    monkeypatch.setattr(symexp.sampling.importance, "fanova_importance", fanova_spy)
    monkeypatch.setattr(symexp.sampling.pdp, "partial_dependence", pd_spy)
    gp = AdditiveGP(bench.space)
    n = spec.n_samples[0]
    art = compute_pdp_artefact(spec, bench, gp, n)

    assert seen["fanova"] == [(bench.space.names, 8)]  # fANOVA over all five, 8 grid points per axis
    assert art["top"] == ["alpha", "width"]            # the two most important (by the GP mean)
    assert seen["pd"] == [(["alpha", "width"], 200)] * 2  # PD over 200 background configurations
    grid = np.array(art["grid"])
    sub = bench.space.subspace(["alpha", "width"])
    want = np.array(list(itertools.product(*(paper_axis(hp, 10) for hp in sub))))
    np.testing.assert_allclose(grid, want, rtol=1e-12, atol=0)  # the test grid of the explained pair
    train_X = np.array(art["train_X"])
    assert train_X.shape == (400, 2)                    # SR on 400 random points of the pair
    # partial dependence: the other three are averaged out, what is left is the pair's own effect
    for X2, pd_values in ((grid, art["pd"]), (train_X, art["train_y"])):
        full = np.column_stack([np.ones(len(X2)) * hp.default if hp.name not in ("alpha", "width")
                                else X2[:, ["alpha", "width"].index(hp.name)] for hp in bench.space.hyperparameters])
        own, _, _ = gp.parts(full)
        residual = np.asarray(pd_values) - own
        assert np.ptp(residual) < 1e-12 and 0 < residual[0] < 0.08


@pytest.mark.parametrize("text, ops", [
    # gplearn prints 0.0004 as 0.000: the authors' expression is sqrt(Abs(0)) = 0, no operation;
    # from the unprinted constant simplify would keep 0.02*sqrt(Abs(X0)) (MUL, ABS, POW, DIV)
    ("sqrt(mul(X0, 0.0004))", 0),
    ("add(sqrt(mul(X0, 0.0004)), X1)", 0),
])
def test_paper_count_uses_the_constants_as_gplearn_prints_them(text, ops):
    from types import SimpleNamespace

    from gplearn._program import _Program
    from test_symbolic import _authors_count

    from symexp.symbolic import parse_program
    from symexp.symbolic.paper_complexity import gplearn_paper_complexity

    nodes = parse_program(text, ["X0", "X1"])
    program = _Program.__new__(_Program)
    program.program, program.feature_names = list(nodes), None
    assert _authors_count(program) == ops
    assert gplearn_paper_complexity(SimpleNamespace(program=nodes), timeout_s=None).ops == ops
