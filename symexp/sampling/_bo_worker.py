"""One SMAC run with GP snapshots; also the entry point of the child process that runs it.

:func:`run_trajectory` is the SMAC loop itself (ask/tell, see :mod:`symexp.sampling.bo`).
:func:`main` (``python -c "...main(sys.argv[1:])" REQUEST.json``, see ``bo._CHILD_MAIN``) runs it
in a fresh interpreter whose ``PYTHONHASHSEED`` the parent fixed: it reads the request, unpickles the
objective, runs the SMAC run and writes the result (or the error) as JSON.
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
from symexp.sampling.gp import GPSnapshot, _blas_single_thread, space_from_json
from symexp.space import SearchSpace

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
    # Self-check: the snapshot reproduces the model bit for bit (training points + random probes).
    probes = np.vstack([X, rng.uniform(size=(N_PROBES, space.dim))])
    mean, var = model.predict(probes)
    s_mean, s_std = snap.predict_encoded(probes)
    if not (np.array_equal(mean.reshape(-1), s_mean) and np.array_equal(np.sqrt(var.reshape(-1)), s_std)):
        raise RuntimeError(f"GP snapshot at n={n} does not reproduce SMAC's model predictions")
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
    on_snapshot: Callable[[Any, GPSnapshot], None] | None = None,
) -> dict[str, Any]:
    """Run SMAC's BlackBoxFacade for ``n_trials`` evaluations in this process.

    ``on_snapshot(smac, snapshot)`` is called right after each snapshot (tests use it to compare
    with the live model). Returns a JSON-able dict (see ``BORun``).
    """
    from smac import BlackBoxFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue
    from smac.runhistory.enumerations import StatusType

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

    smac_logger = logging.getLogger("smac")
    old_level = smac_logger.level
    smac_logger.setLevel(logging.ERROR)
    try:
        smac = BlackBoxFacade(
            scenario,
            target_function=None,  # ask/tell: we evaluate ourselves
            initial_design=initial_design,
            config_selector=config_selector,
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
        n_failed = 0
        for i in range(n_trials + 1):
            if i == n_trials and i not in sizes:
                break
            with _blas_single_thread():
                info = smac.ask()  # for i >= initial design: trains the GP on the i evaluations so far
                if i in sizes:
                    snap = _take_snapshot(smac, space, i, probe_rng)
                    snapshots[str(i)] = snap.to_json()
                    if on_snapshot is not None:
                        on_snapshot(smac, snap)
            if i == n_trials:
                break  # the extra ask only served the final snapshot; nothing is evaluated
            config = space.validate(dict(info.config))
            cost = float(objective(dict(config), int(info.seed)))
            if math.isfinite(cost):
                status, told = StatusType.SUCCESS, cost
                worst = cost if worst is None else max(worst, cost)
            else:
                n_failed += 1
                status, told = StatusType.CRASHED, (worst if worst is not None else FAILURE_COST_IF_NONE)
            smac.tell(info, TrialValue(cost=told, status=status), save=False)
            X_rows.append([float(config[name]) for name in space.names])
            ys.append(cost)
            eval_seeds.append(int(info.seed))
            origins.append(str(info.config.origin))
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
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Child-process entry point; ``argv`` is ``[REQUEST.json]``."""
    import json

    from symexp.store.atomic import atomic_write_json

    argv = list(sys.argv[1:] if argv is None else argv)
    request = json.loads(Path(argv[0]).read_text())
    result_path = Path(request["result"])
    try:
        try:
            with open(request["objective"], "rb") as fh:
                objective = pickle.load(fh)
        except Exception as exc:  # noqa: BLE001
            raise SymexpError(f"the SMAC worker process cannot load the objective ({type(exc).__name__}: {exc}); "
                              "define it in an importable module, not in __main__") from None
        space = space_from_json(request["space"])
        job = request["job"]
        result = run_trajectory(objective, space, output_directory=Path(request["output_directory"]), **job)
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
