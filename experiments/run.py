"""Hydra entry point: one job = one cell (model, dataset, mode, sampling seed).

    python experiments/run.py experiment=smoke mode=bo          # one cell
    python experiments/run.py -m experiment=smoke               # its sweep (all modes)
    python experiments/run.py -m experiment=table1 cluster=slurm

A user error (unknown model, bad sample size, ...) prints one line and exits with status 2
before any compute; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.hydra_glue import cell_spec  # noqa: E402
from symexp.errors import SymexpError  # noqa: E402
from symexp.pipeline import run_cell  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> dict:
    try:
        spec = cell_spec(cfg, HydraConfig.get().runtime.output_dir)
        report = run_cell(spec, log=log)
    except SymexpError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    return {"written": len(report.written), "skipped": report.skipped, "failed": len(report.failed)}


if __name__ == "__main__":
    main()
