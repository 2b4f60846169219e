"""BO sampling: a SMAC run, its trajectory, and the GP it had trained after n evaluations.

How SMAC is run
---------------
As in the paper's code: SMAC 2 ``BlackBoxFacade`` with its default surrogate (GP, constant x
Matern 5/2 ARD + white noise, ``normalize_y``), EI, ``get_config_selector(retrain_after=1)``,
Sobol initial design ``get_initial_design(n_configs_per_hyperparameter=8, max_ratio=0.25)`` and
``Scenario(deterministic=True, n_trials=..., seed=seed)``; the acquisition maximiser is smac
2.0.0's (``selection: smac2.0``, the paper's SMAC) or the installed smac's (``native``), see
:mod:`symexp.sampling.smac_selection`. The loop is ask/tell, so symexp
calls the objective itself (``objective(config, seed)`` with the seed SMAC chose) and stops
after each snapshot size ``n``. SMAC writes only below ``workdir`` (its ``output_directory``
and its working directory), with ``overwrite=True`` so it never asks questions; SMAC's logger
is set to ERROR.

GP snapshots
------------
The snapshot at ``n`` is the model SMAC trained on the first ``n`` evaluations: it is taken
right after ``ask()`` for evaluation ``n + 1``, which is exactly when SMAC trains on those ``n``
(warm-started kernel hyperparameters and model random state as in the run). For ``n =
n_trials`` one extra ``ask()`` is made whose configuration is never evaluated. Taking snapshots
therefore does not change the trajectory. (The paper's callback saved the model when the
``n``-th configuration was *selected*, i.e. trained on ``n - 1`` evaluations; symexp's GP for
``n`` is trained on the same ``n`` points as the BO training set for ``n``.) If SMAC did not
train on exactly ``n`` points (``n`` inside the initial design), a deep copy of its model is
trained instead ("refit"). Every snapshot is checked in the run against the live model's
predictions; the result (largest deviations, expected 0) is stored in the snapshot
(``GPSnapshot.self_check``). A deviation beyond floating-point noise does not stop the run: the
snapshot is marked, ``run_bo`` warns, and :func:`gp_for` refuses that snapshot.

Checkpoints
-----------
``run_bo(..., checkpoint=PATH)`` appends every finished trial to ``PATH`` (JSON Lines, see
:mod:`symexp.sampling.checkpoint`); a later call with the same ``PATH`` replays the recorded
trials without calling the objective and continues from there, and its result equals that of an
uninterrupted run. The file is removed when the run completes. The path must be specific to
the objective (benchmark) as well: the file records the space, SMAC settings and seed, not the
objective. With ``variant="separate"`` each smaller run gets its own file ``PATH.n<size>``.

The child process
-----------------
Killed with its parent (``PR_SET_PDEATHSIG``). It reads the pickled objective from its stdin
(never from a file); SMAC's scratch directory ``bo-seed<seed>-pid<pid>-*`` below ``workdir`` is removed
after success, kept after a failure, and removed by the next ``run_bo`` on the same ``workdir``
once the process ``<pid>`` no longer exists.

Determinism
-----------
Two SMAC runs with the same seed diverge when ``PYTHONHASHSEED`` differs (measured: runs on the
2-D test function under PYTHONHASHSEED 1 and 2 agree on the Sobol design and differ from the
first BO proposal on). The cause: SMAC's ``LocalSearch._get_initial_points`` returns
``list(set(configurations))``, and ConfigSpace hashes a ``Configuration`` as ``hash(repr(...))``,
a salted string hash, so the order of the local-search start points (and the random numbers each
consumes) depends on the hash seed. So every SMAC run is executed in a fresh child interpreter (:func:`symexp.sampling._bo_worker.main`)
with ``PYTHONHASHSEED=0``; the objective is pickled into its stdin and the result comes back as JSON.
The run is then a function of ``(objective, space, settings, seed)`` only, however the parent
was launched. BLAS is single-threaded during SMAC's model fitting (``threadpoolctl``), so the
core count does not matter either. ``isolate=False`` runs in the calling process instead
(debugging only: the result then depends on that process's hash seed).

Failed evaluations
------------------
An objective returning a non-finite cost is recorded as ``nan`` in ``BORun.y`` and told to SMAC
as CRASHED with the worst finite cost seen so far (1.0 if none yet), which is what the GP then
trains on.

Variants: ``prefix`` (default) vs ``separate``
----------------------------------------------
SMAC's initial design has ``min(8 d, 0.25 n_trials)`` Sobol points (at least 1). For d = 2 a
200-trial run starts with 16 Sobol points, but a 20-trial run with 5, a 40-trial run with 10
and a 60-trial run with 15; from 80 trials on it is 16.

* ``separate`` (the paper's code): for every snapshot size ``n`` whose initial design differs
  from that of the ``n_trials`` run (``n < 80`` for d = 2 and 200 trials), a separate SMAC run
  with ``n_trials = n`` and the same seed is made, and its trajectory and final GP are used for
  ``n``; larger ``n`` are prefixes of the ``n_trials`` run. 20 + 40 + 60 + 200 = 320
  evaluations per seed instead of 200, and four SMAC runs instead of one.
* ``prefix``: one run of ``n_trials``; the training set and GP for ``n`` are its first ``n``
  evaluations.

The paper presets use ``separate`` (``conf/bo/paper.yaml``), the paper's protocol: for
``n < 80`` (d = 2) a prefix of the 200-trial run would have *more* space-filling Sobol points (all
16 of them at n = 20, 40, 60) and fewer model-guided points than a run planned for ``n`` (5 Sobol
+ 15 BO at n = 20), so its samples would be more uniform and its GP trained on a more uniform
design: exactly the left end of the sample-size curves. ``prefix`` is one run per seed (5/8 of
the evaluations, a quarter of the SMAC runs), with training sets nested across ``n``: what a
practitioner who stopped the 200-trial run at ``n`` has.

In the pipeline every SMAC run is its own artefact and a record names the run its training set
came from (:meth:`BOSettings.run_settings`): the main run is the same under both variants, so
Table 1's n = 140 records are shared by both, and a view only computes the separate runs of the
``n`` it plans. :func:`run_bo` with ``variant="separate"`` still makes all of them in one call
(its ``BORun`` also keeps all prefix snapshots of the main run, so both variants can be compared
from one artefact).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError, unknown_choice
from symexp.sampling._bo_worker import every_nth_trial, initial_design_size, parse_progress, run_trajectory
from symexp.sampling.gp import GPSnapshot, space_from_json, space_to_json
from symexp.benchmarks.space import SearchSpace

# progress(done, n_trials, best_cost): called as a BO run goes (best_cost None while nothing succeeded)
Progress = Callable[[int, int, "float | None"], None]

VARIANTS = ("prefix", "separate")
#: ``smac2.0``: smac 2.0.0's acquisition maximiser (the paper's); ``native``: the installed smac's.
SELECTIONS = ("smac2.0", "native")
RUN_FORMAT = 1
WORKER_HASH_SEED = "0"


def _is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


@dataclass(frozen=True)
class BOSettings:
    """How SMAC is run (values come from the experiment config, ``conf/bo/*.yaml``).

    The budget and snapshot sizes are protocol settings and have no default here; the rest
    default to SMAC's own BlackBoxFacade defaults. ``selection`` picks the acquisition
    maximiser: ``"native"`` (default; the installed smac 2.4.1's, and what runs without the
    field were made with) or ``"smac2.0"`` (smac 2.0.0's, the paper's; see
    :mod:`symexp.sampling.smac_selection`)."""

    n_trials: int
    snapshot_sizes: tuple[int, ...]
    initial_design_per_dim: int = 8
    initial_design_max_ratio: float = 0.25
    retrain_after: int = 1
    deterministic: bool = True
    variant: str = "prefix"
    selection: str = "native"

    def __post_init__(self) -> None:
        if not _is_int(self.n_trials) or self.n_trials < 2:
            raise SymexpError(f"bo.n_trials must be an integer >= 2, got {self.n_trials!r}")
        sizes = self.snapshot_sizes
        if isinstance(sizes, str) or not isinstance(sizes, list | tuple):
            raise SymexpError(f"bo.snapshot_sizes must be a list of integers, got {sizes!r}")
        if not all(_is_int(n) for n in sizes):
            raise SymexpError(f"bo.snapshot_sizes must be integers, got {list(sizes)}")
        sizes = tuple(int(n) for n in sizes)
        if len(set(sizes)) != len(sizes):
            raise SymexpError(f"bo.snapshot_sizes has duplicates: {list(sizes)}")
        bad = [n for n in sizes if not 2 <= n <= self.n_trials]
        if bad:
            raise SymexpError(f"bo.snapshot_sizes {bad} outside [2, n_trials={self.n_trials}]")
        object.__setattr__(self, "snapshot_sizes", tuple(sorted(sizes)))
        object.__setattr__(self, "n_trials", int(self.n_trials))
        if not _is_int(self.initial_design_per_dim) or self.initial_design_per_dim < 1:
            raise SymexpError(f"bo.initial_design_per_dim must be an integer >= 1, got {self.initial_design_per_dim!r}")
        r = self.initial_design_max_ratio
        if isinstance(r, bool) or not isinstance(r, int | float) or not (0 < r <= 1):
            raise SymexpError(f"bo.initial_design_max_ratio must be a number in (0, 1], got {r!r}")
        object.__setattr__(self, "initial_design_max_ratio", float(r))
        if not _is_int(self.retrain_after) or self.retrain_after < 1:
            raise SymexpError(f"bo.retrain_after must be an integer >= 1, got {self.retrain_after!r}")
        if not isinstance(self.deterministic, bool):
            raise SymexpError(f"bo.deterministic must be true or false, got {self.deterministic!r}")
        if self.variant not in VARIANTS:
            raise unknown_choice("bo.variant", self.variant, VARIANTS)
        if self.selection not in SELECTIONS:
            raise unknown_choice("bo.selection", self.selection, SELECTIONS)

    def initial_design_size(self, dim: int, n_trials: int | None = None) -> int:
        """Sobol initial-design size of a run of ``n_trials`` (default: this run's) in ``dim`` dims."""
        return initial_design_size(dim, self.n_trials if n_trials is None else n_trials,
                                   self.initial_design_per_dim, self.initial_design_max_ratio)

    def needs_separate_run(self, dim: int, n: int) -> bool:
        """Whether the training set of size ``n`` comes from a SMAC run of its own.

        The paper's code's rule: under ``variant="separate"``, every ``n`` below the budget whose
        initial design would differ from the ``n_trials`` run's (``n < 80`` for d = 2 and 200
        trials) gets its own run of ``n`` trials; larger ``n`` are prefixes of the main run."""
        return (self.variant == "separate" and n < self.n_trials
                and self.initial_design_size(dim, n) != self.initial_design_size(dim))

    def separate_sizes(self, dim: int) -> tuple[int, ...]:
        """Snapshot sizes that get their own SMAC run (``variant="separate"`` only)."""
        return tuple(n for n in self.snapshot_sizes if self.needs_separate_run(dim, n))

    def run_settings(self, dim: int, n: int | None = None) -> BOSettings:
        """The settings of the single SMAC run whose evaluations are the training set of size
        ``n`` (``None``: the main run of ``n_trials``).

        The main run is the same under both variants, so its settings say ``prefix``; a separate
        run is a prefix run of ``n`` trials with one snapshot (what :func:`run_bo` makes for it,
        same seed). A record's identity and a BO artefact's key are these settings: records that
        take a prefix of the main run are shared between the variants."""
        if n is not None and self.needs_separate_run(dim, n):
            return dataclasses.replace(self, n_trials=int(n), snapshot_sizes=(int(n),), variant="prefix")
        return dataclasses.replace(self, variant="prefix")

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["snapshot_sizes"] = list(self.snapshot_sizes)
        return d

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BOSettings:
        d = dict(data)
        d["snapshot_sizes"] = tuple(d["snapshot_sizes"])
        return cls(**d)


@dataclass(eq=False)
class BORun:
    """A BO run: its evaluations in order, GP snapshots, and (``separate``) the smaller runs.

    Attributes
    ----------
    space : SearchSpace
    settings : BOSettings
    seed : int
        SMAC's scenario seed.
    X : ndarray (n_trials, d)
        Evaluated configurations, raw units, evaluation order.
    y : ndarray (n_trials,)
        Their costs (``nan`` for failed evaluations).
    eval_seeds : ndarray (n_trials,) of int
        The seed SMAC passed to the objective for each evaluation.
    origins : list of str
        SMAC's origin of each configuration ("Initial Design: Sobol", "Acquisition Function
        Maximizer: Local Search", ...).
    n_initial_design : int
        Number of initial-design evaluations SMAC made.
    n_failed : int
    incumbent : dict or None
        SMAC's incumbent configuration at the end of the run.
    snapshots : dict[int, GPSnapshot]
        GP trained on the first ``n`` evaluations, for every snapshot size.
    separate : dict[int, BORun]
        ``variant="separate"``: the run with ``n_trials = n`` for each such ``n``.
    """

    space: SearchSpace
    settings: BOSettings
    seed: int
    X: np.ndarray
    y: np.ndarray
    eval_seeds: np.ndarray
    origins: list[str]
    n_initial_design: int
    n_failed: int
    incumbent: dict[str, float | int] | None
    snapshots: dict[int, GPSnapshot]
    separate: dict[int, BORun] = field(default_factory=dict)
    # Trainings the objective reported for the run(s) made by run_bo in this call; not part of
    # the run's JSON (a run loaded from a cache cost nothing).
    objective_trainings: int | None = field(default=None, compare=False)
    # What run_bo replayed from a checkpoint in this call ({"replayed", "diverged_at",
    # "discarded"} of the main run); not part of the run's JSON (a resumed run equals a clean one).
    replay: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def n_trials(self) -> int:
        return len(self.X)

    @property
    def snapshot_deviations(self) -> dict[int, float | None]:
        """Per snapshot size, the largest |mean difference| (cost units) between the snapshot
        and SMAC's model found by the self-check (None: not checked, e.g. an old run)."""
        out = {}
        for n, snap in sorted(self.snapshots.items()):
            check = snap.self_check or {}
            out[n] = check.get("max_abs_diff_mean")
        return out

    def prefix(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` evaluations ``(X (n, d), y (n,))`` of this run."""
        if not _is_int(n) or not 1 <= n <= len(self.X):
            raise SymexpError(f"BO prefix size must be in [1, {len(self.X)}], got {n!r}")
        return self.X[:n].copy(), self.y[:n].copy()

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "space": space_to_json(self.space),
            "settings": self.settings.to_json(),
            "seed": int(self.seed),
            "X": [[float(v) for v in row] for row in self.X],
            "y": [float(v) if math.isfinite(v) else None for v in self.y],
            "eval_seeds": [int(s) for s in self.eval_seeds],
            "origins": list(self.origins),
            "n_initial_design": int(self.n_initial_design),
            "n_failed": int(self.n_failed),
            "incumbent": self.incumbent,
            "snapshots": {str(n): s.to_json() for n, s in sorted(self.snapshots.items())},
            "separate": {str(n): r.to_json() for n, r in sorted(self.separate.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BORun:
        if data.get("format") != RUN_FORMAT:
            raise SymexpError(f"unsupported BO run format {data.get('format')!r}; this version reads {RUN_FORMAT}")
        space = space_from_json(data["space"])
        return cls(
            space=space,
            settings=BOSettings.from_json(data["settings"]),
            seed=int(data["seed"]),
            X=np.array(data["X"], dtype=float).reshape(-1, space.dim),
            y=np.array([np.nan if v is None else v for v in data["y"]], dtype=float),
            eval_seeds=np.array(data["eval_seeds"], dtype=np.int64),
            origins=list(data["origins"]),
            n_initial_design=int(data["n_initial_design"]),
            n_failed=int(data["n_failed"]),
            incumbent=data["incumbent"],
            snapshots={int(n): GPSnapshot.from_json(s) for n, s in data["snapshots"].items()},
            separate={int(n): BORun.from_json(r) for n, r in data["separate"].items()},
        )

    @classmethod
    def _from_trajectory(cls, result: Mapping[str, Any], space: SearchSpace, settings: BOSettings,
                         seed: int) -> BORun:
        """A run from the worker's trajectory (the run's JSON without space, settings, seed)."""
        data = {**result, "format": RUN_FORMAT, "space": space_to_json(space), "settings": settings.to_json(),
                "seed": int(seed), "separate": {}}
        return cls.from_json(data)


# -- training sets and GPs for a sample size ---------------------------------------------------

def _needs_separate(run: BORun, n: int) -> bool:
    return run.settings.needs_separate_run(run.space.dim, n)


def bo_training_set(run: BORun, n: int) -> tuple[np.ndarray, np.ndarray]:
    """BO training set of size ``n`` under the run's variant: ``(X (n, d) raw, y (n,))``.

    ``separate``: the whole separate run with ``n`` trials when there is one (an ``n`` that
    needs one but has none raises); otherwise, and for ``prefix``: the first ``n`` evaluations.
    """
    if n in run.separate:
        sep = run.separate[n]
        return sep.X.copy(), sep.y.copy()
    if _needs_separate(run, n):
        raise SymexpError(f"BO run (variant separate) has no separate run for n={n} (its initial design would "
                          f"differ); runs exist for n in {sorted(run.separate)}, prefixes for larger n")
    return run.prefix(n)


def gp_for(run: BORun, n: int) -> GPSnapshot:
    """The GP trained on the BO training set of size ``n`` (see :func:`bo_training_set`).

    Raises ``RuntimeError`` if that snapshot failed its self-check (it does not reproduce SMAC's
    model beyond floating-point noise, see ``GPSnapshot.self_check``): not the user's mistake,
    and BO-GP samples from it would not be SMAC's GP."""
    snap = None
    if n in run.separate:
        snap = run.separate[n].snapshots[n]
    elif n in run.snapshots and not _needs_separate(run, n):
        snap = run.snapshots[n]
    if snap is not None:
        if not snap.reproduces_smac:
            raise RuntimeError(f"the GP snapshot for n={n} does not reproduce SMAC's model (self-check: "
                               f"{snap.self_check}); BO-GP samples from it would not be SMAC's GP")
        return snap
    available = sorted(set(run.separate) | {m for m in run.snapshots if not _needs_separate(run, m)})
    raise SymexpError(f"no GP snapshot for n={n}; available: {', '.join(map(str, available)) or 'none'} "
                      f"(bo.snapshot_sizes)")


# -- running -----------------------------------------------------------------------------------

def _job(settings: BOSettings, n_trials: int, sizes: tuple[int, ...], seed: int) -> dict[str, Any]:
    return {
        "n_trials": int(n_trials),
        "snapshot_sizes": [int(n) for n in sizes],
        "seed": int(seed),
        "initial_design_per_dim": settings.initial_design_per_dim,
        "initial_design_max_ratio": settings.initial_design_max_ratio,
        "retrain_after": settings.retrain_after,
        "deterministic": settings.deterministic,
        "selection": settings.selection,
    }


def _checkpoint_identity(space: SearchSpace, job: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must match to be replayed: the space and everything of the job that
    shapes the trajectory (not the snapshot sizes)."""
    return {"space": space_to_json(space), "job": {k: v for k, v in job.items() if k != "snapshot_sizes"}}


def _job_checkpoint(checkpoint: Path | None, key: int | None) -> Path | None:
    if checkpoint is None:
        return None
    return checkpoint if key is None else checkpoint.with_name(f"{checkpoint.name}.n{key}")


# -- scratch directories -----------------------------------------------------------------------

_SCRATCH = re.compile(r"^bo-seed\d+-pid(\d+)-")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_scratch(workdir: Path) -> list[Path]:
    """Remove ``bo-seed*-pid<pid>-*`` directories below ``workdir`` whose process is gone."""
    removed = []
    try:
        entries = list(Path(workdir).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _SCRATCH.match(entry.name)
        if m and entry.is_dir() and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


# ``-c`` rather than ``-m symexp.sampling._bo_worker``: the package imports the worker module, and
# running it as ``__main__`` as well would execute it twice (runpy warns about exactly that).
_CHILD_MAIN = "import sys; from symexp.sampling._bo_worker import main; sys.exit(main(sys.argv[1:]))"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = WORKER_HASH_SEED
    # The child must import what the parent can: symexp and the objective's module.
    paths = [os.path.abspath(p or os.getcwd()) for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if os.path.exists(p)))
    return env


# Seconds between two looks at the worker's log for progress lines.
PROGRESS_POLL_SECONDS = 2.0


def _progress_every(n_trials: int) -> int:
    """Trials between two progress lines: about eight lines per run."""
    return max(1, int(n_trials) // 8)


def _wait_reporting_progress(proc: subprocess.Popen, log_path: Path, progress: Progress | None) -> None:
    """Wait for the worker; pass the progress lines it writes to its log on to ``progress``."""
    offset = 0
    pending = b""
    while True:
        try:
            proc.wait(timeout=PROGRESS_POLL_SECONDS if progress is not None else None)
            done = True
        except subprocess.TimeoutExpired:
            done = False
        if progress is not None:
            try:
                with open(log_path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
            except OSError:
                chunk = b""
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                parsed = parse_progress(line.decode(errors="replace"))
                if parsed is not None:
                    progress(*parsed)
        if done:
            return


def _tail(path: Path, n_lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n_lines:])
    except OSError:
        return ""


def _run_job_isolated(payload: bytes, space: SearchSpace, job: dict[str, Any], jobdir: Path,
                      checkpoint: Path | None, progress: Progress | None = None) -> dict[str, Any]:
    jobdir.mkdir(parents=True, exist_ok=True)
    # The pickled objective goes through the child's stdin, never through a file: nothing on disk
    # that another process could replace is ever unpickled.
    request = {
        "space": space_to_json(space),
        "job": job,
        "output_directory": str(jobdir / "smac3_output"),
        "result": str(jobdir / "result.json"),
        "parent_pid": os.getpid(),
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "checkpoint_identity": _checkpoint_identity(space, job),
        "progress_every": None if progress is None else _progress_every(job["n_trials"]),
    }
    request_path = jobdir / "request.json"
    request_path.write_text(json.dumps(request))
    log_path = jobdir / "worker.log"
    with open(log_path, "wb") as log:
        # Waited for in this thread: the child's PR_SET_PDEATHSIG is tied to the thread that started it.
        proc = subprocess.Popen([sys.executable, "-c", _CHILD_MAIN, str(request_path)],
                                cwd=jobdir, env=_child_env(), stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            try:
                proc.stdin.write(payload)
                proc.stdin.close()
            except BrokenPipeError:  # the child died before reading: its log and exit status say why
                pass
            _wait_reporting_progress(proc, log_path, progress)
        except BaseException:  # interrupted here (Ctrl-C, SIGTERM): the worker must not outlive us
            proc.kill()
            proc.wait()
            raise
    try:
        answer = json.loads((jobdir / "result.json").read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"SMAC worker exited with status {proc.returncode} without a result; "
                           f"log {log_path}:\n{_tail(log_path)}") from None
    if answer["ok"]:
        return answer["result"]
    if answer.get("user_error"):
        raise SymexpError(answer["message"].split(": ", 1)[-1])
    raise RuntimeError(f"SMAC worker failed ({answer['message']}); files in {jobdir}\n{answer['traceback']}")


def run_bo(objective: Callable[[dict[str, Any], int], float], space: SearchSpace, settings: BOSettings,
           seed: int, workdir: str | os.PathLike[str], *, isolate: bool = True,
           checkpoint: str | os.PathLike[str] | None = None, progress: Progress | None = None) -> BORun:
    """Run SMAC on ``objective`` over ``space`` and return the trajectory with GP snapshots.

    ``objective(config, seed) -> cost`` (lower is better) must be picklable (it runs in a child
    process). SMAC's files go to a fresh directory below ``workdir``, removed after success and
    kept (and named in the error) after a failure; such directories of processes that no longer
    exist are removed at the start. ``checkpoint``: trial log to resume from and append to (see
    the module docstring), removed after success. ``progress(done, n_trials, best_cost)`` is
    called about eight times per SMAC run and after its last trial (replayed trials count as
    done). Input errors raise :class:`SymexpError` before anything runs.
    """
    if not isinstance(settings, BOSettings):
        raise SymexpError(f"settings must be a BOSettings, got {type(settings).__name__}")
    if not isinstance(space, SearchSpace):
        raise SymexpError(f"space must be a SearchSpace, got {type(space).__name__}")
    space.require_numerical("BO with SMAC's GP")
    if not _is_int(seed) or not 0 <= seed < 2**31 - 1:
        raise SymexpError(f"BO seed must be an integer in [0, 2**31 - 1), got {seed!r}")
    if not callable(objective):
        raise SymexpError(f"objective must be callable as objective(config, seed), got {objective!r}")
    seed = int(seed)
    n_init = settings.initial_design_size(space.dim)
    if n_init > settings.n_trials:
        raise SymexpError(f"bo.n_trials={settings.n_trials} is smaller than the initial design ({n_init})")
    try:
        payload = pickle.dumps(objective) if isolate else b""
    except Exception as exc:  # noqa: BLE001 - any pickling failure is a user error here
        raise SymexpError(f"the objective must be picklable to run SMAC in a worker process: {exc}") from None

    jobs: list[tuple[int | None, dict[str, Any]]] = [(None, _job(settings, settings.n_trials, settings.snapshot_sizes, seed))]
    for n in settings.separate_sizes(space.dim):
        jobs.append((n, _job(settings, n, (n,), seed)))  # same seed as the main run, as in the paper's code

    checkpoint_path = None if checkpoint is None else Path(checkpoint)
    if checkpoint_path is not None:
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(workdir)
    tmp = Path(tempfile.mkdtemp(prefix=f"bo-seed{seed}-pid{os.getpid()}-", dir=workdir))
    results: dict[int | None, dict[str, Any]] = {}
    try:
        for key, job in jobs:
            job_checkpoint = _job_checkpoint(checkpoint_path, key)
            if isolate:
                results[key] = _run_job_isolated(payload, space, job, tmp / f"n{job['n_trials']}", job_checkpoint,
                                                 progress)
            else:
                on_trial = None if progress is None else every_nth_trial(progress, _progress_every(job["n_trials"]))
                results[key] = run_trajectory(objective, space, output_directory=tmp / f"n{job['n_trials']}",
                                              checkpoint=job_checkpoint,
                                              checkpoint_identity=_checkpoint_identity(space, job),
                                              on_trial=on_trial, **job)
    except SymexpError:
        shutil.rmtree(tmp, ignore_errors=True)  # the user's mistake: nothing to debug here
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # (after any other failure it is kept for inspection)

    run = BORun._from_trajectory(results[None], space, settings, seed)
    counts = [res.get("objective_trainings") for res in results.values()]
    run.objective_trainings = None if any(c is None for c in counts) else int(sum(counts))
    run.replay = results[None].get("replay")
    for n, res in results.items():
        if n is not None:
            sub = dataclasses.replace(settings, n_trials=n, snapshot_sizes=(n,), variant="prefix")
            run.separate[n] = BORun._from_trajectory(res, space, sub, seed)
    for key, res in results.items():
        info = res.get("replay") or {}
        if info.get("discarded"):
            warnings.warn(f"BO checkpoint not replayed: {info['discarded']}", stacklevel=2)
        if info.get("diverged_at") is not None:
            warnings.warn(f"BO checkpoint replay diverged at trial {info['diverged_at']} (SMAC proposed another "
                          "configuration than recorded); the run was evaluated from there on", stacklevel=2)
        if info.get("cost_mismatch_at") is not None:
            warnings.warn(f"BO checkpoint replay stopped at trial {info['cost_mismatch_at']}: its recorded cost "
                          f"disagrees with the evaluation; continued with true costs, checkpoint set aside as "
                          f"{info['set_aside']}", stacklevel=2)
        if info.get("garbled"):
            warnings.warn(f"damaged BO checkpoint: {info['garbled']}; set aside as {info['set_aside']}", stacklevel=2)
    bad = [(n, s.self_check) for r in [run, *run.separate.values()] for n, s in r.snapshots.items()
           if not s.reproduces_smac]
    if bad:
        warnings.warn(f"GP snapshot(s) at n={sorted(n for n, _ in bad)} do not reproduce SMAC's model beyond "
                      f"floating-point noise (self-check {bad[0][1]}); gp_for refuses them", stacklevel=2)
    if checkpoint_path is not None:
        for key, _ in jobs:
            path = _job_checkpoint(checkpoint_path, key)
            if path is not None:
                path.unlink(missing_ok=True)
    return run
