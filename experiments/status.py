"""Status, cost estimate and relaunch of an experiment's cells.

    python experiments/status.py experiment=table1                   # done / running / missing / failed, with reasons
    python experiments/status.py experiment=table1 model=lr --verbose  # a slice, every cell listed
    python experiments/status.py experiment=table1 --estimate        # jobs and CPU-hours before launching
    python experiments/status.py experiment=table1 cluster=slurm --relaunch   # launch what is not done

Overrides are those of experiments/run.py; the cells are the preset's sweep with the overrides
applied (see experiments/hydra_glue.build_view). A cell that some job is computing right now (on
this machine or on any node sharing the store) is *running* and never relaunched.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.hydra_glue import View, build_view, split_overrides  # noqa: E402
from symexp.errors import SymexpError  # noqa: E402
from symexp.store.records import RecordStore  # noqa: E402
from symexp.store.status import CellStatus, cell_status, format_status  # noqa: E402

# The one key a relaunch sweeps inside a multirun: with all other keys fixed per multirun, the
# multirun's cells are exactly the cells to relaunch (a cartesian product of two swept keys
# could include done or running cells).
INNER_KEY = "sampling_seed"


def view_status(view: View) -> list[CellStatus]:
    store = RecordStore(view.store_dir)
    return [cell_status(store, c.keys, c.cell_id, c.job_dir, c.overrides) for c in view.cells]


def relaunch_commands(fixed: list[str], todo: list[dict[str, str]]) -> list[list[str]]:
    """The fewest ``run.py --multirun`` commands whose cells are exactly ``todo``."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for cell in todo:
        outer = tuple(sorted((k, v) for k, v in cell.items() if k != INNER_KEY))
        groups[outer].append(cell.get(INNER_KEY))
    cmds = []
    for outer, inner in groups.items():
        args = [f"{k}={v}" for k, v in outer]
        if any(v is not None for v in inner):
            args.append(f"{INNER_KEY}={','.join(sorted(set(inner), key=str))}")
        cmds.append([sys.executable, str(ROOT / "experiments" / "run.py"), "--multirun", *fixed, *args])
    return cmds


def run_all(cmds: list[list[str]]) -> int:
    """Start every multirun at once (each submits its SLURM array and waits), then wait for all."""
    procs = [subprocess.Popen(cmd, cwd=Path.cwd()) for cmd in cmds]
    codes = [p.wait() for p in procs]
    bad = [c for c in codes if c != 0]
    return bad[0] if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=table1 model=lr")
    parser.add_argument("--verbose", action="store_true", help="list done cells too")
    parser.add_argument("--estimate", action="store_true", help="jobs and CPU-hours per stage (all cells)")
    parser.add_argument("--relaunch", action="store_true", help="launch every cell that is not done or running")
    parser.add_argument("--dry-run", action="store_true", help="with --relaunch: print the commands only")
    args = parser.parse_args(argv)
    try:
        view = build_view(args.overrides)
        statuses = view_status(view)
    except SymexpError as exc:
        print(f"status: error: {exc}", file=sys.stderr)
        return 2
    print(format_status(view.experiment, statuses, verbose=args.verbose))
    if args.estimate:
        from symexp.estimate import estimate
        from symexp.store.records import load_records

        specs = [c.spec for c in view.cells]
        records, _ = load_records(view.store_dir, view.keys)
        cpus = view.cpus_per_task or (specs[0].n_jobs if specs else 1)
        print()
        print(estimate(specs, view.cache_dir, records).format(cpus_per_job=int(cpus)))
    if args.relaunch:
        todo = [s.overrides for s in statuses if s.state not in ("done", "running")]
        fixed, _ = split_overrides(args.overrides)
        cmds = relaunch_commands(fixed, todo)
        print(f"\nrelaunching {len(todo)} cells in {len(cmds)} multirun(s)")
        for cmd in cmds:
            print("  " + " ".join(cmd[1:]))
        if cmds and not args.dry_run:
            code = run_all(cmds)
            if code != 0:
                print(f"status: relaunch exited with {code}", file=sys.stderr)
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
