"""The `cluster` config group, and real runs on a real (local, single-node) SLURM.

Two kinds of tests:

* composition tests (fast, no scheduler): what `cluster=local|slurm|slurm_local|<site file>`
  puts into `hydra.launcher`;
* `@pytest.mark.slurm` tests: a tiny Hydra app (tests/slurm_app/app.py, same cluster group via
  Hydra's search path) submitted through hydra-submitit-launcher to the SLURM started by
  slurm/local_cluster.sh: a 2-job sweep lands both results; a failing task and a cancelled job
  make the sweep fail and leave no result; a requeued job (hard requeue, and submitit's own
  checkpoint-on-USR2 path) resumes from its saved progress and completes.

The session fixture uses a running local cluster, or starts one with slurm/local_cluster.sh when
SLURM is installed and we are root (and stops it at the end, also when tests fail). It skips
with the reason when the SLURM tools are missing or the cluster can't be brought up without root.
It never submits to a cluster whose ClusterName isn't the local test cluster's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "slurm" / "local_cluster.sh"
APP = REPO / "tests" / "slurm_app" / "app.py"
APP_CONF = APP.parent / "conf"
CONF = REPO / "conf"
LOCAL_CLUSTER = os.environ.get("SYMEXP_SLURM_CLUSTER", "symexp-local")
STATE_DIR = Path(os.environ.get("SYMEXP_SLURM_DIR", "/tmp/symexp-slurm"))

# ----------------------------------------------------------------------------------------------
# Composition of the cluster group (no scheduler needed)


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    os.environ.setdefault("SYMEXP_CONF_DIR", str(CONF))
    with initialize_config_dir(config_dir=str(APP_CONF), version_base="1.3"):
        return compose(config_name="app", overrides=overrides, return_hydra_config=True)


def test_cluster_local_uses_basic_launcher():
    cfg = _compose([])
    assert cfg.cluster.name == "local"
    assert cfg.hydra.launcher._target_.endswith("BasicLauncher")


def test_cluster_slurm_launcher_settings():
    cfg = _compose(["cluster=slurm", "job_minutes=17", "cluster.partition=long", "cluster.account=proj"])
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert (launcher.cpus_per_task, launcher.mem_gb) == (64, 64)
    assert launcher.timeout_min == 17  # from the experiment's job_minutes
    assert (launcher.partition, launcher.account, launcher.qos) == ("long", "proj", None)
    assert "export PYTHONHASHSEED=0" in launcher.setup
    assert launcher.additional_parameters.requeue is True
    assert launcher.array_parallelism == 512
    assert cfg.cluster.layout == "shared"  # run.py plans work items for this layout (not one task per cell)


@pytest.mark.parametrize("choice, layout", [("slurm", "shared"), ("slurm_node", "node"), ("slurm_cell", "cell"),
                                            ("slurm_local", "shared"), ("local", "cell")])
def test_cluster_choices_and_their_layouts(choice, layout):
    from symexp.app.config import layout_settings
    from omegaconf import OmegaConf

    cfg = _compose([f"cluster={choice}"])
    cluster = OmegaConf.to_container(cfg.cluster, resolve=True)
    assert cluster["layout"] == layout
    settings = layout_settings(cluster)
    assert settings.layout == layout
    if choice == "slurm_node":
        assert (settings.cpus_per_node, settings.nodes) == (64, 4)
        assert cluster["additional_parameters"]["exclusive"] is True
    if choice == "slurm_cell":
        assert cfg.hydra.launcher.cpus_per_task == 64 and settings.cell_cpus == 64


def test_bad_layout_is_a_one_line_error():
    from symexp.app.config import layout_settings
    from symexp.errors import SymexpError

    with pytest.raises(SymexpError, match="unknown cluster.layout 'nodes'; valid: cell, shared, node"):
        layout_settings({"name": "slurm", "layout": "nodes"})
    with pytest.raises(SymexpError, match="cluster.task_cpus=8 does not fit on a node"):
        layout_settings({"name": "slurm", "layout": "shared", "cpus_per_node": 4, "task_cpus": 8})


def test_cluster_slurm_timeout_without_job_minutes_and_explicit_override():
    assert _compose(["cluster=slurm", "~job_minutes"]).hydra.launcher.timeout_min == 60
    assert _compose(["cluster=slurm", "cluster.timeout_min=7"]).hydra.launcher.timeout_min == 7


def test_site_file_extends_slurm(tmp_path):
    site = tmp_path / "cluster"
    site.mkdir()
    (site / "my_site.yaml").write_text(
        "# @package _global_\ndefaults:\n  - slurm\n\ncluster:\n  partition: cpu_long\n  qos: high\n"
    )
    cfg = _compose(["cluster=my_site", f"hydra.searchpath=[file://{CONF},file://{tmp_path}]"])
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.partition, launcher.qos, launcher.cpus_per_task) == ("cpu_long", "high", 64)


# ----------------------------------------------------------------------------------------------
# The local SLURM


def _run(cmd: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def _script(action: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return _run(["bash", str(SCRIPT), action], timeout=timeout)


def _cluster_name() -> str | None:
    try:
        out = _run(["scontrol", "show", "config"], timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "ClusterName":
            return value.strip()
    return None


# Coordination between pytest processes (xdist workers) that share the one local cluster: the
# first to need it starts it, the last to finish stops it (only if tests started it).
COORD = STATE_DIR.parent / f"{STATE_DIR.name}-tests"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def local_slurm():
    """A running local SLURM; started (and finally stopped) here when it isn't running."""
    from filelock import FileLock

    if shutil.which("sinfo") is None or shutil.which("slurmctld") is None:
        pytest.skip("SLURM is not installed: run `sudo slurm/local_cluster.sh install` (needs apt)")
    old_conf = os.environ.get("SLURM_CONF")
    conf = STATE_DIR / "etc" / "slurm.conf"
    if old_conf is None:
        os.environ["SLURM_CONF"] = str(conf)  # the script writes it there; clients read it
    users = COORD / "users"
    marker = COORD / "started-by-tests"
    token = users / str(os.getpid())
    try:
        try:
            users.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            pytest.skip(f"cannot create {COORD}: {exc}")
        if not os.access(users, os.W_OK):
            pytest.skip(f"{users} belongs to another user (a root run of these tests); remove it")
        with FileLock(str(COORD / "lock"), timeout=600):
            if _script("status", timeout=60).returncode != 0:
                if os.geteuid() != 0:
                    pytest.skip("the local SLURM is not running and starting it needs root: "
                                "`sudo slurm/local_cluster.sh start`")
                t0 = time.monotonic()
                res = _script("start")
                if res.returncode != 0:
                    pytest.fail(f"slurm/local_cluster.sh start failed (exit {res.returncode}):\n"
                                f"{res.stdout}\n{res.stderr}", pytrace=False)
                marker.touch()
                print(f"[local_slurm] started in {time.monotonic() - t0:.1f} s")
            token.touch()
        name = _cluster_name()
        if name != LOCAL_CLUSTER:
            pytest.skip(f"sinfo reaches cluster {name!r}, not the local test cluster {LOCAL_CLUSTER!r}; "
                        "these tests submit jobs and only run on the local one")
        yield name
    finally:
        if token.exists():
            with FileLock(str(COORD / "lock"), timeout=600):
                token.unlink()
                others = [p for p in users.iterdir() if p.name.isdigit() and _pid_alive(int(p.name))]
                if not others and marker.exists():
                    t0 = time.monotonic()
                    res = _script("stop", timeout=120)
                    marker.unlink()
                    print(f"[local_slurm] stopped in {time.monotonic() - t0:.1f} s (exit {res.returncode})")
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)


class Sweep:
    """One `app.py -m cluster=slurm_local ...` run in the background, with its own job name."""

    def __init__(self, tmp_path: Path, *overrides: str):
        self.dir = tmp_path / "sweep"
        self.name = f"symexp-test-{uuid.uuid4().hex[:8]}"
        env = dict(os.environ)
        env.pop("PYTHONHASHSEED", None)  # jobs must get it from the cluster config's setup lines
        cmd = [sys.executable, str(APP), "-m", "cluster=slurm_local", f"hydra.sweep.dir={self.dir}",
               f"hydra.launcher.name={self.name}", *overrides]
        self.log = tmp_path / "sweep.log"
        self._log_fh = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log_fh, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"sweep did not finish within {timeout} s:\n{self.output()}\n{_queue()}")
        finally:
            self._log_fh.close()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def job_dir(self, num: int) -> Path:
        return self.dir / str(num)

    def started(self, num: int, timeout: float = 60, starts: int = 1) -> dict:
        """Wait until job `num` has (re)started `starts` times; returns its started.json."""
        path = self.job_dir(num) / "started.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"sweep exited ({self.proc.returncode}) before job {num} started:\n{self.output()}")
            try:
                info = json.loads(path.read_text())
                if info["starts"] >= starts:
                    return info
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.25)
        pytest.fail(f"job {num} did not start within {timeout} s:\n{_queue()}\n{self.output()}")

    def progress(self, num: int) -> dict:
        return json.loads((self.job_dir(num) / "progress.json").read_text())

    def wait_progress(self, num: int, step: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.progress(num)["step"] < step:
            if time.monotonic() > deadline:
                pytest.fail(f"job {num} made no progress: {self.progress(num)}")
            time.sleep(0.2)

    def result(self, num: int) -> dict:
        return json.loads((self.job_dir(num) / "result.json").read_text())

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            _run(["scancel", f"--name={self.name}"], timeout=30)
        if not self._log_fh.closed:
            self._log_fh.close()
        _finish_jobs(self.name)


@pytest.fixture
def sweep(local_slurm, tmp_path):
    sweeps: list[Sweep] = []

    def start(*overrides: str) -> Sweep:
        s = Sweep(tmp_path, *overrides)
        sweeps.append(s)
        return s

    yield start
    for s in sweeps:
        s.cleanup()


def _finish_jobs(name: str, timeout: float = 30) -> None:
    """Let jobs named `name` leave the queue (a job stays COMPLETING for a moment after its result
    is written; cancelling it then would record it as CANCELLED), then cancel what is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _run(["squeue", "-h", f"--name={name}", "-o", "%A"], timeout=20).stdout.strip():
            return
        time.sleep(0.5)
    _run(["scancel", f"--name={name}"], timeout=30)


def _queue() -> str:
    return _run(["squeue", "-a"], timeout=20).stdout


def _job_id(info: dict) -> str:
    return info["SLURM_JOB_ID"]


_UNFINISHED = {"PENDING", "RUNNING", "COMPLETING", "REQUEUING", "CONFIGURING", "RESIZING", "SUSPENDED"}


def _sacct_states(*selector: str, timeout: float = 30) -> list[str]:
    """States of every run (allocation) of the selected jobs, one per run, requeues included.
    Waits for the accounting records to be final: slurmctld sends them to slurmdbd
    asynchronously, so sacct may still say RUNNING shortly after a job ended."""
    if len(selector) == 1 and not selector[0].startswith("-"):
        selector = ("-j", selector[0])
    deadline = time.monotonic() + timeout
    while True:
        out = _run(["sacct", "-n", "-P", "-D", "-X", *selector, "-o", "State"], timeout=30)
        assert out.returncode == 0, out.stderr
        states = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
        if (states and not _UNFINISHED & set(states)) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def _release_after_requeue(job_id: str, timeout: float = 60) -> None:
    """A requeued job waits ~2 min (BeginTime); start it now once it is back to PENDING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _run(["squeue", "-h", "-j", job_id, "-o", "%T"], timeout=20).stdout.strip()
        if state == "PENDING":
            # Not in the same second as the kill: slurmd still holds the old run's revoked
            # credential and would refuse the launch ("Job credential revoked"; the job FAILS).
            # SLURM's own ~2 min BeginTime after a requeue exists for exactly this.
            time.sleep(3)
            res = _run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], timeout=20)
            if res.returncode == 0:
                return
        time.sleep(0.25)
    pytest.fail(f"job {job_id} did not return to PENDING after requeue:\n{_queue()}")


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
def test_two_job_sweep_lands_both_results(sweep):
    s = sweep("x=1,2", "steps=3", "step_seconds=0.1", "job_minutes=3")
    rc = s.wait(timeout=120)
    assert rc == 0, s.output()
    results = [s.result(0), s.result(1)]
    assert sorted(r["x"] for r in results) == [1, 2]
    for r in results:
        assert r["cluster"] == "slurm_local"
        assert r["SLURM_JOB_ID"] and r["SLURM_ARRAY_JOB_ID"]  # ran as tasks of one job array
        assert r["PYTHONHASHSEED"] == "0"  # from cluster.setup, not inherited
        assert r["SLURM_CPUS_PER_TASK"] == "1"
        assert (r["starts"], r["resumed_from"]) == (1, 0)
    array_id = results[0]["SLURM_ARRAY_JOB_ID"]
    assert results[1]["SLURM_ARRAY_JOB_ID"] == array_id
    # The time limit came from job_minutes.
    _sacct_states(array_id)  # accounting reaches slurmdbd asynchronously: wait until it has the job
    limit = _run(["sacct", "-n", "-P", "-X", "-j", array_id, "-o", "TimelimitRaw"], timeout=30).stdout.split()
    assert limit and set(limit) == {"3"}, limit


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
def test_failing_task_fails_the_sweep(sweep):
    s = sweep("x=1", "fail=true", "job_minutes=3")
    rc = s.wait(timeout=120)
    assert rc != 0
    assert "failed on purpose" in s.output()
    assert not (s.job_dir(0) / "result.json").exists()


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
def test_cancelled_job_is_reported_failed_and_leaves_no_result(sweep):
    s = sweep("x=1", "steps=400", "step_seconds=0.25", "job_minutes=5")
    info = s.started(0)
    job_id = _job_id(info)
    s.wait_progress(0, 2)
    assert _run(["scancel", job_id], timeout=30).returncode == 0
    rc = s.wait(timeout=120)
    assert rc != 0, s.output()
    assert "UncompletedJobError" in s.output() and "CANCELLED" in s.output()
    assert _sacct_states(job_id) == ["CANCELLED"]
    out = s.job_dir(0)
    assert not (out / "result.json").exists()
    assert s.progress(0)["step"] < 400
    # Only complete files: every JSON left behind parses (writes are atomic).
    for f in out.glob("*.json"):
        json.loads(f.read_text())


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
def test_requeued_job_resumes_from_its_progress(sweep):
    """Hard requeue (as on preemption/node failure): the job is killed and run again from the
    submitted pickle; the task continues from the progress its first run saved."""
    s = sweep("x=1", "steps=24", "step_seconds=0.5", "job_minutes=5")
    info = s.started(0)
    job_id = _job_id(info)
    s.wait_progress(0, 3)
    assert _run(["scontrol", "requeue", job_id], timeout=30).returncode == 0
    _release_after_requeue(job_id)
    s.started(0, starts=2)
    rc = s.wait(timeout=120)
    assert rc == 0, s.output()
    result = s.result(0)
    assert result["starts"] == 2
    assert result["resumed_from"] >= 3  # the second run did not start from scratch
    assert result["SLURM_RESTART_COUNT"] == "1"
    assert _sacct_states(job_id) == ["REQUEUED", "COMPLETED"]


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
def test_submitit_checkpoint_signal_requeues_and_resumes(sweep):
    """submitit's own path: SLURM sends USR2 before the time limit (or on preemption); submitit
    calls the launcher's checkpoint() (resubmits the same job), runs `scontrol requeue` and exits.
    The rerun resumes from the saved progress."""
    s = sweep("x=1", "steps=24", "step_seconds=0.5", "job_minutes=5")
    info = s.started(0)
    job_id = _job_id(info)
    s.wait_progress(0, 3)
    # The signal SLURM sends signal_delay_s before the time limit (sbatch --signal=USR2@...).
    # (Not preceded by SIGTERM: `scancel --signal=TERM` makes SLURM cancel the step itself.)
    assert _run(["scancel", "--signal=USR2", job_id], timeout=30).returncode == 0
    _release_after_requeue(job_id)
    s.started(0, starts=2)
    rc = s.wait(timeout=120)
    assert rc == 0, s.output()
    result = s.result(0)
    assert result["starts"] == 2 and result["resumed_from"] >= 3
    assert _sacct_states(job_id) == ["REQUEUED", "COMPLETED"]
    err = next((s.dir / ".submitit").glob("*/*_log.err")).read_text()
    assert "Caught signal SIGUSR2" in err


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.xdist_group("slurm")
def test_smoke_experiment_runs_on_slurm(local_slurm, tmp_path):
    """The real pipeline in the original layout: `experiments/run.py -m experiment=smoke
    cluster.layout=cell` (3 jobs: bo, random, bo_gp, through hydra-submitit-launcher) on the local
    SLURM; every job writes its records to the store."""
    run = REPO / "experiments" / "run.py"
    if not run.exists():
        pytest.skip("experiments/run.py not there yet")
    env = dict(os.environ)
    env.pop("PYTHONHASHSEED", None)  # jobs get it from cluster.setup
    env["SYMEXP_STORE"] = str(tmp_path / "store")
    env["SYMEXP_CACHE"] = str(tmp_path / "cache")
    name = f"symexp-test-{uuid.uuid4().hex[:8]}"
    cmd = [sys.executable, str(run), "-m", "experiment=smoke", "cluster=slurm_local", "cluster.layout=cell",
           "cluster.mem_gb=3", f"hydra.sweep.dir={tmp_path / 'runs'}", f"hydra.launcher.name={name}"]
    try:
        # From the repo root, as `make` does (the jobs import the installed symexp).
        res = _run(cmd, timeout=420, env=env, cwd=REPO)
    finally:
        _finish_jobs(name)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    from symexp.store import RecordStore

    records = [json.loads(p.read_text()) for p in RecordStore(tmp_path / "store").iter_paths()]
    modes = {r["mode"] for r in records}
    assert modes == {"bo", "random", "bo_gp"}, modes
    states = _sacct_states(f"--name={name}")
    assert states and set(states) == {"COMPLETED"}, states


# Tiny settings: the synthetic benchmark, 10 BO trials, a 3 x 3 test grid (as tests/test_hydra_app.py).
TINY = ["experiment=smoke", "model=synthetic", "dataset=synthetic", "sr.population_size=50", "sr.generations=2",
        "bo.n_trials=10", "bo.snapshot_sizes=[10]", "bo.initial_design_per_dim=2", "bo.initial_design_max_ratio=0.5",
        "n_samples=[10]", "sr_seeds=[0,1]", "test_set.points_per_dim=3", "test_set.eval_seeds=[0]", "bo_gp.n_points=20"]


def _sacct_jobs(name: str) -> list[dict]:
    """Per allocation of the jobs named ``name``: id, CPUs, start and end (epoch seconds), state."""
    _sacct_states(f"--name={name}")  # wait until accounting is final
    out = _run(["sacct", "-n", "-P", "-X", "-D", f"--name={name}", "--format=JobID,AllocCPUS,Start,End,State"],
               timeout=30).stdout
    rows = []
    for line in out.splitlines():
        jid, cpus, start, end, state = line.split("|")
        rows.append({"job": jid, "cpus": int(cpus), "start": start, "end": end, "state": state.split()[0]})
    return rows


def _run_sweep(tmp_path: Path, layout: str, name: str, *extra: str, script: str = "run.py") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONHASHSEED", None)  # jobs get it from cluster.setup
    env["SYMEXP_STORE"] = str(tmp_path / "store")
    env["SYMEXP_CACHE"] = str(tmp_path / "cache")
    args = ["-m"] if script == "run.py" else []
    cmd = [sys.executable, str(REPO / "experiments" / script), *args, *TINY, "cluster=slurm_local",
           f"cluster.layout={layout}", f"hydra.sweep.dir={tmp_path / 'runs'}", f"hydra.launcher.name={name}", *extra]
    try:
        return _run(cmd, timeout=600, env=env, cwd=REPO)
    finally:
        _finish_jobs(name)


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.xdist_group("slurm")
@pytest.mark.parametrize("layout", ["shared", "node"])
def test_work_item_layouts_run_the_sweep_on_slurm(local_slurm, tmp_path, layout):
    """`run.py -m ... cluster.layout=shared|node` on the real SLURM: every record of the 3 cells,
    each cell's job_status done, all tasks COMPLETED; shared: 4 arrays (evaluations, BO runs,
    random fits, BO fits), the fits started only after the arrays they depend on ended, 1 CPU
    each; node: one job with the node's CPUs. Then `status.py --relaunch` recomputes exactly the
    record that was deleted, in the same layout."""
    from symexp.store import RecordStore

    name = f"symexp-test-{uuid.uuid4().hex[:8]}"
    res = _run_sweep(tmp_path, layout, name)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    store = RecordStore(tmp_path / "store")
    records = {p: json.loads(p.read_text()) for p in store.iter_paths()}
    assert {r["mode"] for r in records.values()} == {"bo", "random", "bo_gp"} and len(records) == 8
    statuses = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/job_status.json")]
    assert len(statuses) == 3 and {s["state"] for s in statuses} == {"done"}
    jobs = _sacct_jobs(name)
    assert jobs and {j["state"] for j in jobs} == {"COMPLETED"}
    if layout == "shared":
        arrays = {j["job"].split("_")[0] for j in jobs}
        assert len(arrays) == 4 and {j["cpus"] for j in jobs} == {1}
        first, *rest = sorted(arrays, key=int)
        ends = {a: max(j["end"] for j in jobs if j["job"].startswith(a + "_") or j["job"] == a) for a in arrays}
        starts = {a: min(j["start"] for j in jobs if j["job"].startswith(a + "_") or j["job"] == a) for a in arrays}
        fits_random, fits_bo = sorted(arrays, key=int)[2:]
        evaluations, bo_runs = sorted(arrays, key=int)[:2]
        assert starts[fits_random] >= ends[evaluations]
        assert starts[fits_bo] >= max(ends[evaluations], ends[bo_runs])
    else:
        assert len(jobs) == 1 and jobs[0]["cpus"] == 2

    # status --relaunch in the same layout: only the deleted record comes back
    victim = next(p for p, r in records.items() if r["mode"] == "bo_gp" and r["method"] == "sr_bo_gp")
    victim.unlink()
    before = {p: p.stat().st_mtime_ns for p in store.iter_paths()}
    name2 = f"symexp-test-{uuid.uuid4().hex[:8]}"
    res = _run_sweep(tmp_path, layout, name2, "--relaunch", script="status.py")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"relaunching 1 cells in the {layout} layout" in res.stdout
    assert victim.exists()
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert {j["state"] for j in _sacct_jobs(name2)} == {"COMPLETED"}
