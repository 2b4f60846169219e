"""Costs under today's libraries and under the paper's: the same grid points, seeds and code, two venvs.

The paper ran xgboost 1.3.1 (``environment.yml`` of automl/symbolic-explanations) and the
scikit-learn of mid-2023 (unpinned there); symexp runs the versions of ``requirements.lock``.
This script evaluates every ``--every``-th point of a model's Table 1 test grid under each
evaluation seed (grid size and seeds from the ``table1`` preset), once with this interpreter and
once with ``--old-python`` (a throwaway venv with the old libraries and ``pip install --no-deps
-e .`` of this checkout), and compares fit by fit and grid point by grid point. Nothing is cached:
every cost is trained afresh in both venvs. Both venvs evaluate the *same* configurations (the
new venv's grid, passed to the old one bit for bit); ``--own-grid`` lets the old venv compute its
grid itself, which differs in the last bit at many points (numpy 1.26 vs 2.x) and so redraws
those points' bootstrap samples: that run measures the seed noise, not the libraries.

    python bench/model_versions_costs.py --model xgb --dataset australian --every 3 \
        --old-python /tmp/oldvenv/bin/python [--out results/model_defaults]

The old venv used for ``results/model_defaults`` (Python 3.11)::

    python3.11 -m venv /tmp/oldvenv
    /tmp/oldvenv/bin/pip install "numpy<2" "scipy<1.14" "pandas<2.3" scikit-learn==1.2.2 xgboost==1.3.1 filelock
    /tmp/oldvenv/bin/pip install --no-deps -e .

(scikit-learn 0.24.2, HPOBench's own pin, has no wheel for Python 3.11 and its source build
fails while installing its build dependencies.) ``--worker`` is the inner call; it needs only
``symexp.benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from symexp.store.atomic import atomic_write_text


def worker(args: argparse.Namespace) -> None:
    import sklearn  # noqa: PLC0415
    import xgboost  # noqa: PLC0415

    from symexp.benchmarks import make_benchmark  # noqa: PLC0415

    bench = make_benchmark(args.model, args.dataset)
    X = bench.space.test_grid(args.points_per_dim)[:: args.every]
    own = bench.space.from_array(X)
    # --configs: the other venv's grid points, bit for bit. A grid computed here can differ from it
    # in the last bit (numpy's exp/log differ between 1.26 and 2.x), and the per-evaluation seed
    # (the bootstrap rows) hashes the configuration: a 1-ulp change redraws the bootstrap sample.
    configs = json.loads(Path(args.configs).read_text()) if args.configs else own
    seeds = [int(s) for s in args.eval_seeds.split(",")]
    pc = [c for c in configs for _ in seeds]
    ps = [s for _ in configs for s in seeds]
    costs = np.asarray(bench.evaluate_many(pc, ps, n_jobs=1, on_error="nan"), dtype=float).reshape(len(configs), len(seeds))
    out = {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__,
           "benchmark": bench.key, "configs": configs, "eval_seeds": seeds,
           "own_grid_points_differing": sum(a != b for a, b in zip(own, configs)),
           "costs": [[None if not np.isfinite(v) else float(v) for v in row] for row in costs]}
    Path(args.worker).write_text(json.dumps(out))


def compare(new: dict, old: dict) -> dict:
    a = np.array(new["costs"], dtype=float)
    b = np.array(old["costs"], dtype=float)
    same_fit = np.isclose(a, b, rtol=0, atol=0) | (np.isnan(a) & np.isnan(b))
    ya, yb = np.nanmean(a, axis=1), np.nanmean(b, axis=1)
    d = np.abs(ya - yb)
    diff_rows = [{"config": c, "new": float(x), "old": float(y)} for c, x, y, s in
                 zip(new["configs"], ya, yb, same_fit.all(axis=1)) if not s]
    return {
        "fits": int(a.size), "fits_identical": int(same_fit.sum()),
        "grid_points": int(len(ya)), "grid_points_identical": int(np.sum(d == 0)),
        "true_cost_abs_diff_max": float(d.max()), "true_cost_abs_diff_mean": float(d.mean()),
        "true_cost_std_new": float(np.std(ya)), "true_cost_std_old": float(np.std(yb)),
        "true_cost_mean_new": float(np.mean(ya)), "true_cost_mean_old": float(np.mean(yb)),
        "differing_points": diff_rows,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--every", type=int, default=3, help="take every N-th test-grid point (default 3)")
    p.add_argument("--old-python", help="interpreter of the venv with the paper's library versions")
    p.add_argument("--out", default="results/model_defaults")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--points-per-dim", type=int, help=argparse.SUPPRESS)
    p.add_argument("--eval-seeds", help=argparse.SUPPRESS)
    p.add_argument("--configs", help=argparse.SUPPRESS)
    p.add_argument("--own-grid", action="store_true",
                   help="let the old venv compute its own grid (differs in the last bit: see the docstring)")
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.old_python or not Path(args.old_python).exists():
        print(f"error: --old-python {args.old_python!r} is not an interpreter (see the docstring)", file=sys.stderr)
        sys.exit(2)
    from symexp.app.config import preset_config  # noqa: PLC0415

    ts = preset_config("table1")["test_set"]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, py in (("new", sys.executable), ("old", args.old_python)):
            path = Path(tmp) / f"{label}.json"
            cmd = [py, __file__, "--model", args.model, "--dataset", args.dataset, "--every", str(args.every),
                   "--worker", str(path), "--points-per-dim", str(ts["points_per_dim"]),
                   "--eval-seeds", ",".join(map(str, ts["eval_seeds"]))]
            if label == "old" and not args.own_grid:
                cfg_path = Path(tmp) / "configs.json"
                cfg_path.write_text(json.dumps(runs["new"]["configs"]))
                cmd += ["--configs", str(cfg_path)]
            subprocess.run(cmd, check=True)
            runs[label] = json.loads(path.read_text())
    result = {"model": args.model, "dataset": args.dataset, "every": args.every, "own_grid": args.own_grid,
              "old_grid_points_differing_in_last_bit": runs["old"]["own_grid_points_differing"],
              "versions": {k: {n: v[n] for n in ("sklearn", "xgboost", "numpy")} for k, v in runs.items()},
              "benchmark": runs["new"]["benchmark"], **compare(runs["new"], runs["old"]),
              "costs": {k: v["costs"] for k, v in runs.items()}}
    out = Path(args.out)
    target = out / f"versions_{'owngrid_' if args.own_grid else ''}{args.model}_{args.dataset}.json"
    atomic_write_text(target, json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("costs", "differing_points")}, indent=1))


if __name__ == "__main__":
    main()
