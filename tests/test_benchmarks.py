"""symexp.benchmarks: API, protocols, determinism across processes, bad inputs, synthetic.

Trainings use cheap fidelity overrides (few iterations / trees) so the whole file runs in
seconds; the paper's fidelities are timed by bench/bench_evaluation.py instead.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symexp.benchmarks.objective as objective
from symexp.benchmarks import DATASETS, MODELS, PROTOCOLS, Benchmark, EvaluationError, make_benchmark
from symexp.benchmarks.models import MODEL_INFO
from symexp.errors import SymexpError

REPO = Path(__file__).resolve().parents[1]

# Cheap fidelities for tests (the paper's are 1000 / 512 / 2000 / 243).
FAST = {"lr": {"iter": 20}, "svm": None, "rf": {"n_estimators": 8}, "xgb": {"n_estimators": 10}, "nn": {"iter": 5}}
PAIRS = {"lr": ("alpha", "eta0"), "svm": ("C", "gamma"), "rf": ("max_depth", "max_features"),
         "xgb": ("colsample_bytree", "eta"), "nn": ("alpha", "batch_size")}


def _cfg(bench, **kw):
    """The defaults of the explained hyperparameters, updated with ``kw``."""
    return {**{n: bench.full_space[n].default for n in bench.space.names}, **kw}


def test_constants():
    assert MODELS == ("lr", "svm", "rf", "xgb", "nn", "synthetic")
    assert DATASETS == ("blood_transfusion", "vehicle", "australian", "car", "phoneme", "segment", "credit_g",
                        "kc1", "breast_cancer", "synthetic")
    assert PROTOCOLS == ("hpobench", "clean")


@pytest.mark.parametrize("model", list(PAIRS))
def test_paper_spaces_and_fidelities(data_dir, model):
    bench = make_benchmark(model, "blood_transfusion", data_dir=data_dir)
    assert isinstance(bench, Benchmark)
    assert tuple(bench.space.names) == PAIRS[model]
    assert set(bench.space.names) <= set(bench.full_space.names)
    assert bench.fidelity == {"lr": {"iter": 1000, "subsample": 1.0}, "svm": {"subsample": 1.0},
                              "rf": {"n_estimators": 512, "subsample": 1.0},
                              "xgb": {"n_estimators": 2000, "subsample": 1.0},
                              "nn": {"iter": 243, "subsample": 1.0}}[model]
    assert bench.key.startswith(f"{model}/blood_transfusion/hpobench/")
    ranges = {"alpha": (1e-5, 1) if model == "lr" else (1e-8, 1), "eta0": (1e-5, 1), "C": (2**-10, 2**10),
              "gamma": (2**-10, 2**10), "max_depth": (1, 50), "max_features": (0, 1), "colsample_bytree": (0.1, 1),
              "eta": (2**-10, 1), "batch_size": (4, 256)}
    for hp in bench.space:
        assert (hp.lower, hp.upper) == pytest.approx(ranges[hp.name])
        assert hp.log == (hp.name not in ("max_features", "colsample_bytree"))
        assert hp.integer == (hp.name in ("max_depth", "batch_size"))


def test_five_hp_nn_and_defaults(data_dir):
    names = ["depth", "width", "batch_size", "alpha", "learning_rate_init"]
    bench = make_benchmark("nn", "blood_transfusion", hyperparameters=names, data_dir=data_dir, fidelity={"iter": 3})
    assert bench.space.names == names
    assert bench.key != make_benchmark("nn", "blood_transfusion", data_dir=data_dir, fidelity={"iter": 3}).key
    assert bench.full_space.defaults() == {"depth": 3, "width": 64, "batch_size": 32, "alpha": 1e-3,
                                           "learning_rate_init": 1e-3}
    assert MODEL_INFO["rf"].space.defaults() == {"max_depth": 10, "min_samples_split": 32, "max_features": 0.5,
                                                 "min_samples_leaf": 1}
    assert MODEL_INFO["xgb"].space.defaults() == {"eta": 0.3, "max_depth": 10, "colsample_bytree": 1.0,
                                                  "reg_lambda": 1.0}
    cost = bench.evaluate({"depth": 1, "width": 16, "batch_size": 64, "alpha": 1e-4, "learning_rate_init": 1e-2}, 0)
    assert 0.0 <= cost <= 1.0


def test_pickle_is_cheap_and_works(data_dir):
    bench = make_benchmark("svm", "blood_transfusion", data_dir=data_dir)
    c0 = bench.evaluate(_cfg(bench), 1)
    assert bench.n_trainings == 1 and "_data" in bench.__dict__
    blob = pickle.dumps(bench)
    assert len(blob) < 5000
    clone = pickle.loads(blob)
    assert "_data" not in clone.__dict__ and clone.n_trainings == 0
    assert clone.evaluate(_cfg(clone), 1) == c0  # recomputed (no disk cache), bitwise equal
    assert clone.n_trainings == 1


class _Recorder:
    """A stand-in estimator that records what it is fit on and predicts class 0."""

    seen: list = []

    def __init__(self, **kw):
        self.kw = kw

    def fit(self, X, y):
        _Recorder.seen.append((X.copy(), y.copy(), self.kw))
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


def test_protocols_train_on_the_documented_rows(data_dir, monkeypatch):
    monkeypatch.setattr(objective, "build_model", lambda name, config, fidelity, **kw: _Recorder(**kw))
    _Recorder.seen = []
    hp = make_benchmark("lr", "blood_transfusion", "hpobench", data_dir=data_dir)
    clean = make_benchmark("lr", "blood_transfusion", "clean", data_dir=data_dir)
    d = hp.data
    c_hp = hp.evaluate(_cfg(hp), 0)
    c_clean = clean.evaluate(_cfg(clean), 0)
    (X_hp, y_hp, kw_hp), (X_cl, y_cl, kw_cl) = _Recorder.seen
    # hpobench: bootstrap of train+valid, n = n_train + n_valid, with repeated rows
    n = len(d.y_train) + len(d.y_valid)
    assert X_hp.shape == (n, d.n_features)
    pool = np.vstack((d.X_train, d.X_valid))
    assert len(np.unique(X_hp, axis=0)) < len(np.unique(pool, axis=0))
    assert {tuple(r) for r in X_hp} <= {tuple(r) for r in pool}
    # clean: exactly the training rows
    np.testing.assert_array_equal(X_cl, d.X_train)
    np.testing.assert_array_equal(y_cl, d.y_train)
    # cost = 1 - accuracy on the validation rows (the recorder predicts class 0)
    assert c_hp == c_clean == pytest.approx(1 - np.mean(d.y_valid == 0))
    assert kw_hp["n_classes"] == 2 and kw_hp["n_features"] == d.n_features
    assert kw_hp["random_state"] != kw_cl["random_state"]


_DETERMINISM_SCRIPT = """
import json, sys
from symexp.benchmarks import make_benchmark
cases = json.loads(sys.argv[2])
out = []
for model, dataset, protocol, fid, cfg, seed in cases:
    b = make_benchmark(model, dataset, protocol, data_dir=sys.argv[1], fidelity=fid)
    out.append(b.evaluate(cfg, seed).hex())
print(json.dumps(out))
"""


def test_costs_bitwise_identical_across_processes(data_dir):
    cases = [
        ("lr", "blood_transfusion", "hpobench", FAST["lr"], {"alpha": 1e-4, "eta0": 0.3}, 7),
        ("svm", "vehicle", "hpobench", None, {"C": 2.0, "gamma": 0.05}, 7),
        ("rf", "blood_transfusion", "clean", FAST["rf"], {"max_depth": 5, "max_features": 0.7}, 7),
        ("xgb", "vehicle", "hpobench", FAST["xgb"], {"colsample_bytree": 0.5, "eta": 0.1}, 7),
        ("nn", "blood_transfusion", "hpobench", FAST["nn"], {"alpha": 1e-3, "batch_size": 16}, 7),
    ]
    outs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        res = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT, str(data_dir), json.dumps(cases)],
                             capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=True)
        outs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]
    here = [make_benchmark(m, ds, p, data_dir=data_dir, fidelity=f).evaluate(c, s).hex() for m, ds, p, f, c, s in cases]
    assert here == outs[0]
    # different seeds give different draws (at least one of the stochastic models changes)
    other = [make_benchmark(m, ds, p, data_dir=data_dir, fidelity=f).evaluate(c, s + 1).hex()
             for m, ds, p, f, c, s in cases if m in ("rf", "xgb", "nn")]
    assert other != [h for h, case in zip(here, cases) if case[0] in ("rf", "xgb", "nn")]


@pytest.mark.slow
def test_each_model_trains_on_each_dataset(data_dir):
    """One configuration per (model, dataset), the eight OpenML datasets plus breast_cancer."""
    from joblib import Parallel, delayed

    datasets = [d for d in DATASETS if d != "synthetic"]
    benches = [make_benchmark(m, d, data_dir=data_dir, fidelity=FAST[m]) for m in PAIRS for d in datasets]
    costs = Parallel(n_jobs=2, backend="loky")(delayed(_eval_default)(b) for b in benches)
    for b, c in zip(benches, costs):
        assert 0.0 <= c < 0.9, (b.key, c)


def _eval_default(bench):
    return bench.evaluate(_cfg(bench), 0)


def test_evaluate_many_parallel_matches_sequential(data_dir, tmp_path):
    bench = make_benchmark("rf", "blood_transfusion", data_dir=data_dir, fidelity=FAST["rf"], cache_dir=tmp_path)
    configs = [{"max_depth": d, "max_features": f} for d, f in ((1, 0.0), (3, 0.5), (10, 1.0), (50, 0.25))]
    configs.append(dict(configs[1]))  # a duplicate is trained once
    par = bench.evaluate_many(configs, 3, n_jobs=2)
    assert par.shape == (5,) and par[1] == par[4]
    assert bench.n_trainings == 4
    seq = make_benchmark("rf", "blood_transfusion", data_dir=data_dir, fidelity=FAST["rf"])
    np.testing.assert_array_equal(par, [seq.evaluate(c, 3) for c in configs])
    # paired seeds
    paired = bench.evaluate_many(configs[:2], [3, 4])
    assert paired[0] == par[0] and bench.n_trainings == 5


def test_failure_raises_and_is_not_cached(data_dir, tmp_path, monkeypatch):
    class Boom(_Recorder):
        def fit(self, X, y):
            raise FloatingPointError("diverged")

    bench = make_benchmark("lr", "blood_transfusion", data_dir=data_dir, cache_dir=tmp_path)
    monkeypatch.setattr(objective, "build_model", lambda *a, **kw: Boom())
    with pytest.raises(EvaluationError, match="diverged") as info:
        bench.evaluate(_cfg(bench), 0)
    assert info.value.config["alpha"] == 1e-3
    assert pickle.loads(pickle.dumps(info.value)).reason == info.value.reason
    assert not list(tmp_path.rglob("*.json"))
    costs = bench.evaluate_many([_cfg(bench), _cfg(bench, alpha=0.1)], 0, on_error="nan")
    assert np.isnan(costs).all()
    with pytest.raises(EvaluationError):
        bench.evaluate_many([_cfg(bench)], 0)
    assert not list(tmp_path.rglob("*.json"))
    monkeypatch.undo()
    assert 0 <= bench.evaluate(_cfg(bench), 0) <= 1  # a later success is computed and cached
    assert len(list(tmp_path.rglob("*.json"))) == 1


# ----------------------------------------------------------------------------------------------
# bad inputs: one-line SymexpError naming the valid choices, raised before any work
# ----------------------------------------------------------------------------------------------

def test_bad_inputs(data_dir, tmp_path):
    cache = tmp_path / "cache"
    bad_csv_dir = tmp_path / "bad"
    bad_csv_dir.mkdir()
    (bad_csv_dir / "1464_blood-transfusion-service-center.csv").write_text("V1,V2,V3,V4,target\n1,2,3,4,1\n")
    (bad_csv_dir / "40975_car.csv").write_text("buying,maint,doors,persons,lug,safety,class\nx,x,x,x,x,x,y\n")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    cases = [
        (dict(model="logreg"), r"unknown model 'logreg'; valid: lr, svm, rf, xgb, nn, synthetic"),
        (dict(dataset="iris"), r"unknown dataset 'iris'; valid: blood_transfusion, .*breast_cancer, synthetic"),
        (dict(model="synthetic", dataset="blood_transfusion"), r"only with dataset 'synthetic'"),
        (dict(model="lr", dataset="synthetic"), r"valid datasets for lr: blood_transfusion"),
        (dict(protocol="hpo"), r"unknown protocol 'hpo'; valid: hpobench, clean"),
        (dict(hyperparameters=["alpha", "C"]), r"unknown hyperparameter\(s\) 'C' for model lr; valid: alpha, eta0"),
        (dict(hyperparameters=[]), r"hyperparameters is empty; valid: alpha, eta0"),
        (dict(fidelity={"n_estimators": 5}), r"unknown fidelity 'n_estimators' for model lr; valid: iter, subsample"),
        (dict(fidelity={"iter": 0}), r"fidelity iter must be a positive integer"),
        (dict(noise=0.1), r"noise is only for the synthetic benchmark"),
        (dict(data_dir=tmp_path / "missing"), r"data directory .*missing does not exist"),
        (dict(data_dir=empty_dir), r"expected file 1464_blood-transfusion-service-center.csv in data directory .*empty"),
        (dict(data_dir=bad_csv_dir), r"does not match the registry: last column 'target', expected target 'Class'"),
        (dict(dataset="car", data_dir=bad_csv_dir), r"nominal column\(s\) lug_boot missing"),
    ]
    for kwargs, pattern in cases:
        kw = {"model": "lr", "dataset": "blood_transfusion", "data_dir": data_dir, "cache_dir": cache, **kwargs}
        with pytest.raises(SymexpError, match=pattern) as info:
            make_benchmark(**kw)
        assert "\n" not in str(info.value)

    bench = make_benchmark("lr", "blood_transfusion", data_dir=data_dir, cache_dir=cache)
    config_cases = [
        ({"alpha": 2.0, "eta0": 0.01}, r"alpha=2.0 is outside the space; valid: alpha: float \[1e-05, 1\], log"),
        ({"alpha": 0.01}, r"missing eta0"),
        ({"alpha": 0.01, "eta0": 0.01, "C": 1.0}, r"unknown hyperparameter\(s\) C; valid: alpha, eta0"),
        ({"alpha": "big", "eta0": 0.01}, r"alpha must be a number, got 'big'"),
        ({"alpha": float("nan"), "eta0": 0.01}, r"outside the space"),
    ]
    for cfg, pattern in config_cases:
        with pytest.raises(SymexpError, match=pattern):
            bench.evaluate(cfg, 0)
        with pytest.raises(SymexpError, match=pattern):
            bench.evaluate_many([_cfg(bench), cfg], 0)  # the valid first config is not trained either
    rf = make_benchmark("rf", "blood_transfusion", data_dir=data_dir, cache_dir=cache)
    with pytest.raises(SymexpError, match="max_depth=2.5 must be an integer"):
        rf.evaluate({"max_depth": 2.5, "max_features": 0.5}, 0)
    with pytest.raises(SymexpError, match="seed must be an int"):
        bench.evaluate(_cfg(bench), 1.5)
    with pytest.raises(SymexpError, match="got 3 seeds for 2 configurations"):
        bench.evaluate_many([_cfg(bench)] * 2, [0, 1, 2])
    with pytest.raises(SymexpError, match="n_jobs must be a positive int or -1"):
        bench.evaluate_many([_cfg(bench)], 0, n_jobs=0)
    assert bench.n_trainings == 0 and rf.n_trainings == 0
    assert not cache.exists()  # nothing written


def test_categorical_rejected():
    from symexp.benchmarks.space import Categorical, SearchSpace

    space = SearchSpace((Categorical("kernel", ("rbf", "linear"), "rbf"),))
    with pytest.raises(SymexpError, match="categorical hyperparameter"):
        space.require_numerical("explanation")


def test_online_mode_is_chosen_without_data_dir(data_dir, monkeypatch):
    """No data dir and no $SYMEXP_DATA_DIR: the OpenML task split (nothing is downloaded here)."""
    monkeypatch.delenv("SYMEXP_DATA_DIR", raising=False)
    online = make_benchmark("lr", "kc1")
    assert online.data_dir is None and online.key.startswith("lr/kc1/hpobench/")
    monkeypatch.setenv("SYMEXP_DATA_DIR", str(data_dir))
    offline = make_benchmark("lr", "kc1")
    assert offline.data_dir is not None and offline.key != online.key


# ----------------------------------------------------------------------------------------------
# synthetic
# ----------------------------------------------------------------------------------------------

def test_synthetic_cost_equals_formula(tmp_path):
    import sympy

    bench = make_benchmark("synthetic", "synthetic", cache_dir=tmp_path)
    assert bench.space.names == ["x", "y"]
    expr = sympy.sympify(bench.true_formula)
    assert {str(s) for s in expr.free_symbols} == {"x", "y"}
    f = sympy.lambdify(sympy.symbols("x y"), expr)
    rng = np.random.default_rng(0)
    X = bench.space.sample(20, rng)
    configs = bench.space.from_array(X)
    costs = bench.evaluate_many(configs, 0)
    np.testing.assert_allclose(costs, [f(c["x"], c["y"]) for c in configs], rtol=1e-12)
    assert bench.n_trainings == 20
    assert bench.split_info["source"] == "synthetic"
    again = make_benchmark("synthetic", "synthetic", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.evaluate_many(configs, 0), costs)
    assert again.n_trainings == 0

    noisy = make_benchmark("synthetic", "synthetic", noise=0.05)
    a = noisy.evaluate(configs[0], 0)
    assert a == noisy.evaluate(configs[0], 0) != noisy.evaluate(configs[0], 1)
    assert abs(a - costs[0]) < 0.5 and noisy.key != bench.key
