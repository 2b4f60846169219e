"""symexp.benchmarks.cache: hits without retraining, on-disk layout, concurrent processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from symexp.benchmarks import make_benchmark
from symexp.benchmarks.cache import EvaluationCache, entry_id

REPO = Path(__file__).resolve().parents[1]


def test_cache_hits_without_retraining(data_dir, tmp_path):
    kw = dict(model="lr", dataset="blood_transfusion", data_dir=data_dir, cache_dir=tmp_path, fidelity={"iter": 20})
    bench = make_benchmark(**kw)
    configs = [{"alpha": a, "eta0": 0.01} for a in (1e-5, 1e-3, 1e-1)]
    first = bench.evaluate_many(configs, 0)
    assert bench.n_trainings == 3
    assert bench.evaluate(configs[0], 0) == first[0]
    assert bench.n_trainings == 3

    # a second object on the same cache directory reads the stored costs
    other = make_benchmark(**kw)
    np.testing.assert_array_equal(other.evaluate_many(configs, 0), first)
    assert other.n_trainings == 0
    # a new seed or protocol is a new entry
    other.evaluate(configs[0], 1)
    make_benchmark(**{**kw, "protocol": "clean"}).evaluate(configs[0], 0)
    assert other.n_trainings == 1

    entries = list(bench._cache.entries())
    assert len(entries) == 4
    e = next(x for x in entries if x["seed"] == 0 and x["config"]["alpha"] == 1e-3)
    assert e["cost"] == first[1] and e["benchmark"] == bench.key and e["protocol"] == "hpobench"
    assert e["fidelity"] == {"iter": 20, "subsample": 1.0} and e["fit_seconds"] >= 0
    assert e["config"] == {"alpha": 1e-3, "eta0": 0.01}
    assert e["id"] == entry_id(bench.key, "hpobench", bench.fidelity, e["config"], 0)
    path = bench._cache.path(e["id"])
    assert path.is_file() and path.parent.name == e["id"][:2]
    assert path.is_relative_to(tmp_path / "lr" / "blood_transfusion" / "hpobench")


def test_reader_ignores_temporary_and_damaged_files(tmp_path, capsys):
    cache = EvaluationCache(tmp_path, "synthetic/synthetic/hpobench/abc")
    eid = entry_id(cache.bench_key, "hpobench", {}, {"x": 1.0, "y": 0.5}, 0)
    shard = cache.path(eid).parent
    shard.mkdir(parents=True)
    (shard / f".tmp-{eid}.json").write_text('{"cost": 0.3')  # a torn temporary file
    assert cache.get(eid) is None and list(cache.entries()) == []
    cache.path(eid).write_text("not json")  # damaged: set aside, named, recomputed
    cost, computed = cache.get_or_compute(eid, {"seed": 0}, lambda: (0.25, 0.0))
    assert (cost, computed) == (0.25, True)
    assert json.loads(cache.path(eid).read_text())["cost"] == 0.25
    (aside,) = (shard / ".damaged").iterdir()
    assert aside.read_text() == "not json" and str(cache.path(eid)) in capsys.readouterr().err
    fresh = EvaluationCache(tmp_path, cache.bench_key)
    assert fresh.get(eid) == 0.25
    assert [e["cost"] for e in fresh.entries()] == [0.25]


_CONCURRENT_SCRIPT = """
import sys, json, os, time
from pathlib import Path
from symexp.benchmarks import make_benchmark
data_dir, cache_dir, barrier = sys.argv[1], sys.argv[2], Path(sys.argv[3])
b = make_benchmark("rf", "phoneme", data_dir=data_dir, cache_dir=cache_dir, fidelity={"n_estimators": 64})
b.data  # load first, then wait for the other process, so both race for the same missing entry
(barrier / str(os.getpid())).touch()
deadline = time.time() + 60
while len(list(barrier.iterdir())) < 2 and time.time() < deadline:
    time.sleep(0.01)
costs = b.evaluate_many([{"max_depth": 8, "max_features": 0.5}, {"max_depth": 4, "max_features": 0.5}], 0)
print(json.dumps({"trainings": b.n_trainings, "costs": [c.hex() for c in costs]}))
"""


def test_concurrent_processes_train_each_entry_once(data_dir, tmp_path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONCURRENT_SCRIPT, str(data_dir), str(cache), str(barrier)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        for _ in range(2)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert outs[0]["costs"] == outs[1]["costs"]
    assert outs[0]["trainings"] + outs[1]["trainings"] == 2  # each entry trained by one process only
    stored = list(cache.rglob("*.json"))
    assert len(stored) == 2 and not list(cache.rglob(".tmp-*"))
