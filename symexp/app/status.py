"""``symexp status``: status, cost estimate and relaunch of an experiment's cells.

    symexp status experiment=table1                   # done / running / missing / failed, with reasons
    symexp status experiment=table1 model=lr --verbose  # a slice, every cell listed
    symexp status experiment=table1 cluster=slurm --estimate   # jobs, CPU-hours used and billed
    symexp status experiment=table1,sample_size,parsimony,pdp cluster=slurm_node --estimate --nodes 4
    symexp status experiment=table1 cluster=slurm --relaunch   # launch what is not done

Overrides are those of ``symexp run``; the cells are the preset's sweep with the overrides
applied (see :func:`symexp.app.config.build_view`); ``experiment=a,b`` is the union of presets. A
cell that some job is computing right now (on this machine or on any node sharing the store) is
*running* and never relaunched. The estimate counts what is still to compute (what the store and
cache hold, and what several cells share, once) for the cluster layout of ``cluster=`` (see
:mod:`symexp.cluster.estimate`), and compares the layouts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from symexp.app.config import View, build_views, split_overrides
from symexp.errors import SymexpError
from symexp.store.records import RecordStore
from symexp.store.status import CellStatus, cell_status, format_status

# The one key a relaunch sweeps inside a multirun: with all other keys fixed per multirun, the
# multirun's cells are exactly the cells to relaunch (a cartesian product of two swept keys
# could include done or running cells).
INNER_KEY = "sampling_seed"


def view_status(view: View) -> list[CellStatus]:
    store = RecordStore(view.store_dir)
    return [cell_status(store, c.keys, c.cell_id, c.job_dir, c.overrides) for c in view.cells]


def relaunch_commands(fixed: list[str], todo: list[dict[str, str]]) -> list[list[str]]:
    """The fewest ``symexp run --multirun`` commands whose cells are exactly ``todo``."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for cell in todo:
        outer = tuple(sorted((k, v) for k, v in cell.items() if k != INNER_KEY))
        groups[outer].append(cell.get(INNER_KEY))
    cmds = []
    for outer, inner in groups.items():
        args = [f"{k}={v}" for k, v in outer]
        if any(v is not None for v in inner):
            args.append(f"{INNER_KEY}={','.join(sorted(set(inner), key=str))}")
        cmds.append([sys.executable, "-m", "symexp.cli", "run", "--multirun", *fixed, *args])
    return cmds


def run_all(cmds: list[list[str]]) -> int:
    """Start every multirun at once (each submits its SLURM array and waits), then wait for all."""
    procs = [subprocess.Popen(cmd, cwd=Path.cwd()) for cmd in cmds]
    codes = [p.wait() for p in procs]
    bad = [c for c in codes if c != 0]
    return bad[0] if bad else 0


def print_estimate(views: list[View], nodes: int | None) -> None:
    """The estimate for the chosen layout, then all layouts side by side."""
    from dataclasses import replace

    from symexp.app.launch import plan
    from symexp.cluster.estimate import estimate_layout, node_counts

    cells, items, settings, costs = plan(views, nodes=nodes)
    est = estimate_layout(items, cells, settings)
    local = (views[0].cluster or {}).get("name") == "local"
    print(est.format(costs.sources, title=f"cluster=local: one cell after the other on this machine's "
                                          f"{settings.cell_cpus} CPUs" if local else None))
    if not items:
        return
    print(f"\nlayouts compared ({settings.nodes} node(s) of {settings.cpus_per_node} CPUs):")
    print(f"  {'layout':<34} {'jobs':>6} {'used CPU-h':>11} {'billed CPU-h':>13} {'ratio':>6} {'wall h':>7}")
    shown = [("cell (slurm_cell, %d CPUs per cell)" % settings.cell_cpus, replace(settings, layout="cell")),
             (f"shared (slurm, fit tasks {settings.task_cpus} CPU)", replace(settings, layout="shared")),
             (f"node (slurm_node, {settings.nodes} node jobs)", replace(settings, layout="node"))]
    for label, s in shown:
        try:
            e = est if s == settings else estimate_layout(items, cells, s)
        except (SymexpError, ValueError) as exc:  # e.g. a cell task larger than a node
            print(f"  {label:<34} n/a: {exc}")
            continue
        d = 1 if e.billed_s >= 36000 else 3
        print(f"  {label:<34} {e.n_jobs:>6} {e.used_s / 3600:>11.{d}f} {e.billed_s / 3600:>13.{d}f} {e.ratio:>6.2f} "
              f"{e.wall_s / 3600:>7.2f}")
    if settings.layout == "node":
        print("\nnode layout by number of nodes (more nodes: sooner done, more idle CPUs billed while the last BO runs end):")
        for n, e in node_counts(items, cells, settings):
            print(f"  {n:>3} node(s): billed {e.billed_s / 3600:8.{1 if e.billed_s >= 36000 else 3}f} CPU-h, "
                  f"ratio {e.ratio:5.2f}, wall {e.wall_s / 3600:6.2f} h")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symexp status", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=table1 model=lr")
    parser.add_argument("--verbose", action="store_true", help="list done cells too")
    parser.add_argument("--estimate", action="store_true",
                        help="jobs, CPU-hours used and billed, wall time, for the cluster layout (cluster=...)")
    parser.add_argument("--nodes", type=int, default=None,
                        help="with --estimate: nodes available (node layout: node jobs); default cluster.nodes")
    parser.add_argument("--relaunch", action="store_true", help="launch every cell that is not done or running")
    parser.add_argument("--dry-run", action="store_true", help="with --relaunch: print the commands only")
    args = parser.parse_args(argv)
    if args.nodes is not None and args.nodes < 1:
        print(f"status: error: --nodes must be a positive integer, got {args.nodes}", file=sys.stderr)
        return 2
    try:
        views = build_views(args.overrides)
        statuses = [view_status(view) for view in views]
        layout = (views[0].cluster or {}).get("layout", "cell")
        if args.relaunch and len(views) > 1 and layout not in ("shared", "node"):
            raise SymexpError("relaunching several presets at once needs cluster layout shared or node "
                              "(cluster=slurm or slurm_node); relaunch them one by one")
    except SymexpError as exc:
        print(f"status: error: {exc}", file=sys.stderr)
        return 2
    for view, st in zip(views, statuses):
        print(format_status(view.experiment, st, verbose=args.verbose))
    if args.estimate:
        print()
        try:
            print_estimate(views, args.nodes)
        except SymexpError as exc:
            print(f"status: error: {exc}", file=sys.stderr)
            return 2
    if args.relaunch:
        if layout in ("shared", "node"):
            from symexp.app.launch import launch
            from symexp.app.config import view_cells

            todo_ids = {c.cell_id for view, st in zip(views, statuses) for c, s in zip(view.cells, st)
                        if s.state not in ("done", "running")}
            cells = [c for c in view_cells(views) if c.cell_id in todo_ids]
            print(f"\nrelaunching {len(cells)} cells in the {layout} layout")
            if not cells:
                return 0
            name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("hydra.launcher.name=")), None)
            code = launch(views, cells=cells, dry_run=args.dry_run, name=name)
            if code != 0:
                print(f"status: relaunch exited with {code}", file=sys.stderr)
            return code
        todo = [s.overrides for s in statuses[0] if s.state not in ("done", "running")]
        fixed, _ = split_overrides(args.overrides)
        cmds = relaunch_commands(fixed, todo)
        print(f"\nrelaunching {len(todo)} cells in {len(cmds)} multirun(s)")
        for cmd in cmds:
            print("  symexp " + " ".join(cmd[4:]))
        if cmds and not args.dry_run:
            code = run_all(cmds)
            if code != 0:
                print(f"status: relaunch exited with {code}", file=sys.stderr)
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
