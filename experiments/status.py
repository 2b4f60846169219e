"""Status, cost estimate and relaunch of an experiment's cells.

    python experiments/status.py experiment=table1                   # done / missing / failed, with reasons
    python experiments/status.py experiment=table1 model=lr --verbose  # a slice, every cell listed
    python experiments/status.py experiment=table1 --estimate        # jobs and CPU-hours before launching
    python experiments/status.py experiment=table1 cluster=slurm --relaunch   # launch what is not done

Overrides are the same as for experiments/run.py; the cells are the preset's sweep
(``hydra.sweeper.params``) with command-line overrides applied (``k=a,b`` sweeps, ``k=a`` fixes).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.hydra_glue import cell_spec  # noqa: E402
from symexp.errors import SymexpError  # noqa: E402
from symexp.pipeline import validate_spec  # noqa: E402
from symexp.status import cell_status, format_status  # noqa: E402

GROUPS = {"sr", "bo", "cluster", "experiment"}
# Keys a relaunch sweeps inside one multirun; the others split relaunches into separate multiruns.
INNER_KEYS = ("mode", "sampling_seed")


def split_overrides(overrides: list[str]) -> tuple[list[str], dict[str, str]]:
    """(fixed overrides, {key: "a,b"} sweeps) from command-line overrides."""
    fixed, sweeps = [], {}
    for ov in overrides:
        if "=" not in ov:
            raise SymexpError(f"override {ov!r} is not key=value")
        key, value = ov.split("=", 1)
        if "," in value and not value.startswith("["):
            sweeps[key] = value
        else:
            fixed.append(ov)
    return fixed, sweeps


def expand_cells(overrides: list[str]) -> tuple[list[tuple[dict[str, str], object]], object]:
    """Every cell of the sweep as (its overrides, its composed config)."""
    fixed, user_sweeps = split_overrides(overrides)
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        base = compose("config", overrides=fixed, return_hydra_config=True)
        params = {str(k): str(v) for k, v in (OmegaConf.select(base, "hydra.sweeper.params") or {}).items()}
        for ov in fixed:
            params.pop(ov.split("=", 1)[0].lstrip("+~"), None)  # a fixed value wins over the preset's sweep
        params.update(user_sweeps)
        keys = list(params)
        cells = []
        for values in itertools.product(*(params[k].split(",") for k in keys)):
            cell = dict(zip(keys, (v.strip() for v in values)))
            if GROUPS & set(cell):
                cfg = compose("config", overrides=fixed + [f"{k}={v}" for k, v in cell.items()], return_hydra_config=True)
            else:
                cfg = base.copy()
                for k, v in cell.items():
                    OmegaConf.update(cfg, k, yaml.safe_load(v), force_add=True)
            cells.append((cell, cfg))
    return cells, base


def job_dir(cfg) -> Path:
    HydraConfig.instance().set_config(cfg)
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=True)
    return Path(sweep["dir"]) / sweep["subdir"]


def relaunch_commands(experiment_overrides: list[str], todo: list[dict[str, str]]) -> list[list[str]]:
    groups: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for cell in todo:
        outer = tuple((k, v) for k, v in cell.items() if k not in INNER_KEYS)
        for k in INNER_KEYS:
            if k in cell:
                groups[outer][k].add(cell[k])
    cmds = []
    for outer, inner in groups.items():
        args = [f"{k}={v}" for k, v in outer] + [f"{k}={','.join(sorted(vs, key=str))}" for k, vs in inner.items()]
        cmds.append([sys.executable, str(ROOT / "experiments" / "run.py"), "--multirun", *experiment_overrides, *args])
    return cmds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=table1 model=lr")
    parser.add_argument("--verbose", action="store_true", help="list done cells too")
    parser.add_argument("--estimate", action="store_true", help="jobs and CPU-hours per stage (all cells)")
    parser.add_argument("--relaunch", action="store_true", help="launch every cell that is not done")
    parser.add_argument("--dry-run", action="store_true", help="with --relaunch: print the commands only")
    args = parser.parse_args(argv)
    try:
        cells, base = expand_cells(args.overrides)
        experiment = str(base.experiment)
        statuses, specs = [], []
        for overrides, cfg in cells:
            jd = job_dir(cfg)
            spec = cell_spec(cfg, jd)
            validate_spec(spec)  # a bad override is reported here, not by the relaunched jobs
            specs.append(spec)
            statuses.append(cell_status(spec, jd, overrides))
    except SymexpError as exc:
        print(f"status: error: {exc}", file=sys.stderr)
        return 2
    print(format_status(experiment, statuses, verbose=args.verbose))
    if args.estimate:
        from symexp.estimate import estimate
        from symexp.records import load_records

        records = load_records(specs[0].store_dir, experiment) if specs else None
        cpus = OmegaConf.select(base, "cluster.cpus_per_task") or specs[0].n_jobs if specs else 1
        print()
        print(estimate(specs, specs[0].cache_dir if specs else Path("."), records).format(cpus_per_job=int(cpus)))
    if args.relaunch:
        todo = [s.overrides for s in statuses if s.state != "done"]
        fixed, _ = split_overrides(args.overrides)
        cmds = relaunch_commands(fixed, todo)
        print(f"\nrelaunching {len(todo)} cells in {len(cmds)} multirun(s); done cells in a multirun exit at once")
        for cmd in cmds:
            print("  " + " ".join(cmd[1:]))
            if not args.dry_run:
                proc = subprocess.run(cmd, cwd=Path.cwd())
                if proc.returncode != 0:
                    print(f"status: relaunch exited with {proc.returncode}", file=sys.stderr)
                    return proc.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
