"""Presets are views of one store (not a test): table1 after sample_size costs no SR fit.

Runs ``symexp run -m experiment=sample_size`` and then ``experiment=table1`` with the
same overrides (by default the synthetic benchmark with small BO and SR budgets and n = 20, 40
standing in for the paper's 20..200 and 140; ``--paper`` keeps the presets' own sizes) in a fresh
store, and prints for each command its CPU seconds (the processes it started included), the
records it wrote and the SR fits it ran. Expected: the second command writes nothing and fits
nothing; its CPU time is Python start-up, composing the view and reading the store.

    .venv/bin/python bench/bench_views.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from symexp.store import RecordStore

SMALL = [
    "model=synthetic", "dataset=synthetic", "mode=bo,random,bo_gp", "sampling_seed=0", "sr.population_size=300",
    "sr.generations=5", "bo.n_trials=40", "bo.snapshot_sizes=[20,40]", "test_set.points_per_dim=5",
    "test_set.eval_seeds=[0,1]", "bo_gp.n_points=100",
]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run.py command."""
    cpu0, wall0 = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "symexp.cli", "run", "--multirun", *args], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return children_cpu() - cpu0, time.perf_counter() - wall0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="store and cache here (default: a temporary directory)")
    args = parser.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench-views-"))
    env = dict(os.environ, SYMEXP_STORE=str(tmp / "store"), SYMEXP_CACHE=str(tmp / "cache"), PYTHONHASHSEED="0")
    store = RecordStore(tmp / "store")
    rows = []
    for experiment, ns in (("sample_size", "[20,40]"), ("table1", "[40]")):
        before = {p: p.stat().st_mtime_ns for p in store.iter_paths()}
        cpu, wall = run([f"experiment={experiment}", *SMALL, f"n_samples={ns}",
                         f"hydra.sweep.dir={tmp / 'runs' / experiment}"], env)
        after = store.iter_paths()
        written = [p for p in after if before.get(p) != p.stat().st_mtime_ns]
        fits = sum(1 for p in written if "/sr_" in str(p))
        rows.append((experiment, ns, cpu, wall, len(written), fits))
    print(f"store: {tmp / 'store'}")
    print(f"{'command':<32} {'CPU s':>8} {'wall s':>8} {'records written':>16} {'SR fits':>8}")
    for experiment, ns, cpu, wall, n_written, fits in rows:
        print(f"{f'experiment={experiment} n={ns}':<32} {cpu:8.1f} {wall:8.1f} {n_written:16d} {fits:8d}")
    first, second = rows
    print(f"table1 after sample_size: {second[5]} SR fits, {second[2]:.1f} CPU s "
          f"({second[2] / first[2]:.1%} of sample_size's {first[2]:.1f} CPU s)")


if __name__ == "__main__":
    main()
