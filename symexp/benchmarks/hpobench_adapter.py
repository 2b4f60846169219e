"""Optional: evaluate with the real HPOBench, when it is importable (it is not in symexp's env).

HPOBench is git-only and needs Python <= 3.10, so symexp reimplements its ML benchmarks. Where
HPOBench *is* installed, this thin adapter builds the corresponding ``*BenchmarkBB`` object and
evaluates a configuration of the explained hyperparameters (the others at their defaults) the
way the paper's code did, to cross-check :mod:`symexp.benchmarks` against it. Nothing else in
symexp imports this module; it is not tested here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symexp.benchmarks.datasets import dataset_info
from symexp.benchmarks.models import model_info
from symexp.errors import SymexpError

_CLASSES = {
    "lr": ("hpobench.benchmarks.ml.lr_benchmark", "LRBenchmarkBB"),
    "svm": ("hpobench.benchmarks.ml.svm_benchmark", "SVMBenchmarkBB"),
    "rf": ("hpobench.benchmarks.ml.rf_benchmark", "RandomForestBenchmarkBB"),
    "xgb": ("hpobench.benchmarks.ml.xgboost_benchmark", "XGBoostBenchmarkBB"),
    "nn": ("hpobench.benchmarks.ml.nn_benchmark", "NNBenchmarkBB"),
}


def hpobench_available() -> bool:
    try:
        import hpobench  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


class HPOBenchAdapter:
    """``evaluate(config, seed)`` through HPOBench's own ``objective_function``."""

    def __init__(self, model: str, dataset: str, data_path: str | None = None, rng: int = 1):
        if not hpobench_available():
            raise SymexpError("HPOBench is not importable in this environment; use symexp.benchmarks.make_benchmark")
        import importlib  # noqa: PLC0415

        info = dataset_info(dataset)
        if info.task_id is None:
            raise SymexpError(f"dataset {dataset} is not an OpenML task; HPOBench needs one of the eight task datasets")
        self.minfo = model_info(model)
        module, cls = _CLASSES[model]
        kwargs: dict[str, Any] = {"task_id": info.task_id, "rng": rng}
        if data_path is not None:
            kwargs["data_path"] = data_path
        self.benchmark = getattr(importlib.import_module(module), cls)(**kwargs)

    def evaluate(self, config: Mapping[str, Any], seed: int) -> float:
        full = {**self.minfo.space.defaults(), **dict(config)}
        res = self.benchmark.objective_function(full, fidelity=dict(self.minfo.fidelity), rng=int(seed))
        return float(res["function_value"])
