"""Tests of symexp.sampling: SMAC runs, GP snapshots, random and BO-GP sampling.

SMAC is slow (about a second per BO iteration here), so the runs are tiny: 8 trials.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from symexp.errors import SymexpError
from symexp.sampling import (
    BORun,
    BOSettings,
    GPSnapshot,
    bo_training_set,
    gp_for,
    gp_labels,
    random_configurations,
    run_bo,
)
from symexp.sampling._bo_worker import initial_design_size, run_trajectory
from symexp.sampling._testing import branin, branin_space, failing_branin, float_space
from symexp.sampling.gp import default_kernel, encode, kernel_values
from symexp.seeding import derive_rng
from symexp.benchmarks.space import Categorical, Numerical, SearchSpace

REPO = Path(__file__).resolve().parents[1]
PAPER_BO = yaml.safe_load((REPO / "conf" / "bo" / "paper.yaml").read_text())  # the protocol lives in conf/


def one_line(exc: pytest.ExceptionInfo) -> bool:
    return "\n" not in str(exc.value)


# -- settings and bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(n_trials=20, snapshot_sizes=(10, 30)),  # snapshot > n_trials
    dict(n_trials=20, snapshot_sizes=(1,)),
    dict(n_trials=20, snapshot_sizes=(10, 10)),
    dict(n_trials=20, snapshot_sizes="20"),
    dict(n_trials=1, snapshot_sizes=()),
    dict(n_trials=20.0, snapshot_sizes=(20,)),
    dict(n_trials=20, snapshot_sizes=(20,), initial_design_max_ratio=1.5),  # initial design > n_trials
    dict(n_trials=20, snapshot_sizes=(20,), initial_design_max_ratio=0),
    dict(n_trials=20, snapshot_sizes=(20,), initial_design_per_dim=0),
    dict(n_trials=20, snapshot_sizes=(20,), retrain_after=0),
    dict(n_trials=20, snapshot_sizes=(20,), deterministic="yes"),
    dict(n_trials=20, snapshot_sizes=(20,), variant="both"),
    dict(n_trials=20, snapshot_sizes=(20,), selection="smac2.1"),
])
def test_bad_settings(kwargs):
    with pytest.raises(SymexpError) as exc:
        BOSettings(**kwargs)
    assert one_line(exc)


def test_settings_normalised_and_json():
    s = BOSettings(n_trials=30, snapshot_sizes=[30, 10, 20], variant="separate")
    assert s.snapshot_sizes == (10, 20, 30)
    assert BOSettings.from_json(json.loads(json.dumps(s.to_json()))) == s
    paper = BOSettings.from_json(PAPER_BO)
    # the paper's separate runs: n whose Sobol design differs from the 200-trial run's
    assert paper.variant == "separate" and paper.separate_sizes(2) == (20, 40, 60)
    assert dataclasses.replace(paper, variant="prefix").separate_sizes(2) == ()  # prefix variant: never
    # the run each n's training set comes from: its own run below 80, else the main run
    for n in (20, 40, 60):
        assert paper.run_settings(2, n) == dataclasses.replace(paper, n_trials=n, snapshot_sizes=(n,), variant="prefix")
    main = dataclasses.replace(paper, variant="prefix")
    assert all(paper.run_settings(2, n) == main for n in (80, 140, 200)) and paper.run_settings(2) == main
    assert all(main.run_settings(2, n) == main for n in (20, 140))


def test_run_bo_rejects_bad_input_before_computing(tmp_path):
    work = tmp_path / "work"
    s = BOSettings(n_trials=8, snapshot_sizes=(8,))
    cat = SearchSpace((Numerical("x", 0.0, 1.0), Categorical("kernel", ("rbf", "linear"))))
    cases = [
        lambda: run_bo(branin, cat, s, 0, work),
        lambda: run_bo(lambda c, seed: 0.0, float_space(), s, 0, work),  # not picklable
        lambda: run_bo(branin, float_space(), s, -1, work),
        lambda: run_bo(branin, float_space(), s, 1.5, work),
        lambda: run_bo(branin, float_space(), {"n_trials": 8}, 0, work),
        lambda: run_bo(42, float_space(), s, 0, work),
    ]
    for case in cases:
        with pytest.raises(SymexpError) as exc:
            case()
        assert one_line(exc)
    assert not work.exists()


def test_objective_the_worker_cannot_import(tmp_path, monkeypatch):
    """A picklable objective from a module the child process cannot import: a one-line error."""
    import types

    mod = types.ModuleType("symexp_test_only_module")
    exec("def objective(config, seed):\n    return 0.0\n", mod.__dict__)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    with pytest.raises(SymexpError) as exc:
        run_bo(mod.objective, float_space(), BOSettings(n_trials=4, snapshot_sizes=(4,)), 0, tmp_path / "work")
    assert one_line(exc) and "cannot load the objective" in str(exc.value)
    assert not any((tmp_path / "work").iterdir())


def test_run_bo_reports_progress(tmp_path):
    """Progress comes out of the worker process while SMAC runs, and the same in-process.

    8 trials: a line every max(1, 8 // 8) = 1 trial, each with the best cost so far."""
    settings = BOSettings(n_trials=8, snapshot_sizes=(8,))
    seen: dict[bool, list] = {True: [], False: []}
    runs = {isolate: run_bo(branin, float_space(), settings, 0, tmp_path / f"w{isolate}", isolate=isolate,
                            progress=lambda *a, isolate=isolate: seen[isolate].append(a))
            for isolate in (True, False)}
    for isolate, run in runs.items():  # (the two trajectories differ: the worker fixes PYTHONHASHSEED)
        assert seen[isolate] == [(done, 8, float(np.min(run.y[:done]))) for done in range(1, 9)]


def test_progress_every_nth_trial_and_the_last():
    from symexp.sampling._bo_worker import every_nth_trial
    from symexp.sampling.bo import _progress_every

    assert [_progress_every(n) for n in (1, 8, 15, 16, 200)] == [1, 1, 1, 2, 25]
    calls = []
    on_trial = every_nth_trial(lambda *a: calls.append(a[0]), _progress_every(30))  # every 3
    for done in range(1, 31):
        on_trial(done, 30, 0.5)
    assert calls == list(range(3, 31, 3))
    calls.clear()
    on_trial = every_nth_trial(lambda *a: calls.append(a[0]), 4)
    for done in range(1, 11):
        on_trial(done, 10, None)
    assert calls == [4, 8, 10]  # the last trial always reports


def test_progress_lines_parse_back():
    from symexp.sampling._bo_worker import parse_progress, progress_printer

    assert progress_printer(None) is None
    assert parse_progress("symexp-progress 4 200 0.125") == (4, 200, 0.125)
    assert parse_progress("symexp-progress 4 200 nan") == (4, 200, None)
    for other in ("", "symexp-progress 4 200", "symexp-progress four 200 0.1", "SMAC: progress 4 200 0.1"):
        assert parse_progress(other) is None


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
def test_initial_design_size_matches_smac(tmp_path, dim):
    from smac import BlackBoxFacade, Scenario

    space = SearchSpace(tuple(Numerical(f"x{i}", 0.0, 1.0) for i in range(dim)))
    for n_trials in (8, 20, 40, 60, 80, 200):
        scenario = Scenario(space.to_configspace(), n_trials=n_trials, seed=0, deterministic=True,
                            output_directory=tmp_path / "smac")
        design = BlackBoxFacade.get_initial_design(scenario, n_configs_per_hyperparameter=8, max_ratio=0.25)
        expected = min(8 * dim, int(0.25 * n_trials))
        assert design._n_configs == expected == initial_design_size(dim, n_trials, 8, 0.25)
        assert len(design.select_configurations()) == expected
    assert [initial_design_size(2, n, 8, 0.25) for n in (20, 40, 60, 80, 200)] == [5, 10, 15, 16, 16]


# -- one in-process SMAC run: snapshots against the live model ------------------------------------

def _smac_refit(snap: GPSnapshot):
    """SMAC's own GaussianProcess fitted on the snapshot's data with its hyperparameters (no optimisation)."""
    from smac.model.gaussian_process import GaussianProcess

    from symexp.sampling.gp import set_kernel_values

    cs = snap.space.to_configspace()
    kernel = default_kernel(cs)
    set_kernel_values(kernel, snap.kernel_params)
    model = GaussianProcess(configspace=cs, kernel=kernel, normalize_y=True, seed=0)
    model._train(snap.X_train, snap.y_train.reshape(-1, 1), optimize_hyperparameters=False)
    return model


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    """8 trials of SMAC in this process (failing_branin: some evaluations fail), snapshots at 2, 6, 8.

    Initial design: min(16, 0.5 * 8) = 4, so the snapshot at 2 is a refit and 6, 8 are live.
    """
    space = branin_space()
    cwd = tmp_path_factory.mktemp("cwd")
    probes_raw = random_configurations(space, 50, seed=123)
    checks: list[dict] = []

    def on_snapshot(smac, snap):
        enc = encode(space, probes_raw)
        mean, std = snap.predict(probes_raw)
        check = {"n": snap.n, "source": snap.source, "snap": (mean, std), "refit": None, "live": None}
        refit_mean, refit_var = _smac_refit(snap).predict(enc)
        check["refit"] = (refit_mean.ravel(), np.sqrt(refit_var.ravel()))
        if snap.source == "live":
            live_mean, live_var = smac._model.predict(enc)
            check["live"] = (live_mean.ravel(), np.sqrt(live_var.ravel()))
            assert smac._model._gp.X_train_.shape[0] == snap.n
        checks.append(check)

    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = run_trajectory(failing_branin, space, n_trials=8, snapshot_sizes=[2, 6, 8], seed=7,
                                output_directory=tmp_path_factory.mktemp("smac"), initial_design_per_dim=8,
                                initial_design_max_ratio=0.5, retrain_after=1, deterministic=True,
                                on_snapshot=on_snapshot)
    finally:
        os.chdir(old)
    return {"result": result, "checks": checks, "cwd": cwd, "probes": probes_raw, "space": space}


def test_snapshots_equal_live_model_and_refit(live_run):
    checks = live_run["checks"]
    assert [(c["n"], c["source"]) for c in checks] == [(2, "refit"), (6, "live"), (8, "live")]
    for c in checks:
        mean, std = c["snap"]
        assert np.array_equal(mean, c["refit"][0]) and np.array_equal(std, c["refit"][1]), c["n"]
        if c["live"] is not None:
            assert np.array_equal(mean, c["live"][0]) and np.array_equal(std, c["live"][1]), c["n"]
        assert np.all(std > 0) and np.all(np.isfinite(mean))


def test_trajectory_contents(live_run):
    r, space = live_run["result"], live_run["space"]
    assert not any(live_run["cwd"].iterdir()), "SMAC wrote into the working directory"
    assert len(r["X"]) == len(r["y"]) == len(r["eval_seeds"]) == 8
    assert r["n_initial_design"] == 4 == initial_design_size(2, 8, 8, 0.5)
    assert all(o.startswith("Initial Design") for o in r["origins"][:4])
    assert len(set(r["eval_seeds"])) == 1  # deterministic scenario: one seed
    X = np.array(r["X"])
    assert np.all(X[:, 1] == np.round(X[:, 1])) and np.all((X >= [1e-5, 4]) & (X <= [1.0, 256]))
    # failing_branin fails for alpha > 1e-3 (Sobol puts one of 4 points in the top quarter of log alpha)
    failed = [i for i, v in enumerate(r["y"]) if v is None]
    assert r["n_failed"] == len(failed) >= 1
    assert all(X[i, 0] > 1e-3 for i in failed)
    # the snapshot at 8 was trained on all 8 evaluations, failures imputed with the worst cost so far
    snap = GPSnapshot.from_json(r["snapshots"]["8"])
    assert snap.n == 8
    worst = -math.inf
    for i, v in enumerate(r["y"]):
        if v is None:
            assert snap.y_train[i] == (worst if worst > -math.inf else 1.0)
        else:
            assert snap.y_train[i] == v
            worst = max(worst, v)
    assert np.allclose(snap.X_train, encode(space, X), atol=1e-9)


def test_snapshot_json_round_trip_exact(live_run):
    for key, data in live_run["result"]["snapshots"].items():
        text = json.dumps(data)
        snap = GPSnapshot.from_json(json.loads(text))
        assert json.dumps(snap.to_json()) == text
        mean, std = snap.predict(live_run["probes"])
        check = next(c for c in live_run["checks"] if c["n"] == int(key))
        assert np.array_equal(mean, check["snap"][0]) and np.array_equal(std, check["snap"][1])


# -- run_bo in separate processes under different hash seeds ----------------------------------------

CHILD = """
import json, sys
from pathlib import Path
import numpy as np
from symexp.sampling import BOSettings, gp_for, random_configurations, run_bo
from symexp.sampling._testing import branin, branin_space

space = branin_space()
run = run_bo(branin, space, BOSettings(n_trials=8, snapshot_sizes=(4, 8), variant="separate"), 3, Path(sys.argv[1]))
probes = random_configurations(space, 30, 5)
preds = {n: [list(map(float, a)) for a in gp_for(run, n).predict(probes)] for n in (4, 8)}
preds["main4"] = [list(map(float, a)) for a in run.snapshots[4].predict(probes)]
paper = run_bo(branin, space, BOSettings(n_trials=8, snapshot_sizes=(8,), selection="smac2.0"), 3, Path(sys.argv[1]))
Path(sys.argv[2]).write_text(json.dumps({"run": run.to_json(), "preds": preds, "paper": paper.to_json()}))
"""


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The same run_bo call in two fresh interpreters with PYTHONHASHSEED 1 and 2, run concurrently."""
    procs, outs = [], []
    for hash_seed in ("1", "2"):
        base = tmp_path_factory.mktemp(f"hash{hash_seed}")
        cwd, work, out = base / "cwd", base / "work", base / "out.json"
        cwd.mkdir()
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(REPO))
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD, str(work), str(out)], cwd=cwd, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs.append((cwd, work, out))
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    return [(cwd, work, json.loads(out.read_text()), out.read_bytes()) for cwd, work, out in outs]


@pytest.mark.slow
def test_run_bo_identical_across_hash_seeds(two_processes):
    (_, _, a, raw_a), (_, _, b, raw_b) = two_processes
    assert raw_a == raw_b  # X, y, seeds, snapshots, predictions: bitwise (both selection modes)
    assert a["run"]["X"] == b["run"]["X"] and a["preds"] == b["preds"] and a["paper"] == b["paper"]
    assert a["paper"]["X"] != a["run"]["X"]  # smac 2.0.0's selection proposes other configurations


@pytest.mark.slow
def test_run_bo_writes_only_below_workdir(two_processes):
    for cwd, work, _, _ in two_processes:
        assert not any(cwd.iterdir()), "something was written into the working directory"
        assert work.is_dir() and not any(work.iterdir()), "temporary SMAC files were left behind"


@pytest.mark.slow
def test_separate_and_prefix_variants(two_processes):
    run = BORun.from_json(two_processes[0][2]["run"])
    assert json.dumps(run.to_json()) == json.dumps(two_processes[0][2]["run"])  # JSON round trip
    # main run: 8 trials, initial design min(16, 2) = 2; separate run for n=4: min(16, 1) = 1
    assert run.settings.separate_sizes(2) == (4,) and sorted(run.separate) == [4]
    assert run.n_initial_design == 2 and run.separate[4].n_initial_design == 1
    assert run.X.shape == (8, 2) and sorted(run.snapshots) == [4, 8]
    sep = run.separate[4]
    X4, y4 = bo_training_set(run, 4)
    assert X4.shape == (4, 2) and np.array_equal(X4, sep.X) and np.array_equal(y4, sep.y)
    assert gp_for(run, 4) is sep.snapshots[4] and gp_for(run, 4).n == 4
    X8, y8 = bo_training_set(run, 8)
    assert np.array_equal(X8, run.X) and gp_for(run, 8) is run.snapshots[8]
    # same seed: both runs start with the same Sobol point, then differ (different design sizes)
    assert np.array_equal(sep.X[0], run.X[0]) and not np.array_equal(sep.X, run.X[:4])
    with pytest.raises(SymexpError):
        bo_training_set(run, 3)  # would need its own run (initial design 0.75 -> 1 != 2)
    with pytest.raises(SymexpError):
        gp_for(run, 5)
    # the predictions written by the child came from these snapshots
    probes = random_configurations(run.space, 30, 5)
    for n in (4, 8):
        mean, std = gp_for(run, n).predict(probes)
        assert two_processes[0][2]["preds"][str(n)] == [list(mean), list(std)]
    # the same artefact read as the prefix variant: everything is a prefix of the main run
    pre = dataclasses.replace(run, settings=dataclasses.replace(run.settings, variant="prefix"), separate={})
    for n in (3, 4, 8):
        X, y = bo_training_set(pre, n)
        assert X.shape == (n, 2) and np.array_equal(X, run.X[:n]) and np.array_equal(y, run.y[:n], equal_nan=True)
    assert gp_for(pre, 4) is run.snapshots[4] and gp_for(pre, 4).n == 4
    assert two_processes[0][2]["preds"]["main4"] != two_processes[0][2]["preds"]["4"]


# -- random and BO-GP sampling ---------------------------------------------------------------------

def test_random_configurations():
    space = branin_space()
    X = random_configurations(space, 200, 0)
    assert X.shape == (200, 2)
    assert np.array_equal(X, random_configurations(space, 200, 0))
    assert np.array_equal(X[:40], random_configurations(space, 40, 0))  # nested across n
    assert not np.array_equal(X, random_configurations(space, 200, 1))
    lo, hi = np.array([1e-5, 4]), np.array([1.0, 256])
    assert np.all((X >= lo) & (X <= hi)) and np.all(X[:, 1] == np.round(X[:, 1]))
    assert np.median(np.log10(X[:, 0])) < -1.5  # log-uniform, not uniform
    space.from_array(X)  # valid configurations
    assert random_configurations(space, 0, 0).shape == (0, 2)
    for bad in (-1, 2.5, True):
        with pytest.raises(SymexpError):
            random_configurations(space, bad, 0)


def _synthetic_snapshot(space: SearchSpace, n: int = 12) -> GPSnapshot:
    X = random_configurations(space, n, 99)
    y = np.array([branin(c, 0) for c in space.from_array(X)])
    kernel = default_kernel(space.to_configspace())
    params = kernel_values(kernel)
    params["k1__k2__length_scale"] = [0.3] * space.dim
    return GPSnapshot(space=space, n=n, X_train=encode(space, X), y_train=y, y_mean=float(np.mean(y)),
                      y_std=float(np.std(y)), kernel_params=params, theta=np.zeros(space.dim + 2), source="refit")


def test_gp_labels_one_batched_call(monkeypatch):
    space = branin_space()
    snap = _synthetic_snapshot(space)
    calls = []
    original = GPSnapshot.predict_encoded

    def counting(self, X_enc):
        calls.append(len(X_enc))
        return original(self, X_enc)

    monkeypatch.setattr(GPSnapshot, "predict_encoded", counting)
    X, y = gp_labels(snap, space, 400, seed=3)
    assert calls == [400]
    assert X.shape == (400, 2) and y.shape == (400,) and np.all(np.isfinite(y))
    assert np.array_equal(X, space.sample(400, derive_rng("bo_gp", 3, snap.n)))
    X2, y2 = gp_labels(snap, space, 400, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(gp_labels(snap, space, 400, seed=4)[0], X)
    # the GP interpolates its (noise-free) training data closely
    Xt = random_configurations(space, 12, 99)
    assert np.allclose(snap.predict(Xt)[0], snap.y_train, atol=1e-3)
    with pytest.raises(SymexpError):
        gp_labels(snap, space, 0, seed=3)
    with pytest.raises(SymexpError):
        gp_labels(snap, float_space(), 10, seed=3)
