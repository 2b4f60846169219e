"""``symexp run``: one job = one cell (model, dataset, mode, sampling seed), with Hydra overrides.

    symexp run experiment=smoke mode=bo          # one cell
    symexp run -m experiment=smoke               # its sweep (all modes)
    symexp run -m experiment=table1 cluster=slurm
    symexp run -m experiment=table1,sample_size,parsimony,pdp cluster=slurm_node   # the paper grid

With ``cluster.layout`` shared or node (``cluster=slurm``, ``slurm_node``) a multirun is not one job
per cell: :mod:`symexp.app.launch` plans the sweep's work items and submits them as SLURM job
arrays shaped for the cluster (see :mod:`symexp.cluster.layouts`).

Every cell of the command is validated before the first job starts: a user error (unknown model
or key, a bad sample size, a seed out of range, in any cell of a sweep) prints one line and exits
with status 2; nothing is written. Each job writes ``job_status.json`` into its output directory:
running, then done, failed (with the reason) or interrupted (Ctrl-C, SIGTERM, a time limit).
"""

from __future__ import annotations

import os
import signal
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from symexp.app.config import CONF_DIR, ROOT, build_views, cell_spec, compose_config
from symexp.errors import environment_error, environment_reason
from symexp.errors import SymexpError
from symexp.pipeline import run_cell, validate_spec
from symexp.store.statusowner import StatusOwner


class Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that claims are released and the job says why it stopped."""


def _on_sigterm(signum, frame):
    raise Interrupted(f"signal {signum}")


def user_error(exc: SymexpError) -> None:
    """One line and exit 2 in a terminal; inside a SLURM job, raise so that submitit returns
    the error to the submitting process at once (an exit leaves it waiting for a result file)."""
    if "SLURM_JOB_ID" in os.environ:
        raise exc
    print(f"error: {exc}", file=sys.stderr, flush=True)
    sys.exit(2)


def log(msg: str) -> None:
    print(msg, flush=True)


# An absolute config path: Hydra reads the repository's conf/ wherever the command is started.
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def run_job(cfg: DictConfig) -> dict:
    """One Hydra job: the cell of ``cfg``, its job state in the job's output directory."""
    output_dir = HydraConfig.get().runtime.output_dir
    try:
        spec = cell_spec(cfg, output_dir)
        validate_spec(spec)  # everything, before the first write
    except SymexpError as exc:
        user_error(exc)
    if "SLURM_JOB_ID" not in os.environ:  # under SLURM, submitit owns the signals (checkpoint, requeue)
        signal.signal(signal.SIGTERM, _on_sigterm)
    owner = StatusOwner(output_dir)  # only a job that computes something writes the cell's status
    try:
        report = run_cell(spec, log=log, on_start=owner.start)
    except KeyboardInterrupt as exc:
        owner.finish("interrupted", error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        raise
    except BaseException as exc:
        owner.finish("failed", error=environment_reason(exc))
        if isinstance(exc, SymexpError):
            user_error(exc)
        if (line := environment_error(exc)) is not None:
            user_error(SymexpError(line))
        raise
    summary = {"written": len(report.written), "skipped": report.skipped, "failed": len(report.failed),
               "claimed_elsewhere": report.claimed_elsewhere}
    owner.finish("done", **summary,
                 failed_records=[f"{k.method} n={k.n_samples} sr_seed={k.sr_seed}: {why}" for k, why in report.failed])
    return summary


WORK_ITEM_LAYOUTS = ("shared", "node")  # planned and submitted by symexp.app.launch


def check_command_line(argv: list[str]):
    """Validate every cell the command line asks for (one line, exit 2) before Hydra starts a job.

    Returns the views of a multirun (``None`` otherwise)."""
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    if any(a.startswith(("--cfg", "--info", "--help", "-h", "-c", "--shell-completion")) for a in argv):
        return None  # Hydra's own queries: let Hydra answer them
    if any(a in ("-m", "--multirun") for a in argv):
        views = build_views(overrides)  # every cell of the sweep
        layout = (views[0].cluster or {}).get("layout", "cell")
        if len(views) > 1 and layout not in WORK_ITEM_LAYOUTS:
            raise SymexpError(f"several presets in one sweep ({', '.join(v.experiment for v in views)}) need a cluster "
                              f"layout of {', '.join(WORK_ITEM_LAYOUTS)} (cluster=slurm, slurm_node); with layout {layout} "
                              "run the presets one after the other")
        return views
    spec = cell_spec(compose_config(overrides), ROOT)  # the one cell Hydra will run (no directory is used)
    validate_spec(spec, check_dirs=False)
    return None


def main(argv: list[str] | None = None) -> int:
    """``symexp run [-m] OVERRIDES...``: validate every cell, then run them (Hydra, or the work-item launcher)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        views = check_command_line(argv)
    except SymexpError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        if views and (views[0].cluster or {}).get("layout") in WORK_ITEM_LAYOUTS:
            from symexp.app.launch import main as launch_main

            return launch_main([a for a in argv if "=" in a and not a.startswith("-")], views=views)
        sys.argv = [sys.argv[0], *argv]  # Hydra parses sys.argv
        run_job()
    except (OSError, UnicodeDecodeError) as exc:  # the launcher's own writes: one line, exit 2
        if (line := environment_error(exc)) is None:
            raise
        print(f"error: {line}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the job already says "interrupted"; no traceback
        why = str(exc) or "Ctrl-C"
        print(f"interrupted ({why}): finished records are kept; the same command continues where this stopped",
              file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
