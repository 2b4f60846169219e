"""The cost table of docs/cluster.md: every paper preset and the whole paper grid, in each cluster layout.

    python bench/estimate_table.py                      # nodes 1, 2, 4, 8 for the node layout
    python bench/estimate_table.py --nodes 2,4 --cluster slurm_node

For a fresh store and cache (what a new clone would pay), from the calibration in symexp/cluster/costs.py:
CPU-hours used, CPU-hours billed (CPUs requested x expected wall time), their ratio and the wall
time of the sweep, per layout (cell = one task per cell with 64 CPUs; shared = tasks ask for what
they use; node = one 64-CPU job per node on N nodes). The same numbers as
`symexp status experiment=<preset> cluster=<layout> --estimate --nodes N` on a fresh clone.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from symexp.app.config import build_views, layout_settings, view_cells
from symexp.cluster.costs import CostModel
from symexp.cluster.estimate import estimate_layout
from symexp.pipeline.work import plan_work

PRESETS = ("table1", "sample_size", "parsimony", "pdp", "table1,sample_size,parsimony,pdp")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=";".join(PRESETS), help="';'-separated; a comma joins presets into one sweep")
    ap.add_argument("--nodes", default="1,2,4,8")
    ap.add_argument("--shared-nodes", type=int, default=4, help="nodes for the wall time of the shared and cell layouts")
    ap.add_argument("--cluster", default="slurm")
    args = ap.parse_args()
    print("| sweep | layout | jobs | CPU-h used | CPU-h billed | billed/used | wall h |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(";"):
            views = build_views([f"experiment={preset}", f"cluster={args.cluster}"])
            cells = [dataclasses.replace(c, spec=dataclasses.replace(c.spec, store_dir=Path(tmp) / "store",
                                                                     cache_dir=Path(tmp) / "cache"))
                     for c in view_cells(views)]
            base = layout_settings(views[0].cluster or {})
            items = plan_work(cells, CostModel(prefer_measured=False), chunk_seconds=base.chunk_seconds)
            rows = [("cell (64 CPUs/cell)", dataclasses.replace(base, layout="cell", nodes=args.shared_nodes)),
                    ("shared (1-CPU tasks)", dataclasses.replace(base, layout="shared", nodes=args.shared_nodes))]
            rows += [(f"node, {n} node(s)", dataclasses.replace(base, layout="node", nodes=int(n)))
                     for n in args.nodes.split(",")]
            name = preset if "," not in preset else "paper grid (all four, one sweep)"
            for label, s in rows:
                e = estimate_layout(items, cells, s)
                print(f"| {name} | {label} | {e.n_jobs} | {e.used_s / 3600:.1f} | {e.billed_s / 3600:.1f} | "
                      f"{e.ratio:.2f} | {e.wall_s / 3600:.1f} |", flush=True)
    print(f"\n(wall time of the cell and shared layouts on {args.shared_nodes} nodes of 64 CPUs, no queue wait)")


if __name__ == "__main__":
    main()
