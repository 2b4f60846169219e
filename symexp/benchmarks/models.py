"""The five HPOBench model families: full search spaces, fixed ("BB") fidelities, models.

Spaces and defaults are those of HPOBench's black-box benchmarks (``automl/HPOBench``):

======  ===============================================  ==========================================
model   hyperparameters (default)                        source
======  ===============================================  ==========================================
lr      alpha [1e-5, 1] log (1e-3), eta0 [1e-5, 1]       hpobench/benchmarks/ml/lr_benchmark.py
        log (1e-2)
svm     C [2^-10, 2^10] log (1.0), gamma [2^-10, 2^10]   hpobench/benchmarks/ml/svm_benchmark.py
        log (0.1)
rf      max_depth int [1, 50] log (10), min_samples_     hpobench/benchmarks/ml/rf_benchmark.py
        split int [2, 128] log (32), max_features
        [0, 1] (0.5), min_samples_leaf int [1, 20] (1)
xgb     eta [2^-10, 1] log (0.3), max_depth int [1, 50]  hpobench/benchmarks/ml/xgboost_benchmark.py
        log (10), colsample_bytree [0.1, 1] (1.0),
        reg_lambda [2^-10, 2^10] log (1.0)
nn      depth int [1, 3] (3), width int [16, 1024] log   hpobench/benchmarks/ml/nn_benchmark.py
        (64), batch_size int [4, 256] log (32), alpha
        [1e-8, 1] log (1e-3), learning_rate_init
        [1e-5, 1] log (1e-3)
======  ===============================================  ==========================================

Fidelities (the "BB" constants): lr iter=1000, subsample=1; svm subsample=1; rf
n_estimators=512, subsample=1; xgb n_estimators=2000, subsample=1; nn iter=243, subsample=1.

Model construction follows each benchmark's ``init_model``; every model runs single-threaded
so that a cost is bitwise reproducible (parallelism comes from ``evaluate_many``). Deviations,
each forced by newer library versions or by determinism:

* lr: ``loss="log_loss"`` (scikit-learn's new name for HPOBench's ``loss="log"``).
* rf: ``max_features = int(rint(n_features ** v))`` with ``n_features`` after one-hot encoding,
  as in HPOBench; ``n_jobs=1``.
* xgb: labels are ints ``0..k-1`` (HPOBench relied on the old ``use_label_encoder``);
  ``tree_method="exact"`` and ``base_score=0.5`` reproduce xgboost 1.3.1 (the paper's pin), whose
  ``tree_method="auto"`` meant exact greedy on small data and whose base score was fixed at 0.5;
  ``n_jobs=1``. ``eta`` is passed as ``learning_rate`` (the same xgboost parameter).
* nn: ``MLPClassifier(hidden_layer_sizes=[width] * depth, activation="relu", solver="adam",
  max_iter=iter)``, other settings scikit-learn defaults, as in HPOBench.
* Random states are ints: HPOBench's seeding where it is deterministic, a per-evaluation seed
  where HPOBench used its shared ``RandomState`` (see :mod:`.objective`).

Every estimator parameter, where it comes from (HPOBench or the library default of the paper's
versions, xgboost 1.3.1 and scikit-learn 1.2.x) and which defaults moved since:
``docs/model_defaults.md``, pinned by ``tests/test_model_params.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from symexp.errors import unknown_choice
from symexp.benchmarks.space import Numerical, SearchSpace


@dataclass(frozen=True)
class ModelInfo:
    name: str
    space: SearchSpace  # the full HPOBench space, with defaults
    fidelity: dict[str, int | float]  # the BB fidelity (maximum)
    paper_pair: tuple[str, ...]  # the paper's explained hyperparameters
    source: str  # HPOBench file the space and defaults come from


MODEL_INFO: dict[str, ModelInfo] = {
    "lr": ModelInfo(
        "lr",
        SearchSpace((
            Numerical("alpha", 1e-5, 1.0, log=True, default=1e-3),
            Numerical("eta0", 1e-5, 1.0, log=True, default=1e-2),
        )),
        {"iter": 1000, "subsample": 1.0},
        ("alpha", "eta0"),
        "hpobench/benchmarks/ml/lr_benchmark.py",
    ),
    "svm": ModelInfo(
        "svm",
        SearchSpace((
            Numerical("C", 2.0**-10, 2.0**10, log=True, default=1.0),
            Numerical("gamma", 2.0**-10, 2.0**10, log=True, default=0.1),
        )),
        {"subsample": 1.0},
        ("C", "gamma"),
        "hpobench/benchmarks/ml/svm_benchmark.py",
    ),
    "rf": ModelInfo(
        "rf",
        SearchSpace((
            Numerical("max_depth", 1, 50, log=True, integer=True, default=10),
            Numerical("min_samples_split", 2, 128, log=True, integer=True, default=32),
            Numerical("max_features", 0.0, 1.0, default=0.5),
            Numerical("min_samples_leaf", 1, 20, integer=True, default=1),
        )),
        {"n_estimators": 512, "subsample": 1.0},
        ("max_depth", "max_features"),
        "hpobench/benchmarks/ml/rf_benchmark.py",
    ),
    "xgb": ModelInfo(
        "xgb",
        SearchSpace((
            Numerical("eta", 2.0**-10, 1.0, log=True, default=0.3),
            Numerical("max_depth", 1, 50, log=True, integer=True, default=10),
            Numerical("colsample_bytree", 0.1, 1.0, default=1.0),
            Numerical("reg_lambda", 2.0**-10, 2.0**10, log=True, default=1.0),
        )),
        {"n_estimators": 2000, "subsample": 1.0},
        ("colsample_bytree", "eta"),
        "hpobench/benchmarks/ml/xgboost_benchmark.py",
    ),
    "nn": ModelInfo(
        "nn",
        SearchSpace((
            Numerical("depth", 1, 3, integer=True, default=3),
            Numerical("width", 16, 1024, log=True, integer=True, default=64),
            Numerical("batch_size", 4, 256, log=True, integer=True, default=32),
            Numerical("alpha", 1e-8, 1.0, log=True, default=1e-3),
            Numerical("learning_rate_init", 1e-5, 1.0, log=True, default=1e-3),
        )),
        {"iter": 243, "subsample": 1.0},
        ("alpha", "batch_size"),
        "hpobench/benchmarks/ml/nn_benchmark.py",
    ),
}

ML_MODELS: tuple[str, ...] = tuple(MODEL_INFO)

# Integer-valued fidelities (the others are fractions in (0, 1]).
INT_FIDELITIES = ("iter", "n_estimators")

# SVC kernel cache in MB, as in HPOBench's SVM benchmark.
SVM_CACHE_SIZE = 200


def model_info(name: str) -> ModelInfo:
    if name not in MODEL_INFO:
        raise unknown_choice("model", name, ML_MODELS)
    return MODEL_INFO[name]


def build_model(
    name: str,
    config: Mapping[str, Any],
    fidelity: Mapping[str, Any],
    *,
    n_features: int,
    n_classes: int,
    random_state: int,
):
    """An unfitted estimator for a *full* configuration (all hyperparameters of the model)."""
    c = dict(config)
    if name == "lr":
        from sklearn.linear_model import SGDClassifier  # noqa: PLC0415

        return SGDClassifier(
            alpha=float(c["alpha"]), eta0=float(c["eta0"]), loss="log_loss",
            max_iter=int(fidelity["iter"]), learning_rate="adaptive", tol=None,
            random_state=random_state, n_jobs=1,
        )
    if name == "svm":
        from sklearn.svm import SVC  # noqa: PLC0415

        return SVC(C=float(c["C"]), gamma=float(c["gamma"]), random_state=random_state, cache_size=SVM_CACHE_SIZE)
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier  # noqa: PLC0415

        max_features = int(np.rint(np.power(n_features, float(c["max_features"]))))
        return RandomForestClassifier(
            max_depth=int(c["max_depth"]), min_samples_split=int(c["min_samples_split"]),
            max_features=max_features, min_samples_leaf=int(c["min_samples_leaf"]),
            n_estimators=int(fidelity["n_estimators"]), bootstrap=True,
            random_state=random_state, n_jobs=1,
        )
    if name == "xgb":
        import xgboost as xgb  # noqa: PLC0415

        extra: dict[str, Any] = {"objective": "binary:logistic"}
        if n_classes > 2:
            extra = {"objective": "multi:softmax", "num_class": n_classes}
        return xgb.XGBClassifier(
            learning_rate=float(c["eta"]), max_depth=int(c["max_depth"]),
            colsample_bytree=float(c["colsample_bytree"]), reg_lambda=float(c["reg_lambda"]),
            booster="gbtree", n_estimators=int(fidelity["n_estimators"]), subsample=1,
            random_state=random_state, n_jobs=1, tree_method="exact", base_score=0.5,
            verbosity=0, **extra,
        )
    if name == "nn":
        from sklearn.neural_network import MLPClassifier  # noqa: PLC0415

        return MLPClassifier(
            hidden_layer_sizes=[int(c["width"])] * int(c["depth"]),
            batch_size=int(c["batch_size"]), alpha=float(c["alpha"]),
            learning_rate_init=float(c["learning_rate_init"]),
            activation="relu", solver="adam", max_iter=int(fidelity["iter"]),
            random_state=random_state,
        )
    raise unknown_choice("model", name, ML_MODELS)
