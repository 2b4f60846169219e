"""Golden costs: fixed configurations of every model on small real datasets, asserted exactly (issue 23).

``tests/golden_costs.json`` is written by ``tools/record_golden_costs.py`` (which lists the
cases). A cost changes only when a protocol fact changes: the test names which layer moved,
the benchmark key (model, dataset, protocol, fidelity, split, data, ``BENCHMARK_VERSION``), the
full configuration (the HPOBench defaults of the other hyperparameters) or the training itself
(an estimator parameter: see ``tests/test_model_params.py``; or a library version).
The ``small`` fidelity runs in the fast suite, the paper's ``bb`` fidelity is slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symexp.benchmarks import make_benchmark
from tools.record_golden_costs import golden_entries

GOLDEN = json.loads((Path(__file__).parent / "golden_costs.json").read_text())["entries"]


def _check(entries, data_dir):
    # Stops at the first cost that moved: a changed model can train far slower on later entries.
    for e in entries:
        bench = make_benchmark(e["model"], e["dataset"], hyperparameters=e["hyperparameters"], data_dir=data_dir,
                               fidelity=e["fidelity"])
        where = f"{e['model']}/{e['dataset']} {e['config']} seed {e['seed']} ({e['fidelity_name']})"
        assert bench.key == e["benchmark"], (
            f"{where}: benchmark key {bench.key} != recorded {e['benchmark']} (model, dataset, protocol, "
            "fidelity, split, data or BENCHMARK_VERSION moved)")
        assert bench.full_config(e["config"]) == e["full_config"], (
            f"{where}: full configuration {bench.full_config(e['config'])} != recorded {e['full_config']} "
            "(a default of the search space moved)")
        cost = bench.evaluate(e["config"], e["seed"])
        assert cost == e["cost"], (
            f"{where}: cost {cost!r} != recorded {e['cost']!r} (the training moved: an estimator parameter, "
            "the resampling, the seeding or a library version)")


def test_golden_file_covers_every_case_of_the_recorder():
    recorded = [(e["fidelity_name"], e["model"], e["dataset"], e["hyperparameters"], e["fidelity"], e["config"],
                 e["seed"]) for e in GOLDEN]
    assert recorded == [tuple(x) for x in golden_entries()]
    assert {e["model"] for e in GOLDEN} == {"lr", "svm", "rf", "xgb", "nn"}
    # the multi-class objective and the five-hyperparameter MLP are among them
    assert any(e["model"] == "xgb" and e["dataset"] == "vehicle" for e in GOLDEN)
    assert any(e["model"] == "nn" and e["hyperparameters"] and len(e["hyperparameters"]) == 5 for e in GOLDEN)


def test_golden_costs_small_fidelity(data_dir):
    _check([e for e in GOLDEN if e["fidelity_name"] == "small"], data_dir)


@pytest.mark.slow
def test_golden_costs_paper_fidelity(data_dir):
    _check([e for e in GOLDEN if e["fidelity_name"] == "bb"], data_dir)
