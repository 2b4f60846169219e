"""How much Table 1 moves between the two BO selection modes (smac 2.0.0's vs the pinned smac's).

Reads the records of the same table1 sub-grid twice, once per ``bo.selection`` (each mode is its
own view: the BO settings are part of a record's identity), and prints per (model, dataset) and
column the mean test RMSE of both modes and the difference. Only the columns that depend on the
BO run are compared: SR (BO), SR (BO-GP) and the GP baseline (SR (Random) and linear regression
on random samples do not involve BO).

    .venv/bin/python bench/compare_bo_selection.py \\
        --store results/paper_subset/store --native-store results/paper_subset/store_native \\
        model=lr dataset=blood_transfusion,australian sampling_seed=0

The records come from ``symexp run -m experiment=table1 ... [bo.selection=native]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd


from analysis.cli import run_cli
from analysis.names import method_label
from analysis.output import markdown_table
from analysis.views import load_ok, the_one, view_setting, ViewRef, select_records
from symexp.store.records import METHODS

BO_COLUMNS = ("sr_bo", "sr_bo_gp", "gp_baseline")
MODES = ("smac2.0", "native")


def mode_means(store: Path, overrides: list[str], mode: str) -> pd.DataFrame:
    """Mean and count of test RMSE per (model, dataset, method) for one selection mode."""
    view = ViewRef("table1", [*overrides, f"bo.selection={mode}"])
    setting = view_setting(view)
    n = the_one(setting["n_samples"], "n_samples", view)
    parsimony = the_one(setting["parsimony"], "parsimony", view)
    _all, ok = load_ok(store, view)
    sel = select_records(ok, METHODS, n, parsimony)
    sel = sel[sel["method"].isin(BO_COLUMNS)]
    return sel.groupby(["model", "dataset", "method"])["test_rmse"].agg(["mean", "count"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="compare_bo_selection", description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, required=True, help="records made with bo.selection=smac2.0")
    p.add_argument("--native-store", type=Path, required=True, help="records made with bo.selection=native")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="the table1 sub-grid (Hydra overrides)")
    args = p.parse_args(argv)
    paper = mode_means(args.store, args.overrides, "smac2.0")
    native = mode_means(args.native_store, args.overrides, "native")
    both = paper.add_suffix("_smac20").join(native.add_suffix("_native"), how="inner")
    if both.empty:
        print("no cell has records in both modes")
        return 1
    rows = []
    for (model, dataset, method), r in both.iterrows():
        rows.append([model, dataset, method_label(method), f"{r.mean_smac20:.4f} ({int(r.count_smac20)})",
                     f"{r.mean_native:.4f} ({int(r.count_native)})", f"{r.mean_native - r.mean_smac20:+.4f}",
                     f"{100 * (r.mean_native / r.mean_smac20 - 1):+.0f}%"])
    print(markdown_table(["Model", "Dataset", "Column", "smac2.0 mean (n)", "native mean (n)", "native − smac2.0", "relative"],
                         rows, ["l", "l", "l", "r", "r", "r", "r"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="compare_bo_selection"))
