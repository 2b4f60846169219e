"""BO runs at the paper's scale: GP snapshots of large models, checkpoints and resume, the SMAC
child process, and smac 2.0.0's selection (``BOSettings.selection``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from symexp.errors import SymexpError
from symexp.sampling import BOSettings, GPSnapshot, gp_for, run_bo
from symexp.sampling._bo_worker import run_trajectory
from symexp.sampling._testing import CountingObjective, PidFileObjective, branin, branin_space
from symexp.sampling.checkpoint import TrialLog
from symexp.sampling.gp import _blas_single_thread, compare_with_model, kernel_values, set_kernel_values
from symexp.benchmarks.space import Numerical, SearchSpace

REPO = Path(__file__).resolve().parents[1]
PAPER_BO = yaml.safe_load((REPO / "conf" / "bo" / "paper.yaml").read_text())


# -- GP snapshots of SMAC's GP on >= 200 points ----------------------------------------------------

SPACE2 = SearchSpace((Numerical("a", 0.0, 1.0), Numerical("b", 0.0, 1.0)))


def _smac_gp(seed: int = 0):
    from smac.facade.blackbox_facade import BlackBoxFacade

    cs = SPACE2.to_configspace(seed=seed)
    return BlackBoxFacade.get_model(SimpleNamespace(configspace=cs, seed=seed))


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    y = np.sin(6 * X[:, 0]) * X[:, 1] + 0.3 * X[:, 1] ** 2 + 0.01 * rng.standard_normal(n)
    return X, y.reshape(-1, 1)


def _roundtrip_unstable(v: float) -> bool:
    """exp(log(.)) applied twice differs from once: sklearn's fit applies it to the kernel values."""
    once = np.exp(np.log(v))
    return np.exp(np.log(once)) != once


def test_snapshot_reproduces_smac_gp_trained_on_220_points():
    """SMAC's own GP (hyperparameters optimised as in a BO run) on 220 points: bitwise.
    (Trained with single-threaded BLAS as in a BO run; a multi-threaded Cholesky differs.)"""
    model = _smac_gp()
    X, y = _data(220, 0)
    with _blas_single_thread():
        model.train(X, y)
    snap = GPSnapshot.from_smac_model(model, X, y, SPACE2)
    probes = np.vstack([X, np.random.default_rng(1).uniform(size=(64, 2))])
    check = compare_with_model(snap, model, probes)
    assert check["bitwise"] and check["ok"] and check["max_abs_diff_mean"] == 0.0 and check["max_abs_diff_std"] == 0.0
    assert check["n_probes"] == 284 and check["cond_K"] > 1
    # through JSON as stored in a BO run
    again = GPSnapshot.from_json(json.loads(json.dumps(snap.to_json())))
    assert np.array_equal(again.predict_encoded(probes)[0], snap.predict_encoded(probes)[0])


def test_snapshot_stores_the_values_sklearn_rounds_trip():
    """The n=200 failure: sklearn's fit replaces each kernel value v by exp(log(v)); a snapshot of
    the *fitted* values went through that round trip twice and could differ by one ulp. Choose a
    length scale for which this happens and check the snapshot still reproduces the model bitwise."""
    rng = np.random.default_rng(5)
    v = next(x for x in np.exp(rng.uniform(-2, 0, 100_000)) if _roundtrip_unstable(x))
    model = _smac_gp()
    X, y = _data(200, 2)
    values = kernel_values(model._kernel)
    values["k1__k2__length_scale"] = [float(v), 0.5]
    set_kernel_values(model._kernel, values)
    with _blas_single_thread():
        model._train(X, y, optimize_hyperparameters=False)
    fitted = kernel_values(model._gp.kernel_)["k1__k2__length_scale"][0]
    assert fitted != v  # sklearn changed the value in the last bit
    snap = GPSnapshot.from_smac_model(model, X, y, SPACE2)
    assert snap.kernel_params["k1__k2__length_scale"][0] == v  # the value before fit is stored
    check = compare_with_model(snap, model, np.random.default_rng(3).uniform(size=(50, 2)))
    assert check["bitwise"] and check["ok"]
    # the old way (fitted values) is off by floating-point noise only: tolerated, not bitwise
    old = GPSnapshot.from_json({**snap.to_json(), "kernel_params": kernel_values(model._gp.kernel_)})
    old_check = compare_with_model(old, model, np.random.default_rng(3).uniform(size=(50, 2)))
    assert not old_check["bitwise"] and old_check["ok"]
    assert 0 < old_check["max_abs_diff_mean"] <= old_check["tolerance"]


def test_real_mismatch_is_flagged_and_refused():
    model = _smac_gp()
    X, y = _data(30, 4)
    with _blas_single_thread():
        model.train(X, y)
    snap = GPSnapshot.from_smac_model(model, X, y, SPACE2)
    data = snap.to_json()
    data["y_train"] = [v + 1e-6 * i for i, v in enumerate(data["y_train"])]  # other data
    bad = GPSnapshot.from_json(data)
    check = compare_with_model(bad, model, X)
    assert not check["ok"] and check["max_abs_diff_mean"] > check["tolerance"]
    bad.self_check = check
    assert not bad.reproduces_smac
    run = SimpleNamespace(separate={}, snapshots={30: bad},
                          settings=BOSettings(n_trials=30, snapshot_sizes=(30,)), space=SPACE2)
    with pytest.raises(RuntimeError, match="does not reproduce"):
        gp_for(run, 30)


# -- checkpoints --------------------------------------------------------------------------------

def test_trial_log_tolerates_torn_line_and_other_runs(tmp_path):
    path = tmp_path / "ck.jsonl"
    log = TrialLog(path, {"run": 1})
    log.append({"a": 0.5}, 0.25, 7, "Initial Design: Sobol")
    log.append({"a": 0.75}, float("nan"), 7, "Local Search")
    with open(path, "a") as fh:
        fh.write('{"i": 2, "config": {"a": 0.1')  # the process died inside write
    again = TrialLog(path, {"run": 1})
    assert [t["config"] for t in again.trials] == [{"a": 0.5}, {"a": 0.75}] and again.trials[1]["cost"] is None
    assert again.dropped_lines == 1 and again.discarded is None
    again.append({"a": 0.1}, 0.5, 7, "Random Search")
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()[1:]] == [0, 1, 2]
    other = TrialLog(path, {"run": 2})
    assert other.trials == [] and "another BO run" in other.discarded
    path.write_text("not json\n")
    assert "not a symexp BO checkpoint" in TrialLog(path, {"run": 2}).discarded


SMALL = BOSettings(n_trials=6, snapshot_sizes=(3, 6), initial_design_max_ratio=0.5)  # 3 Sobol + 3 BO


@pytest.mark.parametrize("selection", [pytest.param("native", marks=pytest.mark.slow), "smac2.0"])
def test_interrupted_run_resumes_to_the_clean_result(tmp_path, selection):
    settings = BOSettings(**{**SMALL.to_json(), "snapshot_sizes": (3, 6), "selection": selection})
    space = branin_space()
    clean = run_bo(branin, space, settings, 11, tmp_path / "w", isolate=False)
    ck = tmp_path / "ck" / "run.jsonl"
    with pytest.raises(RuntimeError, match="interrupted at call 5"):
        run_bo(CountingObjective(raise_at=5), space, settings, 11, tmp_path / "w", isolate=False, checkpoint=ck)
    assert len(ck.read_text().splitlines()) == 1 + 4  # header + the 4 finished trials
    counter = CountingObjective()
    resumed = run_bo(counter, space, settings, 11, tmp_path / "w", isolate=False, checkpoint=ck)
    assert counter.calls == 2  # trials 5 and 6 only
    assert resumed.replay == {"replayed": 4, "diverged_at": None, "discarded": None}
    assert json.dumps(resumed.to_json()) == json.dumps(clean.to_json())  # bit for bit, snapshots included
    assert not ck.exists()  # removed once the run completed


def test_replay_stops_where_smac_proposes_something_else(tmp_path):
    space = branin_space()
    clean = run_bo(branin, space, SMALL, 11, tmp_path / "w", isolate=False)
    ck = tmp_path / "run.jsonl"
    with pytest.raises(RuntimeError):
        run_bo(CountingObjective(raise_at=6), space, SMALL, 11, tmp_path / "w", isolate=False, checkpoint=ck)
    lines = ck.read_text().splitlines()
    rec = json.loads(lines[1 + 3])  # trial 3, the first BO proposal
    rec["config"]["alpha"] = 0.5
    lines[1 + 3] = json.dumps(rec)
    ck.write_text("\n".join(lines) + "\n")
    counter = CountingObjective()
    with pytest.warns(UserWarning, match="diverged at trial 3"):
        resumed = run_bo(counter, space, SMALL, 11, tmp_path / "w", isolate=False, checkpoint=ck)
    assert resumed.replay["replayed"] == 3 and resumed.replay["diverged_at"] == 3 and counter.calls == 3
    assert json.dumps(resumed.to_json()) == json.dumps(clean.to_json())


@pytest.mark.slow
def test_isolated_run_resumes_and_leaves_no_scratch(tmp_path):
    """The same in the SMAC child process: the checkpoint survives the child's failure, the
    pickled objective does not outlive its loading, and the resumed run equals a clean one."""
    space = branin_space()
    work = tmp_path / "w"
    ck = tmp_path / "run.jsonl"
    with pytest.raises(RuntimeError, match="interrupted at call 5"):
        run_bo(CountingObjective(raise_at=5), space, SMALL, 11, work, checkpoint=ck)
    (kept,) = list(work.iterdir())  # kept for inspection after the failure
    assert kept.name.startswith(f"bo-seed11-pid{os.getpid()}-")
    assert not list(kept.rglob("objective.pkl"))
    assert len(ck.read_text().splitlines()) == 1 + 4
    resumed = run_bo(branin, space, SMALL, 11, work, checkpoint=ck)
    clean = run_bo(branin, space, SMALL, 11, tmp_path / "w2")
    assert json.dumps(resumed.to_json()) == json.dumps(clean.to_json())
    assert resumed.replay["replayed"] == 4 and not ck.exists()


PARENT = """
import sys
from pathlib import Path
from symexp.sampling import BOSettings, run_bo
from symexp.sampling._testing import PidFileObjective, branin_space
run_bo(PidFileObjective(sys.argv[2], 600), branin_space(), BOSettings(n_trials=4, snapshot_sizes=(4,)), 0, Path(sys.argv[1]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (dead, not yet reaped by init) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_smac_child_dies_with_its_parent_and_stale_scratch_is_removed(tmp_path):
    work, pid_file = tmp_path / "w", tmp_path / "child.pid"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(work), str(pid_file)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None, "the SMAC child never evaluated"
            time.sleep(0.2)
        child = int(pid_file.read_text())
        assert child != parent.pid and _alive(child)
        (scratch,) = list(work.iterdir())
        assert scratch.name.startswith(f"bo-seed0-pid{parent.pid}-") and not list(scratch.rglob("objective.pkl"))
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the SMAC child outlived its parent"
            time.sleep(0.1)
    finally:
        if parent.poll() is None:
            parent.kill()
    # the next run in this workdir removes the dead process's scratch directory
    run_bo(branin, branin_space(), BOSettings(n_trials=2, snapshot_sizes=(2,)), 0, work, isolate=False)
    assert not scratch.exists() and not any(work.iterdir())


# -- smac 2.0.0 selection ---------------------------------------------------------------------------

def test_selection_setting():
    assert BOSettings(n_trials=20, snapshot_sizes=(20,)).selection == "native"  # runs made before the field
    s = BOSettings(n_trials=20, snapshot_sizes=(20,), selection="smac2.0")
    assert BOSettings.from_json(json.loads(json.dumps(s.to_json()))) == s
    assert BOSettings.from_json({k: v for k, v in s.to_json().items() if k != "selection"}).selection == "native"
    with pytest.raises(SymexpError, match="bo.selection") as exc:
        BOSettings(n_trials=20, snapshot_sizes=(20,), selection="smac2.4")
    assert "\n" not in str(exc.value)
    assert PAPER_BO["selection"] == "smac2.0"  # the paper's preset uses the paper's SMAC


def _spy_run(monkeypatch, tmp_path, selection: str) -> dict:
    """A 7-trial run (3 Sobol + 4 BO) recording the random search's n_points per maximisation and
    the local searches' start points."""
    from smac.acquisition.maximizer.local_search import LocalSearch
    from smac.acquisition.maximizer.random_search import RandomSearch

    from symexp.sampling.smac_selection import Smac20LocalSearch

    seen: dict = {"n_points": [], "starts": [], "asked": []}
    original = RandomSearch._maximize

    def spy(self, previous_configs, n_points, _sorted=False):
        seen["n_points"].append(n_points)
        return original(self, previous_configs, n_points, _sorted)

    monkeypatch.setattr(RandomSearch, "_maximize", spy)
    local_cls = Smac20LocalSearch if selection == "smac2.0" else LocalSearch
    original_init = local_cls._get_initial_points

    def spy_init(self, previous_configs, n_points, additional_start_points):
        points = original_init(self, previous_configs, n_points, additional_start_points)
        acq = self._acquisition_function
        seen["starts"].append({
            "points": list(points), "previous": list(previous_configs), "n_points": n_points,
            "additional": [c for _, c in additional_start_points],
            "acq": [float(a[0]) for a in acq(list(previous_configs))],
        })
        return points

    monkeypatch.setattr(local_cls, "_get_initial_points", spy_init)
    result = run_trajectory(branin, branin_space(), n_trials=7, snapshot_sizes=[7], seed=2,
                            output_directory=tmp_path / selection, initial_design_per_dim=8,
                            initial_design_max_ratio=0.5, retrain_after=1, deterministic=True, selection=selection,
                            on_ask=lambda smac, info: seen["asked"].append(str(info.config.origin)))
    seen["result"] = result
    # asks that ran the maximiser: after the Sobol design, unless the random design came first
    # (the challenger list is lazy: an interleaved random configuration needs no maximisation)
    seen["maximised"] = sum(o != "Random Search" for o in seen["asked"][3:])
    return seen


def test_random_challengers_per_iteration_smac20_vs_native(monkeypatch, tmp_path):
    """smac 2.0.0 (the paper's) sampled retrain_after = 1 random challenger per BO iteration;
    smac 2.4.1 samples the BlackBoxFacade's 1000."""
    paper = _spy_run(monkeypatch, tmp_path, "smac2.0")
    monkeypatch.undo()
    native = _spy_run(monkeypatch, tmp_path, "native")
    assert len(paper["asked"]) == len(native["asked"]) == 7 + 1  # + the extra ask for the final snapshot
    assert paper["maximised"] >= 3 and native["maximised"] >= 3
    assert paper["n_points"] == [1] * paper["maximised"]
    assert native["n_points"] == [1000] * native["maximised"]
    origins = paper["result"]["origins"]
    assert origins[:3] == ["Initial Design: Sobol"] * 3
    assert all(o.startswith("Acquisition Function Maximizer") or o == "Random Search" for o in origins[3:])


def test_smac20_local_search_start_points_in_a_run(monkeypatch, tmp_path):
    """With fewer than 10 evaluations: every previous configuration, by decreasing EI, then the
    random challenger."""
    paper = _spy_run(monkeypatch, tmp_path, "smac2.0")
    assert len(paper["starts"]) == paper["maximised"] >= 3
    sizes = [len(s["previous"]) for s in paper["starts"]]
    assert sizes == sorted(set(sizes)) and 3 <= sizes[0] and sizes[-1] <= 7
    for s in paper["starts"]:
        acq = dict(zip(map(id, s["previous"]), s["acq"]))
        head = s["points"][:-1]
        assert sorted(map(id, head)) == sorted(map(id, s["previous"]))
        assert all(acq[id(a)] >= acq[id(b)] for a, b in zip(head, head[1:]))
        assert len(s["additional"]) == 1 and s["points"][-1] is s["additional"][0]


class _FakeAcquisition:
    """An acquisition function with given values and a model with given predicted costs."""

    def __init__(self, values: dict, costs: dict):
        self.values, self.costs = values, costs
        self.model = SimpleNamespace(predict_marginalized=self._predict)
        self._order: list = []

    def __call__(self, configs):
        self._order = list(configs)
        return np.array([[self.values[c]] for c in configs])

    def _predict(self, X):
        return np.array([[self.costs[c]] for c in self._order]), None


def test_smac20_start_points_ordered_ei_then_cost_then_random():
    from symexp.sampling.smac_selection import Smac20LocalSearch

    cs = SPACE2.to_configspace(seed=0)
    prev = cs.sample_configuration(25)
    rng = np.random.default_rng(0)
    ei, cost = rng.permutation(25).astype(float), rng.permutation(25).astype(float)
    fake = _FakeAcquisition(dict(zip(prev, ei)), dict(zip(prev, cost)))
    local = Smac20LocalSearch(configspace=cs, acquisition_function=fake, seed=0)
    randoms = [(0.0, c) for c in cs.sample_configuration(12)]
    points = local._get_initial_points(prev, 10, randoms)
    by_ei = [prev[k] for k in np.argsort(-ei)[:10]]
    by_cost = [prev[k] for k in np.argsort(cost)[:10]]
    want = by_ei + [c for c in by_cost if c not in by_ei] + [c for _, c in randoms[:10]]
    assert points == want and len(points) == 10 + len([c for c in by_cost if c not in by_ei]) + 10
    # no evaluations yet: n random configurations
    assert len(local._get_initial_points([], 4, None)) == 4


@pytest.mark.slow
def test_paper_scale_bo_on_the_synthetic_benchmark(tmp_path):
    """200 trials at the paper's settings (conf/bo/paper.yaml, smac 2.0.0 selection) end to end:
    every snapshot reproduces SMAC's model bitwise and a checkpointed run leaves nothing behind."""
    from symexp.benchmarks import make_benchmark
    from symexp.pipeline.training import TolerantObjective

    bench = make_benchmark("synthetic", "synthetic", "hpobench")
    settings = BOSettings.from_json(PAPER_BO)
    assert settings.n_trials == 200 and settings.selection == "smac2.0"
    ck = tmp_path / "bo.checkpoint.jsonl"
    run = run_bo(TolerantObjective(bench), bench.space, settings, 0, tmp_path / "w", checkpoint=ck)
    assert run.n_trials == 200 and sorted(run.snapshots) == list(settings.snapshot_sizes)
    assert all(s.self_check["bitwise"] and s.self_check["ok"] for s in run.snapshots.values())
    assert run.snapshot_deviations == {n: 0.0 for n in settings.snapshot_sizes}
    assert gp_for(run, 200).n == 200 and np.all(np.isfinite(run.y))
    assert not ck.exists() and not any((tmp_path / "w").iterdir())
    assert run.origins.count("Initial Design: Sobol") == settings.initial_design_size(bench.space.dim) == 16
