"""What a pinned estimator parameter does to a landscape: symexp's value vs today's library default.

Where the paper's library version had a different default than today's, symexp sets the paper's
value explicitly (``tests/test_model_params.py``, ``DEVIATIONS``). This script measures what
leaving it to today's default would change: every ``--every``-th point of the model's Table 1
test grid (grid size and evaluation seeds from the ``table1`` preset), each true cost the mean
over the evaluation seeds, once as built by :func:`symexp.benchmarks.models.build_model` and once
per variant with ``set_params(**overrides)`` applied to the estimator. Nothing is cached.

    python bench/model_defaults_effect.py --model xgb --dataset australian --every 3 \
        --variant 'tree_method_default={"tree_method": null}' \
        --variant 'base_score_default={"base_score": null}' [--out results/model_defaults]

Writes ``effect_<model>_<dataset>.json``: per variant the per-point difference of the true cost
from symexp's (max, mean), the std of the true costs over the grid points (the spread that the
RMSE of Table 1 is measured against) and how many single fits are bitwise identical.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import symexp.benchmarks.objective as objective
from symexp.app.config import preset_config
from symexp.benchmarks import make_benchmark
from symexp.benchmarks.models import build_model
from symexp.store.atomic import atomic_write_text


def landscape(model: str, dataset: str, every: int, overrides: dict, ts: dict) -> tuple[list, np.ndarray]:
    def patched(*args, **kwargs):
        est = build_model(*args, **kwargs)
        return est.set_params(**overrides) if overrides else est

    objective.build_model = patched
    try:
        bench = make_benchmark(model, dataset)
        configs = bench.space.from_array(bench.space.test_grid(ts["points_per_dim"])[::every])
        seeds = list(ts["eval_seeds"])
        pc = [c for c in configs for _ in seeds]
        ps = [s for _ in configs for s in seeds]
        costs = np.asarray(bench.evaluate_many(pc, ps, n_jobs=1, on_error="nan"), dtype=float)
    finally:
        objective.build_model = build_model
    return configs, costs.reshape(len(configs), len(seeds))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--every", type=int, default=3)
    p.add_argument("--variant", action="append", default=[], help='NAME={"param": value, ...} (JSON; null = None)')
    p.add_argument("--out", default="results/model_defaults")
    args = p.parse_args()
    variants = {}
    for v in args.variant:
        name, _, js = v.partition("=")
        try:
            variants[name] = json.loads(js)
        except json.JSONDecodeError as e:
            print(f"error: --variant {v!r}: not NAME=JSON ({e})", file=sys.stderr)
            sys.exit(2)
    ts = preset_config("table1")["test_set"]
    configs, base = landscape(args.model, args.dataset, args.every, {}, ts)
    yb = base.mean(axis=1)
    result = {"model": args.model, "dataset": args.dataset, "every": args.every, "grid_points": len(configs),
              "eval_seeds": list(ts["eval_seeds"]), "configs": configs, "ours": {"costs": base.tolist(),
              "true_cost_std": float(yb.std()), "true_cost_mean": float(yb.mean())}, "variants": {}}
    for name, ov in variants.items():
        _, c = landscape(args.model, args.dataset, args.every, ov, ts)
        y = c.mean(axis=1)
        d = np.abs(y - yb)
        result["variants"][name] = {
            "set_params": ov, "costs": c.tolist(), "fits_identical": int(np.sum(c == base)), "fits": int(c.size),
            "true_cost_abs_diff_max": float(d.max()), "true_cost_abs_diff_mean": float(d.mean()),
            "true_cost_std": float(y.std()), "true_cost_mean": float(y.mean()),
        }
        print(name, {k: v for k, v in result["variants"][name].items() if k != "costs"}, flush=True)
    out = Path(args.out)
    target = out / f"effect_{args.model}_{args.dataset}.json"
    atomic_write_text(target, json.dumps(result, indent=1) + "\n")
    print(target, "ours std", result["ours"]["true_cost_std"])


if __name__ == "__main__":
    main()
