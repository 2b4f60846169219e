"""Hydra entry point: one job = one cell (model, dataset, mode, sampling seed).

    python experiments/run.py experiment=smoke mode=bo          # one cell
    python experiments/run.py -m experiment=smoke               # its sweep (all modes)
    python experiments/run.py -m experiment=table1 cluster=slurm

A user error (unknown model, bad sample size, ...) prints one line and exits with status 2
before any compute; nothing is written.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

ROOT = str(Path(__file__).resolve().parents[1])
sys.path.insert(0, ROOT)
# Cluster jobs unpickle this module's task in a fresh interpreter that inherits our environment:
# give it the repository on its path, wherever the sweep was launched from.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)

from experiments.hydra_glue import cell_spec  # noqa: E402
from symexp.errors import SymexpError  # noqa: E402
from symexp.jobstatus import write_job_status  # noqa: E402
from symexp.pipeline import run_cell  # noqa: E402


def remove_hydra_only_dir(path: Path) -> None:
    """A user error writes nothing: drop the job dir Hydra made if it holds only Hydra's files
    (.hydra/, the job log), then its parents if they are left empty, up to the launch dir."""
    if not path.is_dir() or any(p.name not in {".hydra", "run.log", "main.log"} and p.suffix != ".log"
                                for p in path.iterdir()):
        return
    shutil.rmtree(path, ignore_errors=True)
    cwd = Path.cwd().resolve()
    parent = path.resolve().parent
    while parent != cwd and cwd in parent.parents and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def user_error(exc: SymexpError) -> None:
    """One line and exit 2 in a terminal; inside a SLURM job, raise so that submitit returns
    the error to the submitting process at once (an exit leaves it waiting for a result file)."""
    if "SLURM_JOB_ID" in os.environ:
        raise exc
    print(f"error: {exc}", file=sys.stderr, flush=True)
    sys.exit(2)


def log(msg: str) -> None:
    print(msg, flush=True)


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> dict:
    output_dir = HydraConfig.get().runtime.output_dir
    try:
        spec = cell_spec(cfg, output_dir)
        # Validate everything before the first write; a user error leaves no trace.
        from symexp.pipeline import validate_spec
        validate_spec(spec)
    except SymexpError as exc:
        remove_hydra_only_dir(Path(output_dir))
        user_error(exc)
    write_job_status(output_dir, "running")
    try:
        report = run_cell(spec, log=log)
    except BaseException as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        write_job_status(output_dir, "failed", error=reason)
        if isinstance(exc, SymexpError):
            user_error(exc)
        raise
    summary = {"written": len(report.written), "skipped": report.skipped, "failed": len(report.failed)}
    write_job_status(output_dir, "done", **summary,
                     failed_records=[f"{k.method} n={k.n_samples} sr_seed={k.sr_seed}: {why}" for k, why in report.failed])
    return summary


if __name__ == "__main__":
    main()
