"""A tiny Hydra app that exercises the project's `cluster` config group on a real scheduler.

Each job does `steps` units of work, saving its progress atomically after each unit in its own
output dir; a restarted (requeued) job continues from the saved progress. At the end it writes
result.json atomically, so a job killed at any point leaves either no result or a complete one.

    python tests/slurm_app/app.py -m cluster=slurm_local x=1,2 hydra.sweep.dir=/tmp/sweep
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

# The repository's conf/ holds the cluster group; app.yaml adds it to Hydra's search path.
os.environ.setdefault("SYMEXP_CONF_DIR", str(Path(__file__).resolve().parents[2] / "conf"))


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path, default: dict) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


@hydra.main(version_base="1.3", config_path="conf", config_name="app")
def main(cfg: DictConfig) -> dict:
    out = Path(HydraConfig.get().runtime.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress_file = out / "progress.json"
    progress = read_json(progress_file, {"step": 0, "starts": 0})
    resumed_from = progress["step"]
    progress["starts"] += 1
    write_json_atomic(progress_file, progress)

    env = {k: os.environ.get(k) for k in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
                                          "SLURM_CPUS_PER_TASK", "SLURM_RESTART_COUNT", "PYTHONHASHSEED")}
    # Tells the tests which SLURM job this is (to cancel or requeue it) and that it has started.
    write_json_atomic(out / "started.json", {**env, "starts": progress["starts"], "pid": os.getpid()})

    if cfg.fail:
        raise RuntimeError(f"task x={cfg.x} failed on purpose")
    for step in range(resumed_from, cfg.steps):
        time.sleep(cfg.step_seconds)
        progress["step"] = step + 1
        write_json_atomic(progress_file, progress)

    result = {"x": cfg.x, "steps": cfg.steps, "resumed_from": resumed_from, "starts": progress["starts"],
              "cluster": cfg.cluster.name, "timeout_min": cfg.cluster.timeout_min, **env}
    write_json_atomic(out / "result.json", result)
    return result


if __name__ == "__main__":
    main()
