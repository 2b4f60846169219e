"""HPOBench "BB" ML benchmarks (LR, SVM, RF, XGBoost, NN on eight OpenML tasks), reimplemented.

HPOBench itself cannot be installed here (git-only, Python <= 3.10), so symexp reproduces its
black-box ML benchmarks: the same search spaces, defaults and fixed fidelities
(:mod:`.models`), the same split and preprocessing (:mod:`.split`), the same training quirks
under ``protocol="hpobench"`` and a corrected ``protocol="clean"`` (:mod:`.objective`), with
per-evaluation seeds and an on-disk evaluation cache (:mod:`.cache`)::

    from symexp.benchmarks import make_benchmark
    bench = make_benchmark("lr", "blood_transfusion", "hpobench", data_dir="shared/data/openml")
    bench.evaluate({"alpha": 1e-3, "eta0": 1e-2}, seed=0)
"""

from symexp.benchmarks.datasets import DATASETS
from symexp.benchmarks.objective import (
    MODELS,
    PROTOCOLS,
    Benchmark,
    EvaluationError,
    MLBenchmark,
    SyntheticBenchmark,
    make_benchmark,
)

__all__ = [
    "DATASETS",
    "MODELS",
    "PROTOCOLS",
    "Benchmark",
    "EvaluationError",
    "MLBenchmark",
    "SyntheticBenchmark",
    "make_benchmark",
]
