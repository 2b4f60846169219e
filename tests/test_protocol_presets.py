"""Protocol facts of the experiment presets, read from what the runner builds (issue 13).

The runner, the status command and the analysis read a preset through
``symexp.app.config`` (:func:`expand_cells` -> :func:`cell_spec`, :func:`build_view`), so
these tests assert the paper's values on the composed :class:`~symexp.pipeline.CellSpec` of
every cell and on the settings objects built from it (``SRSettings``, ``BOSettings``), never on
the YAML text. The expected values are the paper's (Section 5, Appendix D, Table 1, Figs. 4-8)
and the authors' code (``../shared/paper/README.md``), written out here on purpose.

Facts pinned here (and in the other ``test_protocol_*.py`` files where the values are *used*):
the table1 / sample_size / parsimony / pdp grids, sampling seeds 0, 3, 6, 9, 12, SR seeds
0, 3, 6, parsimony 1e-4 and the authors' sweep grid, n = 140 / 20..200 / 200 / 100, the SR and
BO settings every cell runs with, the test grid (10 per dimension, evaluation seeds 0..4), the
400 BO-GP points and the linear-regression baseline on raw hyperparameters.
"""

from __future__ import annotations

import itertools

import pytest

from symexp.app.config import build_view, cell_spec, expand_cells

PAPER_MODELS = ["lr", "svm", "rf", "xgb", "nn"]
# The paper's datasets in the paper's order (Table 1; OpenML tasks 10101, 53, 146818, 146821,
# 9952, 146822, 31, 3917).
PAPER_DATASETS = ["blood_transfusion", "vehicle", "australian", "car", "phoneme", "segment", "credit_g", "kc1"]
MODES = ["bo", "random", "bo_gp"]
SAMPLING_SEEDS = [0, 3, 6, 9, 12]     # BO / sampling seeds (authors' code)
SR_SEEDS = (0, 3, 6)                  # gplearn random_state values (authors' code)
PARSIMONY = 1e-4                      # Appendix D: "set to 0.0001 ... except for the parsimony variation study"
# The parsimony variation study's grid (Figs. 5, 8; the authors' plot_complexity_vs_rmse.py).
AUTHORS_PARSIMONY_GRID = (0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05,
                          0.075)
PAPER_FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "exp", "sin", "cos", "abs")


def cells_of(preset: str) -> list:
    """``(overrides, spec)`` of every cell of a preset, as the runner expands it."""
    return [(cell, cell_spec(c, jd)) for cell, c, jd in expand_cells([f"experiment={preset}"])]


@pytest.fixture(scope="module")
def table1():
    return cells_of("table1")


@pytest.fixture(scope="module")
def sample_size():
    return cells_of("sample_size")


def grid_of(cells) -> list[tuple]:
    return [(s.model, s.dataset, s.mode, s.sampling_seed) for _, s in cells]


def first_seen(values) -> list:
    return list(dict.fromkeys(values))


def assert_paper_sr(sr) -> None:
    """The gplearn settings of Appendix D on an SRSettings object a cell runs with."""
    assert sr.engine == "gplearn"
    assert sr.population_size == 5000 and sr.generations == 20 and sr.metric == "rmse"
    assert sr.function_set == PAPER_FUNCTIONS
    assert sr.exp_cap == 1e5           # protected exp, capped at 1e5 (authors' code)
    assert sr.time_limit_s == 900      # each fit capped at 900 s
    assert sr.log_space is False       # hyperparameters enter the formula in raw units
    assert sr.n_decimals == 3          # floats of the simplified formula rounded to 3 decimals


def assert_paper_bo(bo, dim: int = 2) -> None:
    """SMAC's BlackBoxFacade settings of the authors' code on a BOSettings object."""
    assert bo.n_trials == 200
    assert bo.snapshot_sizes == tuple(range(20, 201, 20))  # GP snapshots at 20, 40, ..., 200
    assert bo.retrain_after == 1 and bo.deterministic is True
    assert bo.selection == "smac2.0"   # smac 2.0.0's acquisition maximiser, the paper's pin
    # Sobol initial design: 8 configurations per hyperparameter, at most 25 % of the budget
    assert bo.initial_design_size(dim) == min(8 * dim, int(0.25 * 200))


def assert_common(spec) -> None:
    assert spec.protocol == "hpobench"
    assert spec.test_points_per_dim == 10          # test grid: 10 points per dimension
    assert spec.test_eval_seeds == (0, 1, 2, 3, 4)  # true cost = mean of 5 evaluations
    assert spec.bo_gp_points == 400                # BO-GP: 400 random configurations
    assert spec.linreg_log_features is False       # linear regression on raw hyperparameters
    assert spec.split == "openml_folds"             # test rows: the OpenML task's fold 0 (regenerated offline)
    assert spec.sr_seeds == SR_SEEDS


def test_table1_grid_is_the_papers(table1):
    """Table 1: 5 models x 8 datasets x 3 modes x 5 sampling seeds, n = 140, parsimony 1e-4."""
    grid = grid_of(table1)
    assert sorted(grid) == sorted(itertools.product(PAPER_MODELS, PAPER_DATASETS, MODES, SAMPLING_SEEDS))
    assert len(grid) == len(set(grid)) == 600
    assert first_seen(s.dataset for _, s in table1) == PAPER_DATASETS
    for _, spec in table1:
        assert spec.n_samples == (140,) and spec.parsimony == (PARSIMONY,)
        assert spec.hyperparameters is None and spec.pdp is None  # the paper's pair of each model
        assert_common(spec)
        assert_paper_sr(spec.sr)
        assert_paper_bo(spec.bo)


def test_sample_size_grid_is_the_papers(sample_size):
    """Figs. 4, 9-11: the same grid as Table 1 with n = 20, 40, ..., 200."""
    grid = grid_of(sample_size)
    assert sorted(grid) == sorted(itertools.product(PAPER_MODELS, PAPER_DATASETS, MODES, SAMPLING_SEEDS))
    for _, spec in sample_size:
        assert spec.n_samples == tuple(range(20, 201, 20)) and spec.parsimony == (PARSIMONY,)
        assert spec.hyperparameters is None and spec.pdp is None
        assert_common(spec)
        assert_paper_sr(spec.sr)
        assert_paper_bo(spec.bo)


def test_sample_size_small_n_come_from_separate_bo_runs(data_dir):
    """The authors' code (run_sampling_hpobench.py) runs SMAC separately for every n whose initial
    design would differ from the 200-trial run's: for two hyperparameters n = 20, 40, 60 get runs
    of 20, 40, 60 trials (5, 10, 15 Sobol points); n >= 80 are prefixes of the 200-trial run, so
    those records are table1's own (n = 140: the same record ids)."""
    overrides = ["model=svm", "dataset=australian", "sampling_seed=3"]
    sizes = build_view(["experiment=sample_size", *overrides])
    table1 = build_view(["experiment=table1", *overrides])
    for mode in ("bo", "bo_gp"):
        (cell,) = [c for c in sizes.cells if c.spec.mode == mode]
        assert cell.spec.bo.variant == "separate"
        for key in cell.keys:
            bo = key.identity["bo"]
            n = key.n_samples
            assert bo["n_trials"] == (n if n < 80 else 200), (mode, n, bo)
            assert bo["snapshot_sizes"] == ([n] if n < 80 else list(range(20, 201, 20)))
            assert cell.spec.bo.initial_design_size(2, bo["n_trials"]) == (n // 4 if n < 80 else 16)
        (t1,) = [c for c in table1.cells if c.spec.mode == mode]
        assert {k.record_id for k in t1.keys} <= {k.record_id for k in cell.keys if k.n_samples == 140}
        assert {k.record_id for k in t1.keys}  # table1 plans n = 140 records, all shared


def test_parsimony_sweep_is_the_papers():
    """Figs. 5, 8: SR on 400 random points labelled by the GP after 200 BO samples, for the
    authors' twelve parsimony coefficients; every paper model, sampling seeds 0, 3, ..., 12."""
    cells = cells_of("parsimony")
    assert first_seen(s.model for _, s in cells) == PAPER_MODELS
    assert set(s.dataset for _, s in cells) <= set(PAPER_DATASETS)
    assert sorted(set(s.sampling_seed for _, s in cells)) == SAMPLING_SEEDS
    for _, spec in cells:
        assert spec.mode == "bo_gp" and spec.n_samples == (200,)
        assert spec.parsimony == AUTHORS_PARSIMONY_GRID
        assert_common(spec)
        assert_paper_sr(spec.sr)
        assert_paper_bo(spec.bo)


def test_pdp_case_is_the_papers(data_dir):
    """Figs. 6b, 7: five MLP hyperparameters on blood-transfusion, 100 BO samples; the two most
    important (fANOVA on the GP) explained through the GP's partial dependence."""
    (cell,) = build_view(["experiment=pdp"]).cells
    spec = cell.spec
    assert (spec.model, spec.dataset, spec.mode) == ("nn", "blood_transfusion", "bo_gp")
    assert spec.hyperparameters == ("depth", "width", "batch_size", "alpha", "learning_rate_init")
    assert spec.n_samples == (100,) and spec.parsimony == (PARSIMONY,) and spec.sr_seeds == SR_SEEDS
    assert spec.pdp is not None and spec.pdp.top_k == 2
    assert_paper_sr(spec.sr)
    assert_paper_bo(spec.bo, dim=5)  # 5 x 8 = 40 Sobol points (25 % of 200 would be 50)
    # what the cell writes: one SR record per SR seed, no true-cost baselines (the PD is the target)
    assert sorted((k.method, k.n_samples, k.sr_seed, k.parsimony) for k in cell.keys) == [
        ("sr_bo_gp", 100, s, PARSIMONY) for s in SR_SEEDS]


def test_table1_cell_plans_the_papers_records(data_dir):
    """What one Table-1 cell computes: three SR fits (seeds 0, 3, 6) at n = 140 and parsimony 1e-4,
    plus, for BO-GP, the GP and linear-regression baselines on the same test set."""
    view = build_view(["experiment=table1", "model=xgb", "dataset=kc1", "sampling_seed=9"])
    assert sorted(c.spec.mode for c in view.cells) == sorted(MODES)
    for cell in view.cells:
        mode = cell.spec.mode
        planned = sorted((k.method, k.n_samples, k.sr_seed, k.parsimony)
                         for k in cell.keys if k.method.startswith("sr_"))
        assert planned == [(f"sr_{mode}", 140, s, PARSIMONY) for s in SR_SEEDS]
        baselines = sorted(k.method for k in cell.keys if not k.method.startswith("sr_"))
        assert baselines == (["gp_baseline", "linear_regression"] if mode == "bo_gp" else [])
        assert {k.sampling_seed for k in cell.keys} == {9}


def test_parsimony_cell_plans_every_coefficient_for_every_sr_seed(data_dir):
    view = build_view(["experiment=parsimony", "model=rf", "dataset=blood_transfusion", "sampling_seed=3"])
    (cell,) = view.cells
    planned = {(k.n_samples, k.sr_seed, k.parsimony) for k in cell.keys if k.method == "sr_bo_gp"}
    assert planned == set(itertools.product([200], SR_SEEDS, AUTHORS_PARSIMONY_GRID))
