"""The split fingerprint: the lowest RMSE a linear regression can reach on each test grid, under
the earlier split (``stratified_kfold``) and OpenML's (``openml_folds``), beside the published
linear-regression baseline.

The paper's linear-regression baseline is fitted on 140 sampled points and scored on the test
grid. A least-squares fit on the test grid itself minimises that very error over all linear
models, so its RMSE is a lower bound: a published mean + std below it cannot come from that test
grid. For models whose hyperparameters span many decades in raw units (SVM: C and gamma in
[2^-10, 2^10]) the linear model is close to an intercept, the bound is close to the spread of
the true costs, and the published std over seeds is small, which makes the bound a sharp
fingerprint of the test rows.

Settings come from ``conf/`` (composed through the Hydra glue, the ``table1`` preset by
default): test-grid size, evaluation seeds, whether linear regression uses log features. Test
sets are computed through the shared cache (``$SYMEXP_CACHE`` or ``paths.cache``), so a re-run
resumes where it stopped and a pipeline run later reuses them.

    python bench/fingerprint_split.py [--models svm,rf] [--datasets ...] [--n-jobs 2]
        [--report-only] [--out results/fingerprint] [override ...]

``--report-only`` computes nothing: rows whose test sets are not in the cache are marked missing.
Writes ``fingerprint.csv`` and ``fingerprint.md`` after every computed test set.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.names import DATASET_ORDER, MODEL_NAMES, dataset_name
from analysis.table1 import load_published
from symexp.app.config import cell_spec, compose_config
from symexp.benchmarks.split import SPLIT_METHODS
from symexp.errors import SymexpError
from symexp.pipeline.baselines import LinearBaseline
from symexp.pipeline.work import benchmark_for
from symexp.store.atomic import atomic_write_text
from symexp.symbolic.convert import rmse
from symexp.benchmarks.testset import load_or_compute_test_set, test_set_path

ROOT = Path(__file__).resolve().parents[1]

OLD, NEW = "stratified_kfold", "openml_folds"


def spec_for(model: str, dataset: str, split: str, overrides: list[str]):
    cfg = compose_config([*overrides, f"model={model}", f"dataset={dataset}", f"split={split}"])
    return cell_spec(cfg, Path(tempfile.gettempdir()))


def lower_bound(spec, bench, test) -> float:
    """RMSE of least squares fitted on the test grid itself (features as the paper's baseline)."""
    log_features = [bench.space[n].log for n in bench.space.names] if spec.linreg_log_features else None
    lin = LinearBaseline(log_features).fit(test.X, test.y)
    return rmse(test.y, lin.predict(test.X))


def measure(model: str, dataset: str, split: str, overrides: list[str], n_jobs: int, compute: bool) -> dict | None:
    spec = spec_for(model, dataset, split, overrides)
    bench = benchmark_for(spec)
    path = test_set_path(spec.cache_dir, bench.key, spec.test_points_per_dim, tuple(spec.test_eval_seeds))
    if not compute and not path.is_file():
        return None
    test = load_or_compute_test_set(bench, spec.test_points_per_dim, spec.test_eval_seeds, spec.cache_dir,
                                    n_jobs=n_jobs, log=lambda m: print(m, flush=True))
    return {"bound": lower_bound(spec, bench, test), "cost_std": float(np.std(test.y)),
            "cost_mean": float(np.mean(test.y)), "key": bench.key, "source": bench.split_info["source"],
            "n_test": int(bench.split_info["n_test"]), "hyperparameters": ", ".join(bench.space.names)}


def table(results: dict, models: list[str], datasets: list[str]) -> pd.DataFrame:
    pub = load_published().set_index(["model_key", "dataset_key"])
    rows = []
    order = {d: i for i, d in enumerate(DATASET_ORDER)}
    for m in models:
        for d in sorted(datasets, key=lambda d: order.get(d, len(order))):  # the paper's order
            p = pub.loc[(m, d)]
            pm, ps = float(p["linear_regression_mean"]), float(p["linear_regression_std"])
            row = {"model": m, "dataset": d, "published_lr_mean": pm, "published_lr_std": ps}
            for split, tag in ((OLD, "old"), (NEW, "new")):
                r = results.get((m, d, split))
                row[f"bound_{tag}"] = None if r is None else round(r["bound"], 4)
                row[f"reachable_{tag}"] = None if r is None else bool(pm + ps >= r["bound"] - 1e-12)
                row[f"cost_std_{tag}"] = None if r is None else round(r["cost_std"], 4)
                row[f"key_{tag}"] = None if r is None else r["key"]
                if r is not None:
                    row["hyperparameters"] = r["hyperparameters"]
            rows.append(row)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    def num(v):
        return "missing" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4f}"

    def yes(v):
        return "missing" if v is None or (isinstance(v, float) and np.isnan(v)) else ("yes" if v else "**no**")

    lines = [
        "# Split fingerprint: linear-regression lower bound on the test grid",
        "",
        "Bound = RMSE of least squares fitted on the 10 x 10 test grid itself (raw hyperparameter units,",
        "as the paper's baseline); no linear model scored on that grid can do better. `reachable`: published",
        "mean + std >= bound. old = `stratified_kfold` (scikit-learn, seed 0), new = `openml_folds` (OpenML's",
        "task split regenerated). Made by `bench/fingerprint_split.py`; see docs/split.md.",
        "",
        "| model | dataset | published LR | bound old | reachable old | bound new | reachable new |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in df.to_dict("records"):
        lines.append(f"| {MODEL_NAMES[r['model']]} | {dataset_name(r['dataset'])} | "
                     f"{r['published_lr_mean']:.3f} ± {r['published_lr_std']:.3f} | {num(r['bound_old'])} | "
                     f"{yes(r['reachable_old'])} | {num(r['bound_new'])} | {yes(r['reachable_new'])} |")
    done = df.dropna(subset=["bound_old", "bound_new"])
    lines += ["", f"Rows with both bounds: {len(done)} of {len(df)}; published reachable: "
              f"old {int(done['reachable_old'].astype(bool).sum())}, new {int(done['reachable_new'].astype(bool).sum())}."]
    missing = df[df[["bound_old", "bound_new"]].isna().any(axis=1)]
    if len(missing):
        lines.append("Missing (test set not computed yet): " + ", ".join(
            f"{r.model}/{r.dataset}" for r in missing.itertuples()) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="svm,rf")
    ap.add_argument("--datasets", default=",".join(DATASET_ORDER))
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "fingerprint")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--report-only", action="store_true", help="compute nothing; only cached test sets")
    ap.add_argument("overrides", nargs="*", default=["experiment=table1"], help="Hydra overrides")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    datasets = [d for d in args.datasets.split(",") if d]
    assert set(SPLIT_METHODS) == {OLD, NEW}
    try:
        results: dict = {}
        # Pass 1: what the cache holds (the table is whole from the start); pass 2: compute the rest.
        for compute in (False, True):
            for m in models:
                for d in datasets:
                    for split in (NEW, OLD):
                        if (m, d, split) in results or (compute and args.report_only):
                            continue
                        r = measure(m, d, split, args.overrides, args.n_jobs, compute)
                        if r is None:
                            continue
                        results[(m, d, split)] = r
                        print(f"{m} {d} {split}: bound {r['bound']:.4f} (cost std {r['cost_std']:.4f}, "
                              f"{r['n_test']} test rows, {r['source']})", flush=True)
                        df = table(results, models, datasets)
                        atomic_write_text(args.out / "fingerprint.csv", df.to_csv(index=False))
                        atomic_write_text(args.out / "fingerprint.md", markdown(df))
        df = table(results, models, datasets)
        atomic_write_text(args.out / "fingerprint.csv", df.to_csv(index=False))
        atomic_write_text(args.out / "fingerprint.md", markdown(df))
    except SymexpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(markdown(table(results, models, datasets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
