"""One SMAC run with GP snapshots; also the entry point of the child process that runs it.

:func:`run_trajectory` is the SMAC loop itself (ask/tell, see :mod:`symexp.sampling.bo`).
:func:`main` (``python -c "...main(sys.argv[1:])" REQUEST.json``, see ``bo._CHILD_MAIN``) runs it
in a fresh interpreter whose ``PYTHONHASHSEED`` the parent fixed: it arranges to be killed when
its parent dies (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``), reads the request, unpickles the
objective from its stdin (the parent's pipe, never a file), runs the SMAC run and writes the
result (or the error) as JSON.

Checkpoint and replay. With a checkpoint file (:mod:`symexp.sampling.checkpoint`) every finished
trial is appended to it before the next ``ask``. A run started with a checkpoint that holds
``k`` trials replays them: for trial ``i < k`` it asks SMAC as usual, checks that SMAC proposes
the recorded configuration with the recorded seed and origin, and tells SMAC the recorded cost
without calling the objective. SMAC's state after a replayed trial is the one after the
original trial (the same calls with the same values), so snapshots are taken as usual and the
result equals that of an uninterrupted run. If SMAC proposes something else (the code, the
packages or the objective's results changed), replay stops there, the rest of the log is
dropped, the divergence is reported (``result["replay"]``) and the run evaluates from there on.
"""

from __future__ import annotations

import copy
import logging
import math
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symexp.errors import SymexpError
from symexp.sampling.checkpoint import TrialLog, recorded_cost
from symexp.sampling.replay_check import costs_agree, set_aside_copy, verifies
from symexp.sampling.gp import GPSnapshot, _blas_single_thread, compare_with_model, space_from_json
from symexp.benchmarks.space import SearchSpace

# Imputed cost told to SMAC for a failed evaluation (non-finite cost) when no finite cost has
# been seen yet; otherwise the worst finite cost so far is told. symexp costs are 1 - accuracy.
FAILURE_COST_IF_NONE = 1.0
N_PROBES = 32


def initial_design_size(dim: int, n_trials: int, per_dim: int, max_ratio: float) -> int:
    """Size of SMAC's Sobol initial design: ``min(per_dim * dim, max_ratio * n_trials)``, at least 1.

    The same arithmetic as ``smac.initial_design.AbstractInitialDesign`` (checked in the tests).
    """
    n = per_dim * dim
    if n > 1:
        n = int(max(1, min(n, max_ratio * n_trials)))
    return n


def _take_snapshot(smac, space: SearchSpace, n: int, rng: np.random.Generator) -> GPSnapshot:
    """The GP trained on the ``n`` evaluations told so far, as SMAC trains it.

    Called right after ``ask()`` for evaluation ``n + 1``: in the BO phase SMAC has just trained
    its model on exactly these ``n`` evaluations, and that model is captured ("live"). Otherwise
    (``n`` inside the initial design, or SMAC fell back to random configurations without
    retraining) a deep copy of SMAC's model (same random state, same warm-start kernel) is
    trained on them ("refit"); the copy leaves SMAC's own state, and so the run, untouched.

    Self-check: the snapshot's predictions are compared with the model's on the training points
    and ``N_PROBES`` random points (:func:`symexp.sampling.gp.compare_with_model`) and the result
    is stored in ``snapshot.self_check``. They are expected to be bitwise equal; a deviation
    beyond floating-point noise marks the snapshot as not reproducing SMAC (``ok: false``), and a
    message goes to the worker's log. The run goes on either way: a check never destroys a run;
    :func:`symexp.sampling.gp_for` refuses a snapshot that failed it.
    """
    model = smac._model
    X, Y = smac._runhistory_encoder.transform(budget_subset=[None])
    if len(X) != n:
        raise RuntimeError(f"expected {n} evaluations in SMAC's training data, found {len(X)}")
    gp = getattr(model, "_gp", None)
    live = (getattr(model, "_is_trained", False) and gp is not None and hasattr(gp, "X_train_")
            and np.array_equal(gp.X_train_, X))
    if not live:
        model = copy.deepcopy(model)
        model.train(X, Y)
    snap = GPSnapshot.from_smac_model(model, X, Y, space, source="live" if live else "refit")
    probes = np.vstack([X, rng.uniform(size=(N_PROBES, space.dim))])
    snap.self_check = compare_with_model(snap, model, probes)
    if not snap.self_check["ok"]:
        print(f"symexp: GP snapshot at n={n} does not reproduce SMAC's model: {snap.self_check}",
              file=sys.stderr, flush=True)
    return snap


def run_trajectory(
    objective: Callable[[dict[str, Any], int], float],
    space: SearchSpace,
    *,
    n_trials: int,
    snapshot_sizes: Sequence[int],
    seed: int,
    output_directory: Path,
    initial_design_per_dim: int,
    initial_design_max_ratio: float,
    retrain_after: int,
    deterministic: bool,
    selection: str = "native",
    checkpoint: str | Path | None = None,
    checkpoint_identity: dict[str, Any] | None = None,
    on_snapshot: Callable[[Any, GPSnapshot], None] | None = None,
    on_ask: Callable[[Any, Any], None] | None = None,
    on_trial: Callable[[int, int, float | None], None] | None = None,
) -> dict[str, Any]:
    """Run SMAC's BlackBoxFacade for ``n_trials`` evaluations in this process.

    ``selection``: ``"native"`` (smac 2.4.1's acquisition maximiser) or ``"smac2.0"`` (smac
    2.0.0's, :mod:`symexp.sampling.smac_selection`). ``checkpoint``: trial log to append to and to
    replay from (see the module docstring); ``checkpoint_identity`` (JSON-able) names the run in
    it. ``on_snapshot(smac, snapshot)`` is called right after each snapshot, ``on_ask(smac, info)``
    after each ``ask`` (tests and benchmarks use them), ``on_trial(done, n_trials, best_cost)``
    after each told trial (progress; ``best_cost`` is ``None`` while no evaluation succeeded).
    Returns a JSON-able dict (see ``BORun``)
    plus ``"replay"``: ``{"replayed": k, "diverged_at": i or None, "discarded": reason or None}``.
    """
    from smac import BlackBoxFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue
    from smac.runhistory.enumerations import StatusType

    from symexp.sampling.smac_selection import make_acquisition_maximizer

    sizes = sorted(set(int(n) for n in snapshot_sizes))
    cs = space.to_configspace(seed=seed)
    scenario = Scenario(
        configspace=cs,
        name=f"symexp-bo-n{n_trials}",
        output_directory=Path(output_directory),
        deterministic=deterministic,
        n_trials=n_trials,
        seed=seed,
    )
    initial_design = BlackBoxFacade.get_initial_design(
        scenario, n_configs_per_hyperparameter=initial_design_per_dim, max_ratio=initial_design_max_ratio)
    config_selector = BlackBoxFacade.get_config_selector(scenario, retrain_after=retrain_after)
    maximizer = make_acquisition_maximizer(selection, scenario, retrain_after)
    log = TrialLog(checkpoint, checkpoint_identity or {}) if checkpoint is not None else None
    replay = list(log.trials) if log is not None else []
    replay_info: dict[str, Any] = {"replayed": 0, "diverged_at": None,
                                   "discarded": None if log is None else log.discarded}
    if log is not None and log.garbled is not None:
        replay_info["garbled"] = log.garbled
        replay_info["set_aside"] = str(log.set_aside)
        print(f"symexp: damaged BO checkpoint: {log.garbled}; the file was set aside as {log.set_aside}",
              file=sys.stderr, flush=True)
    check_costs = verifies(objective)

    smac_logger = logging.getLogger("smac")
    old_level = smac_logger.level
    smac_logger.setLevel(logging.ERROR)
    try:
        smac = BlackBoxFacade(
            scenario,
            target_function=None,  # ask/tell: we evaluate ourselves
            initial_design=initial_design,
            config_selector=config_selector,
            acquisition_maximizer=maximizer,  # None: the facade's default
            logging_level=False,  # leave the process's logging configuration alone
            overwrite=True,  # never ask interactively about an old run in the output directory
        )
        probe_rng = np.random.default_rng(seed)  # own generator: must not touch SMAC's RNGs
        X_rows: list[list[float]] = []
        ys: list[float] = []
        eval_seeds: list[int] = []
        origins: list[str] = []
        snapshots: dict[str, Any] = {}
        worst: float | None = None
        best: float | None = None  # for progress
        n_failed = 0
        for i in range(n_trials + 1):
            if i == n_trials and i not in sizes:
                break
            with _blas_single_thread():
                info = smac.ask()  # for i >= initial design: trains the GP on the i evaluations so far
                if on_ask is not None:
                    on_ask(smac, info)
                if i in sizes:
                    snap = _take_snapshot(smac, space, i, probe_rng)
                    snapshots[str(i)] = snap.to_json()
                    if on_snapshot is not None:
                        on_snapshot(smac, snap)
            if i == n_trials:
                break  # the extra ask only served the final snapshot; nothing is evaluated
            config = space.validate(dict(info.config))
            origin = str(info.config.origin)
            if i < len(replay):
                rec = replay[i]
                if rec["config"] == config and rec["seed"] == int(info.seed) and rec["origin"] == origin:
                    cost = recorded_cost(rec)
                    if check_costs:  # the evaluation cache's (or a recomputed) cost must be the recorded one
                        true = float(objective(dict(config), int(info.seed)))
                        if not costs_agree(cost, true):
                            why = (f"trial {i} has cost {cost!r} in the checkpoint but {true!r} in the evaluation "
                                   f"cache")
                            aside = set_aside_copy(log.path, why)
                            replay_info.update(cost_mismatch_at=i, set_aside=str(aside))
                            print(f"symexp: BO checkpoint replay stopped at trial {i}: {why}; the checkpoint was set "
                                  f"aside as {aside}; continuing with true costs", file=sys.stderr, flush=True)
                            replay = []  # this trial is evaluated below (a cache hit) and logged
                            log.truncate(i)
                    if replay:
                        replay_info["replayed"] += 1
                else:
                    replay_info["diverged_at"] = i
                    print(f"symexp: checkpoint replay stopped at trial {i}: SMAC proposed {config} "
                          f"(seed {int(info.seed)}, {origin}) but the checkpoint has {rec['config']} "
                          f"(seed {rec['seed']}, {rec['origin']}); evaluating from here on",
                          file=sys.stderr, flush=True)
                    replay = []
                    log.truncate(i)
            if i >= len(replay):
                cost = float(objective(dict(config), int(info.seed)))
                if log is not None:
                    log.append(config, cost, int(info.seed), origin)
            if math.isfinite(cost):
                status, told = StatusType.SUCCESS, cost
                worst = cost if worst is None else max(worst, cost)
                best = cost if best is None else min(best, cost)
            else:
                n_failed += 1
                status, told = StatusType.CRASHED, (worst if worst is not None else FAILURE_COST_IF_NONE)
            smac.tell(info, TrialValue(cost=told, status=status), save=False)
            X_rows.append([float(config[name]) for name in space.names])
            ys.append(cost)
            eval_seeds.append(int(info.seed))
            origins.append(origin)
            if on_trial is not None:
                on_trial(i + 1, n_trials, best)
        incumbent = smac.intensifier.get_incumbent()
        n_init = sum(o.lower().startswith("initial design") for o in origins)
    finally:
        smac_logger.setLevel(old_level)

    return {
        "n_trials": n_trials,
        "seed": seed,
        "X": X_rows,
        "y": [c if math.isfinite(c) else None for c in ys],
        "eval_seeds": eval_seeds,
        "origins": origins,
        "n_initial_design": n_init,
        "n_failed": n_failed,
        "incumbent": None if incumbent is None else space.validate(dict(incumbent)),
        "snapshots": snapshots,
        "replay": replay_info,
    }


def die_with_parent(parent_pid: int | None) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere a no-op).

    ``PR_SET_PDEATHSIG`` fires when the parent *thread* that started this process exits, so the
    parent must wait for the child in the thread that started it (``run_bo`` does). If the
    parent died before the call (``getppid()`` is no longer ``parent_pid``), exit at once.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the parent still kills us on its own errors
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(3)


PROGRESS_MARKER = "symexp-progress"


def every_nth_trial(callback: Callable[[int, int, float | None], None], every: int) -> Callable[[int, int, float | None], None]:
    """``on_trial`` that passes every ``every``-th trial (and the last) on to ``callback``."""

    def on_trial(done: int, n_trials: int, best: float | None) -> None:
        if done % every == 0 or done == n_trials:
            callback(done, n_trials, best)

    return on_trial


def progress_printer(every: int | None) -> Callable[[int, int, float | None], None] | None:
    """``on_trial`` that prints a progress line for the parent every ``every`` trials (and the last).

    The line goes to this process's stdout (the worker log the parent reads):
    ``symexp-progress DONE N_TRIALS BEST_COST`` (``BEST_COST`` ``nan`` while nothing succeeded).
    """
    if not every:
        return None

    def print_line(done: int, n_trials: int, best: float | None) -> None:
        print(f"{PROGRESS_MARKER} {done} {n_trials} {math.nan if best is None else best!r}", flush=True)

    return every_nth_trial(print_line, int(every))


def parse_progress(line: str) -> tuple[int, int, float | None] | None:
    """``(done, n_trials, best_cost)`` of a progress line, ``None`` for any other line."""
    parts = line.split()
    if len(parts) != 4 or parts[0] != PROGRESS_MARKER:
        return None
    try:
        done, n_trials, best = int(parts[1]), int(parts[2]), float(parts[3])
    except ValueError:
        return None
    return done, n_trials, (best if math.isfinite(best) else None)


def main(argv: Sequence[str] | None = None) -> int:
    """Child-process entry point; ``argv`` is ``[REQUEST.json]``."""
    import json

    from symexp.store.atomic import atomic_write_json

    argv = list(sys.argv[1:] if argv is None else argv)
    request = json.loads(Path(argv[0]).read_text())
    die_with_parent(request.get("parent_pid"))
    result_path = Path(request["result"])
    try:
        try:
            # from the parent through stdin, never from a file: no stored bytes are unpickled
            objective = pickle.loads(sys.stdin.buffer.read())
        except Exception as exc:  # noqa: BLE001
            raise SymexpError(f"the SMAC worker process cannot load the objective ({type(exc).__name__}: {exc}); "
                              "define it in an importable module, not in __main__") from None
        space = space_from_json(request["space"])
        job = request["job"]
        result = run_trajectory(objective, space, output_directory=Path(request["output_directory"]),
                                checkpoint=request.get("checkpoint"), checkpoint_identity=request.get("checkpoint_identity"),
                                on_trial=progress_printer(request.get("progress_every")), **job)
        # Trainings the objective ran in this process (a benchmark's cache misses), so the parent
        # can report what a cell cost; None when the objective doesn't count.
        owner = getattr(objective, "__self__", objective)
        result["objective_trainings"] = getattr(owner, "n_trainings", None)
        atomic_write_json(result_path, {"ok": True, "result": result}, indent=None)
        return 0
    except BaseException as exc:  # report everything to the parent, which re-raises
        atomic_write_json(result_path, {
            "ok": False,
            "user_error": isinstance(exc, SymexpError),
            "message": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }, indent=None)
        return 1


if __name__ == "__main__":
    sys.exit(main())
