"""Every parameter each model of ``symexp.benchmarks.models`` trains with, under this interpreter's libraries.

For each model the estimator's ``get_params()`` for one fixed configuration and, for XGBoost, the
booster's *effective* training parameters (``save_config()`` after a 2-round fit on a tiny
problem: what the ``None`` entries of ``get_params()`` resolve to in the C++ core), binary and
4-class. Run it with the project venv and with the old venv of ``bench/model_versions_costs.py``
(xgboost 1.3.1, scikit-learn 1.2.2) and diff the two files: ``docs/model_defaults.md``.

    python bench/model_versions_params.py [--out results/model_defaults]

Writes ``params_sklearn-<v>_xgboost-<v>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

# One fixed configuration per model (not the defaults, so that a value routed to the wrong
# parameter shows); the nn one is the five-hyperparameter MLP.
CONFIGS = {
    "lr": {"alpha": 0.02, "eta0": 0.3},
    "svm": {"C": 4.0, "gamma": 0.05},
    "rf": {"max_depth": 7, "min_samples_split": 5, "max_features": 0.6, "min_samples_leaf": 3},
    "xgb": {"eta": 0.05, "max_depth": 4, "colsample_bytree": 0.7, "reg_lambda": 2.0},
    "nn": {"depth": 2, "width": 48, "batch_size": 16, "alpha": 0.01, "learning_rate_init": 0.005},
}
N_FEATURES = 14
RANDOM_STATE = 7


def xgb_effective(n_classes: int) -> dict:
    """The learner's training parameters after a fit (gbtree + its updater), as xgboost reports them."""
    from symexp.benchmarks.models import MODEL_INFO, build_model  # noqa: PLC0415

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, N_FEATURES))
    y = np.arange(60) % n_classes
    fid = {**MODEL_INFO["xgb"].fidelity, "n_estimators": 2}
    est = build_model("xgb", CONFIGS["xgb"], fid, n_features=N_FEATURES, n_classes=n_classes, random_state=RANDOM_STATE)
    est.fit(X, y)
    cfg = json.loads(est.get_booster().save_config())
    learner = cfg["learner"]
    gb = learner["gradient_booster"]
    out = {"learner_train_param": learner.get("learner_train_param", {}),
           "learner_model_param": learner.get("learner_model_param", {}),
           "objective": learner.get("objective", {}),
           "gbtree_train_param": gb.get("gbtree_train_param", {}),
           # xgboost >= 2 keeps the tree parameters here, 1.3.1 under each updater
           "tree_train_param": gb.get("tree_train_param", {})}
    for name, up in (gb.get("updater") or {}).items() if isinstance(gb.get("updater"), dict) else \
            ((u.get("name"), u) for u in gb.get("updater", [])):
        out[f"updater:{name}"] = up
    return out


def xgb_library_defaults() -> dict:
    """What the library itself resolves tree_method and base_score to when they are left unset
    (the case of HPOBench's ``init_model``): fit on 700 x 14 random rows, 2 rounds."""
    import xgboost as xgb  # noqa: PLC0415

    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, N_FEATURES))
    y = np.arange(700) % 2
    kwargs = {"use_label_encoder": False} if xgb.__version__.startswith("1.") else {}
    est = xgb.XGBClassifier(n_estimators=2, n_jobs=1, verbosity=0, **kwargs).fit(X, y)
    learner = json.loads(est.get_booster().save_config())["learner"]
    return {"gbtree_train_param": learner["gradient_booster"]["gbtree_train_param"],
            "base_score": learner["learner_model_param"]["base_score"],
            "boost_from_average": learner["learner_model_param"].get("boost_from_average")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/model_defaults")
    args = p.parse_args()
    import sklearn  # noqa: PLC0415
    import xgboost  # noqa: PLC0415

    from symexp.benchmarks.models import MODEL_INFO, build_model  # noqa: PLC0415

    result: dict = {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "configs": CONFIGS,
                    "n_features": N_FEATURES, "random_state": RANDOM_STATE, "get_params": {}}
    for model, cfg in CONFIGS.items():
        for n_classes in ((2, 4) if model == "xgb" else (2,)):
            est = build_model(model, cfg, MODEL_INFO[model].fidelity, n_features=N_FEATURES,
                              n_classes=n_classes, random_state=RANDOM_STATE)
            name = model if model != "xgb" else f"xgb_{n_classes}class"
            result["get_params"][name] = {k: repr(v) for k, v in sorted(est.get_params().items())}
    result["xgb_effective"] = {f"{n}class": xgb_effective(n) for n in (2, 4)}
    result["xgb_library_defaults_unset"] = xgb_library_defaults()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"params_sklearn-{sklearn.__version__}_xgboost-{xgboost.__version__}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    tmp.replace(target)
    print(target)


if __name__ == "__main__":
    main()
