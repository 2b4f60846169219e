"""Time one evaluation of each model at the paper's fidelities, and a cache hit.

Not a test. For each model on one dataset (default blood_transfusion), prints the wall seconds
of one evaluation at the HPOBench default configuration (a cache miss: data loading excluded,
it is done first), the seconds of the same evaluation again from a fresh benchmark object on the
same cache directory (a disk hit), and their ratio::

    python bench/bench_evaluation.py [--dataset phoneme] [--models lr svm] [--protocol clean]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from symexp.benchmarks import MODELS, PROTOCOLS, make_benchmark


def main(argv: list[str] | None = None) -> None:
    ml_models = [m for m in MODELS if m != "synthetic"]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="blood_transfusion")
    ap.add_argument("--models", nargs="+", default=ml_models, choices=MODELS)
    ap.add_argument("--protocol", default="hpobench", choices=PROTOCOLS)
    ap.add_argument("--data-dir", default=None, help="CSV directory (default: $SYMEXP_DATA_DIR, else OpenML)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print(f"{'model':<10} {'miss [s]':>10} {'hit [s]':>10} {'miss/hit':>10} {'cost':>8}  fidelity")
    with tempfile.TemporaryDirectory(prefix="symexp-bench-") as cache_dir:
        for model in args.models:
            dataset = "synthetic" if model == "synthetic" else args.dataset
            kw = dict(model=model, dataset=dataset, protocol=args.protocol, data_dir=args.data_dir, cache_dir=cache_dir)
            bench = make_benchmark(**kw)
            if model != "synthetic":
                bench.data  # load and preprocess outside the timing
            config = {n: bench.full_space[n].default for n in bench.space.names}
            t = time.perf_counter()
            cost = bench.evaluate(config, args.seed)
            miss = time.perf_counter() - t
            again = make_benchmark(**kw)  # fresh object: empty memory layer, reads the file
            t = time.perf_counter()
            hit_cost = again.evaluate(config, args.seed)
            hit = time.perf_counter() - t
            assert hit_cost == cost and again.n_trainings == 0
            print(f"{model:<10} {miss:>10.3f} {hit:>10.5f} {miss / hit:>10.0f} {cost:>8.4f}  {bench.fidelity}", flush=True)


if __name__ == "__main__":
    main()
