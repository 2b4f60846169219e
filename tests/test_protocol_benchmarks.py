"""Protocol facts of the benchmarks and of the test set, asserted where the pipeline uses them.

* the OpenML tasks the benchmarks load, in the paper's order;
* the estimators the HPOBench benchmarks build: the paper's fidelities, HPOBench's defaults for
  the hyperparameters that are not explained, rf's ``max_features = n_features ** v``, the model
  seed of HPOBench (the evaluation's seed; 0 for XGBoost), training on train + valid;
* preprocessing of data with missing values: nominal most-frequent + one-hot, numeric median +
  standardise, statistics from the training rows only;
* the five-hyperparameter MLP space of Fig. 7;
* the test grid each paper pair gets (cell centres, log-spaced on log axes, integers truncated,
  de-duplicated, upper bound appended) and a true cost that is the mean of the 5 evaluations.

Existing tests pin the rest of the benchmark facts (see ``tests/mutations.yaml``): the paper
pairs, ranges, log and integer flags and fidelities (test_benchmarks.py), split sizes, seeds and
preprocessing without missing values (test_benchmarks_data.py), cost = 1 - validation accuracy,
train + valid and the bootstrap (test_benchmarks.py::test_protocols_train_on_the_documented_rows).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import symexp.benchmarks.objective as objective
from symexp.app.config import build_view
from symexp.benchmarks import make_benchmark
from symexp.benchmarks.datasets import REGISTRY
from symexp.benchmarks.split import encode_labels, split_indices
from symexp.benchmarks.testset import load_or_compute_test_set

PAPER_DATASETS = ["blood_transfusion", "vehicle", "australian", "car", "phoneme", "segment", "credit_g", "kc1"]
PAPER_TASK_IDS = [10101, 53, 146818, 146821, 9952, 146822, 31, 3917]  # README: the authors' order


class _Stop(Exception):
    """Raised by a spy once it has seen what it came for."""


@pytest.fixture(scope="module")
def table1_benchmarks(data_dir, tmp_path_factory):
    """The benchmark of each paper model on blood-transfusion, as a Table-1 cell builds it (its
    evaluation cache in a scratch directory: the spies below must never reach a real cache)."""
    from symexp.pipeline import validate_spec

    tmp = tmp_path_factory.mktemp("table1")
    view = build_view(["experiment=table1", "dataset=blood_transfusion", "mode=bo", "sampling_seed=0",
                       f"paths.store={tmp / 'store'}", f"paths.cache={tmp / 'cache'}"])
    out = {}
    for c in view.cells:
        assert c.spec.cache_dir == tmp / "cache"
        out[c.spec.model] = (c.spec, validate_spec(c.spec, check_dirs=False))
    return out


# -- datasets --------------------------------------------------------------------------------------

def test_benchmarks_load_the_papers_openml_tasks(monkeypatch):
    """Without offline files a benchmark loads its OpenML task: 10101, 53, 146818, 146821, 9952,
    146822, 31, 3917 for the paper's datasets in the paper's order."""
    import sys
    from types import SimpleNamespace

    from symexp.benchmarks.split import clear_prepared_cache

    asked = []

    def get_task(task_id, **kw):
        asked.append(task_id)
        raise _Stop

    monkeypatch.delenv("SYMEXP_DATA_DIR", raising=False)
    monkeypatch.setitem(sys.modules, "openml", SimpleNamespace(tasks=SimpleNamespace(get_task=get_task)))
    clear_prepared_cache()
    for name in PAPER_DATASETS:
        bench = make_benchmark("svm", name)
        with pytest.raises(_Stop):
            bench.data  # noqa: B018 - loads the task
    assert asked == PAPER_TASK_IDS


# -- the estimators the benchmarks train ---------------------------------------------------------------

class _ConstantClassifier:
    """Stands in for the estimator: remembers the rows it is fit on, predicts class 0."""

    def __init__(self, log):
        self.log = log

    def fit(self, X, y):
        self.log["n_fit_rows"] = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


def _built(monkeypatch, bench, config, seed):
    """Parameters of the estimator ``bench.evaluate(config, seed)`` builds (not trained)."""
    real = objective.build_model
    log: dict = {}

    def spy(name, cfg, fidelity, **kw):
        log["params"] = real(name, cfg, fidelity, **kw).get_params()
        log["kw"] = kw
        return _ConstantClassifier(log)

    monkeypatch.setattr(objective, "build_model", spy)
    bench.evaluate(config, seed)
    monkeypatch.undo()
    return log


# The paper pair of each model at a value inside its range; all other hyperparameters stay at
# HPOBench's defaults (README: "Other hyperparameters fixed at HPOBench defaults").
PAIR_VALUES = {
    "lr": {"alpha": 2e-3, "eta0": 3e-2},
    "svm": {"C": 4.0, "gamma": 0.25},
    "rf": {"max_depth": 7, "max_features": 0.7},
    "xgb": {"colsample_bytree": 0.6, "eta": 0.05},
    "nn": {"alpha": 1e-4, "batch_size": 64},
}


@pytest.mark.parametrize("model", list(PAIR_VALUES))
def test_estimator_has_the_paper_fidelity_and_hpobench_defaults(monkeypatch, table1_benchmarks, model):
    spec, bench = table1_benchmarks[model]
    cfg = PAIR_VALUES[model]
    assert sorted(bench.space.names) == sorted(cfg)
    seed = 7
    log = _built(monkeypatch, bench, cfg, seed)
    p = log["params"]
    d = bench.data
    # HPOBench trains on train + valid, a bootstrap of that size at subsample = 1
    assert log["n_fit_rows"] == len(d.y_train) + len(d.y_valid)
    if model == "lr":
        assert (p["alpha"], p["eta0"]) == (2e-3, 3e-2)
        assert p["max_iter"] == 1000 and p["loss"] == "log_loss" and p["learning_rate"] == "adaptive"
        assert p["random_state"] == seed
    elif model == "svm":
        assert (p["C"], p["gamma"]) == (4.0, 0.25)
    elif model == "rf":
        assert p["n_estimators"] == 512 and p["max_depth"] == 7 and p["bootstrap"] is True
        # max_features in [0, 1] is used as n_features ** v (features after one-hot encoding)
        assert p["max_features"] == round(d.n_features ** 0.7) and isinstance(p["max_features"], int)
        assert (p["min_samples_split"], p["min_samples_leaf"]) == (32, 1)
        assert p["random_state"] == seed
    elif model == "xgb":
        assert p["n_estimators"] == 2000 and p["subsample"] == 1
        assert (p["learning_rate"], p["colsample_bytree"]) == (0.05, 0.6)
        assert (p["max_depth"], p["reg_lambda"]) == (10, 1.0)
        assert p["random_state"] == 0  # HPOBench's xgboost seeds the model with its own 0
    elif model == "nn":
        assert p["max_iter"] == 243 and (p["alpha"], p["batch_size"]) == (1e-4, 64)
        assert list(p["hidden_layer_sizes"]) == [64, 64, 64] and p["learning_rate_init"] == 1e-3
        assert p["random_state"] == seed
    assert bench.fidelity.get("subsample", 1.0) == 1.0


def test_five_hyperparameter_mlp_space_is_the_papers(data_dir):
    """Fig. 7: depth int [1, 3], width int [16, 1024] log, batch_size int [4, 256] log,
    alpha [1e-8, 1] log, learning_rate_init [1e-5, 1] log."""
    from symexp.pipeline import validate_spec

    (cell,) = build_view(["experiment=pdp"]).cells
    space = validate_spec(cell.spec, check_dirs=False).space
    got = {hp.name: (hp.lower, hp.upper, hp.log, hp.integer) for hp in space}
    assert got == {
        "depth": (1, 3, False, True),
        "width": (16, 1024, True, True),
        "batch_size": (4, 256, True, True),
        "alpha": (1e-8, 1.0, True, False),
        "learning_rate_init": (1e-5, 1.0, True, False),
    }


# -- preprocessing of data with missing values -----------------------------------------------------

def test_missing_values_are_imputed_from_the_training_rows(data_dir, tmp_path):
    """HPOBench's preprocessing on a copy of Australian with holes: a numeric column (A2) gets the
    training median and is standardised with the training mean and std; a nominal column (A5)
    gets the training rows' most frequent category and is one-hot encoded."""
    info = REGISTRY["australian"]
    df = pd.read_csv(data_dir / info.csv_name, dtype=str, keep_default_na=False)
    holes_num = np.arange(0, len(df), 9)
    holes_nom = np.arange(4, len(df), 13)
    df.loc[holes_num, "A2"] = ""
    df.loc[holes_nom, "A5"] = ""
    df.to_csv(tmp_path / info.csv_name, index=False)
    d = make_benchmark("lr", "australian", data_dir=tmp_path).data

    y, _ = encode_labels(df[info.target].to_numpy())
    train, valid, test, _ = split_indices(y)
    rows = {"train": train, "valid": valid, "test": test}
    arrays = {"train": d.X_train, "valid": d.X_valid, "test": d.X_test}
    names = list(d.feature_names)

    a2 = pd.to_numeric(df["A2"].replace("", np.nan))
    median = a2.iloc[train].median()  # of the training rows that have a value
    filled = a2.fillna(median)
    mean, std = filled.iloc[train].mean(), filled.iloc[train].std(ddof=0)
    assert not math.isclose(median, a2.iloc[train].mean())  # median and mean differ here
    col = names.index("A2")
    for part, idx in rows.items():
        np.testing.assert_allclose(arrays[part][:, col], (filled.iloc[idx] - mean) / std, rtol=1e-10, atol=1e-12)
        assert a2.iloc[idx].isna().any()  # every part has holes

    a5 = df["A5"].replace("", np.nan)
    counts = a5.iloc[train].value_counts()
    mode = counts.index[0]
    assert counts.iloc[0] > counts.iloc[1]  # a unique most frequent category
    categories = sorted(a5.iloc[train].dropna().unique())
    one_hot = [names.index(f"A5_{c}") for c in categories]
    assert [n for n in names if n.startswith("A5_")] == [f"A5_{c}" for c in categories]  # nothing else
    for part, idx in rows.items():
        want = a5.iloc[idx].fillna(mode).to_numpy()[:, None] == np.array(categories)[None, :]
        np.testing.assert_array_equal(arrays[part][:, one_hot], want.astype(float))


# -- the test grid and the true cost -----------------------------------------------------------------

class RecordingBenchmark:
    """A benchmark over ``space`` whose cost depends on the evaluation seed: cost(config, seed) =
    mean unit-cube coordinate + 0.01 * seed**2. Records every (configuration, seed) evaluated."""

    def __init__(self, key, space):
        self.key, self.space = key, space
        self.evaluated: list[tuple[tuple, int]] = []

    def base(self, config) -> float:
        return float(np.mean(self.space.in_unit_cube(self.space.to_array([config]))))

    def evaluate_many(self, configs, seeds, n_jobs=1, on_error="raise"):
        self.evaluated += [(tuple(sorted(c.items())), int(s)) for c, s in zip(configs, seeds)]
        return np.array([self.base(c) + 0.01 * s**2 for c, s in zip(configs, seeds)])


def paper_axis(hp, n: int) -> np.ndarray:
    """The authors' test-grid axis: centres of n equal cells of [lower, upper] (in log(value) for
    log hyperparameters); integers truncated, de-duplicated, with the upper bound appended."""
    u = (np.arange(n) + 0.5) / n
    if hp.log:
        values = np.exp(math.log(hp.lower) + u * (math.log(hp.upper) - math.log(hp.lower)))
    else:
        values = hp.lower + u * (hp.upper - hp.lower)
    if hp.integer:
        values = np.array(sorted({math.trunc(v) for v in values} | {hp.upper}), dtype=float)
    return values


@pytest.mark.parametrize("model", list(PAIR_VALUES))
def test_test_set_is_the_papers_grid_with_the_mean_of_five_evaluations(table1_benchmarks, tmp_path, model):
    spec, bench = table1_benchmarks[model]
    fake = RecordingBenchmark(bench.key, bench.space)
    test = load_or_compute_test_set(fake, spec.test_points_per_dim, spec.test_eval_seeds, tmp_path)
    axes = [paper_axis(hp, 10) for hp in bench.space]
    for hp, axis in zip(bench.space, axes):
        if hp.integer:
            assert axis[-1] == hp.upper and np.all(np.diff(axis) > 0)
        else:
            assert len(axis) == 10
    want_X = np.array(list(itertools.product(*axes)))
    assert test.X.shape == want_X.shape
    np.testing.assert_allclose(test.X, want_X, rtol=1e-12, atol=0)
    # every grid point evaluated once under each of the 5 evaluation seeds 0..4
    grid = [tuple(sorted(c.items())) for c in bench.space.from_array(test.X)]
    assert sorted(fake.evaluated) == sorted(itertools.product(grid, range(5)))
    assert test.eval_seeds == (0, 1, 2, 3, 4)
    # true cost = the mean of the 5 evaluations (0.01 * mean(s**2) = 0.06 above the base cost)
    base = np.array([fake.base(c) for c in bench.space.from_array(test.X)])
    np.testing.assert_allclose(test.y, base + 0.06, rtol=0, atol=1e-12)
