"""A short text summary of an experiment's records: RMSE per method and the formulas found."""

from __future__ import annotations

import pandas as pd

from symexp.store.records import METHOD_LABELS, METHODS
from symexp.textsafe import terminal


def rmse_table(records: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of test RMSE per (model, dataset, n) and method, over seeds (ok records only)."""
    ok = records[records["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    g = ok.groupby(["model", "dataset", "n_samples", "method"])["test_rmse"].agg(["mean", "std", "count"])
    table = g.reset_index()
    table["method"] = pd.Categorical(table["method"], categories=list(METHODS), ordered=True)
    return table.sort_values(["model", "dataset", "n_samples", "method"]).reset_index(drop=True)


def format_summary(records: pd.DataFrame, experiment: str, planned: int | None = None,
                   damaged: list[tuple[object, str]] | None = None) -> str:
    """Text summary of a view's records; ``planned`` records in the view, ``damaged`` (path, why) pairs."""
    damaged = damaged or []
    of = f" of {planned} planned" if planned is not None else ""
    bad = "".join(f"\n  DAMAGED {terminal(path)}: {terminal(why)}" for path, why in damaged)
    if records.empty:
        return f"experiment {experiment}: no records yet{of}" + bad
    timed_out = int(records["sr_timed_out"].fillna(False).astype(bool).sum())
    lines = [f"experiment {experiment}: {len(records)} records{of} "
             f"({int((records['status'] == 'ok').sum())} ok, {int((records['status'] != 'ok').sum())} failed"
             + (f", {timed_out} stopped by the SR time limit" if timed_out else "") + ")" + bad, ""]
    table = rmse_table(records)
    if not table.empty:
        lines.append("Test RMSE against the true cost (mean +- std over seeds):")
        for (model, dataset, n), block in table.groupby(["model", "dataset", "n_samples"], observed=True):
            lines.append(f"  {model} / {dataset} / n={n}")
            for _, row in block.iterrows():
                std = "" if pd.isna(row["std"]) else f" +- {row['std']:.4f}"
                lines.append(f"    {METHOD_LABELS.get(row['method'], row['method']):<18} {row['mean']:.4f}{std}  ({int(row['count'])} runs)")
        lines.append("")
    sr = records[(records["status"] == "ok") & records["method"].astype(str).str.startswith("sr_")]
    if not sr.empty:
        lines.append("Formulas (cost as a function of the hyperparameters):")
        for _, r in sr.sort_values(["model", "dataset", "method", "n_samples", "sr_seed"]).iterrows():
            lines.append(f"  {METHOD_LABELS[r['method']]:<12} n={int(r['n_samples']):<4} sr_seed={int(r['sr_seed'])}: "
                         f"{terminal(r['formula'])}   [RMSE {r['test_rmse']:.4f}, {int(r['complexity'])} ops]")
    failed = records[records["status"] != "ok"]
    for _, r in failed.iterrows():
        seed = "" if pd.isna(r["sr_seed"]) else f" sr_seed={int(r['sr_seed'])}"
        lines.append(f"  FAILED {terminal(r['method'])} n={int(r['n_samples'])}{seed}: {terminal(r['error'])}")
    return "\n".join(lines)
