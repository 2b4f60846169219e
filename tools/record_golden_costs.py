"""Record the golden costs of ``tests/test_model_golden_costs.py`` into ``tests/golden_costs.json``.

A few fixed configurations per model on small real datasets (OpenML CSVs from
``$SYMEXP_DATA_DIR``: blood-transfusion, binary; vehicle, 4 classes, for the multi-class XGBoost
objective), each trained under fixed evaluation seeds with today's code and defaults (protocol
``hpobench``, the default split). Two fidelities: a reduced one (``small``, a few seconds in
all, run by the fast suite) and the paper's "BB" fidelity (``bb``, the slow test). Record once,
and again only when a protocol fact changes on purpose (say which in the commit):

    SYMEXP_DATA_DIR=../shared/data/openml python tools/record_golden_costs.py [--out tests/golden_costs.json]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (model, dataset, explained hyperparameters or None for the paper's pair, configurations)
CASES = [
    ("lr", "blood_transfusion", None, [{"alpha": 1e-3, "eta0": 1e-2}, {"alpha": 3e-5, "eta0": 0.2}, {"alpha": 0.05, "eta0": 1e-4}]),
    ("svm", "blood_transfusion", None, [{"C": 1.0, "gamma": 0.1}, {"C": 64.0, "gamma": 2.0}, {"C": 0.01, "gamma": 0.003}]),
    ("rf", "blood_transfusion", None, [{"max_depth": 10, "max_features": 0.5}, {"max_depth": 2, "max_features": 0.9}, {"max_depth": 30, "max_features": 0.1}]),
    ("xgb", "blood_transfusion", None, [{"colsample_bytree": 1.0, "eta": 0.3}, {"colsample_bytree": 0.4, "eta": 0.01}]),
    ("xgb", "vehicle", None, [{"colsample_bytree": 0.7, "eta": 0.1}]),
    ("nn", "blood_transfusion", None, [{"alpha": 1e-3, "batch_size": 32}, {"alpha": 0.1, "batch_size": 128}]),
    ("nn", "blood_transfusion", ["depth", "width", "batch_size", "alpha", "learning_rate_init"],
     [{"depth": 1, "width": 200, "batch_size": 64, "alpha": 1e-5, "learning_rate_init": 0.01}]),
]
SEEDS = (0, 3)
FIDELITIES = {
    "small": {"lr": {"iter": 50}, "svm": {}, "rf": {"n_estimators": 16}, "xgb": {"n_estimators": 20}, "nn": {"iter": 15}},
    "bb": {"lr": {}, "svm": {}, "rf": {}, "xgb": {}, "nn": {}},
}


def golden_entries():
    """(fidelity name, model, dataset, hyperparameters, fidelity override, config, seed) of every golden cost."""
    for fid_name, fids in FIDELITIES.items():
        for model, dataset, hps, configs in CASES:
            for config in configs:
                for seed in SEEDS:
                    yield fid_name, model, dataset, hps, fids[model] or None, config, seed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "golden_costs.json")
    args = p.parse_args()
    import sklearn  # noqa: PLC0415
    import xgboost  # noqa: PLC0415

    from symexp.benchmarks import make_benchmark  # noqa: PLC0415

    entries = []
    for fid_name, model, dataset, hps, fid, config, seed in golden_entries():
        bench = make_benchmark(model, dataset, hyperparameters=hps, fidelity=fid)
        cost = bench.evaluate(config, seed)
        entries.append({"fidelity_name": fid_name, "model": model, "dataset": dataset, "hyperparameters": hps,
                        "fidelity": fid, "config": config, "seed": seed, "benchmark": bench.key,
                        "full_config": bench.full_config(config), "cost": cost})
        print(fid_name, model, dataset, config, seed, cost, flush=True)
    out = {"recorded_with": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__,
                             "python": platform.python_version()},
           "entries": entries}
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
