"""Table 1 of the paper subset under two test splits, cell by cell: before (scikit-learn's
StratifiedKFold stand-in) and after (OpenML's task fold, regenerated).

Usage::

    python -m analysis.compare_splits [--before results/paper_subset/analysis_stratified_kfold]
                                      [--after results/paper_subset/analysis] [--out results/paper_subset]

Reads the two ``table1/<protocol>/comparison.csv`` files the Table 1 builder wrote (each from its
own records) and writes ``split_before_after.md``: per published cell the reproduced mean before
and after and whether it lies inside the published mean ± std; counts over the cells present in
both, column averages, and the cells that moved in or out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.cli import OneLineParser, run_cli
from analysis.names import METHODS, method_label
from analysis.output import fmt, markdown_table, write_text
from symexp.errors import SymexpError

SUBSET = Path("results/paper_subset")
KEYS = ["model", "dataset", "method"]


def _comparison(folder: Path) -> pd.DataFrame:
    paths = sorted((folder / "table1").glob("*/comparison.csv"))
    if len(paths) != 1:
        raise SymexpError(f"expected one table1/<protocol>/comparison.csv below {folder}, found {len(paths)}")
    return pd.read_csv(paths[0])


def before_after(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    cols = KEYS + ["column", "published_mean", "published_std", "reproduced_mean", "inside"]
    both = before[cols].merge(after[KEYS + ["reproduced_mean", "inside"]], on=KEYS, suffixes=("_before", "_after"))
    return both


def to_markdown(df: pd.DataFrame) -> str:
    have = df[df["reproduced_mean_before"].notna() & df["reproduced_mean_after"].notna()]
    inside_b = int(have["inside_before"].astype(bool).sum())
    inside_a = int(have["inside_after"].astype(bool).sum())
    lines = ["# Table 1 of the paper subset: earlier split vs OpenML's task split", "",
             f"Cells with a reproduced mean under both splits: {len(have)} of {len(df)}. Inside the published "
             f"mean ± std: **{inside_b} before, {inside_a} after** (same cells).", ""]
    if len(have):
        avg = []
        for m in METHODS:
            sub = have[have["method"] == m]
            if len(sub):
                avg.append([method_label(m), str(len(sub)), fmt(sub["published_mean"].mean(), 4),
                            fmt(sub["reproduced_mean_before"].mean(), 4), fmt(sub["reproduced_mean_after"].mean(), 4)])
        lines += ["Column averages over those cells:", "",
                  markdown_table(["column", "cells", "published", "before", "after"], avg), ""]
    rows = []
    for r in df.itertuples(index=False):
        def cell(mean, inside):
            return "–" if pd.isna(mean) else f"{fmt(mean)} {'✓' if bool(inside) else '✗'}"
        rows.append([r.model, r.dataset, r.column, f"{fmt(r.published_mean)} ± {fmt(r.published_std)}",
                     cell(r.reproduced_mean_before, r.inside_before), cell(r.reproduced_mean_after, r.inside_after)])
    lines += [markdown_table(["model", "dataset", "column", "published", "before", "after"], rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = OneLineParser(prog="analysis.compare_splits", description=__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, default=SUBSET / "analysis_stratified_kfold")
    p.add_argument("--after", type=Path, default=SUBSET / "analysis")
    p.add_argument("--out", type=Path, default=SUBSET)
    args = p.parse_args(argv)
    df = before_after(_comparison(args.before), _comparison(args.after))
    path = write_text(args.out / "split_before_after.md", to_markdown(df))
    print(f"split comparison: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="analysis.compare_splits"))
