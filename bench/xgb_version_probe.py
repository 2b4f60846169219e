"""Is the xgboost 1.3.1 / 3.2.0 difference the column sampler? Costs of four xgb/australian
configurations (two with ``colsample_bytree`` = 1, i.e. no column sampling) under seeds 0-2 at
the full fidelity, printed as JSON; run it with the project venv and with the old venv of
``bench/model_versions_costs.py`` and compare (docs/model_defaults.md, "Measurements").

    python bench/xgb_version_probe.py ; /tmp/oldvenv/bin/python bench/xgb_version_probe.py
"""

from __future__ import annotations

import json

import xgboost

from symexp.benchmarks import make_benchmark

CONFIGS = ({"colsample_bytree": 1.0, "eta": 0.0883883476483184}, {"colsample_bytree": 0.55, "eta": 0.0883883476483184},
           {"colsample_bytree": 1.0, "eta": 0.7071067811865476}, {"colsample_bytree": 0.325, "eta": 0.7071067811865476})


def main() -> None:
    bench = make_benchmark("xgb", "australian")
    costs = [[bench.evaluate(cfg, s) for s in (0, 1, 2)] for cfg in CONFIGS]
    print(json.dumps({"xgboost": xgboost.__version__, "configs": CONFIGS, "costs": costs}))


if __name__ == "__main__":
    main()
