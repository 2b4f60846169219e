"""Measure the constants of symexp/cluster/costs.py: evaluation CPU seconds over the space, SR fit CPU seconds.

Not a test: run it by hand when a model, the data or the SR harness changes, and copy the printed
tables into symexp/cluster/costs.py. Every number is CPU time (``time.process_time`` of the process that
does the work), so a loaded machine changes little; wall time is printed beside it.

    python bench/calibrate_costs.py evals  [--points 10] [--models lr,svm] [--datasets ...]
    python bench/calibrate_costs.py sr     [--points 20,60,140,200,400] [--seeds 0,1]
    python bench/calibrate_costs.py cache  --cache results/cache [--store results/store]
    python bench/calibrate_costs.py compare experiment=table1 dataset=blood_transfusion,australian \
        sampling_seed=0 --store results/paper_subset/store     # the estimate against a measured run

``evals``: per (model, dataset), ``--points`` configurations of the paper's 10 x 10 test grid
chosen as a Latin square (each grid row and column once, so both hyperparameters are covered
over their whole range, e.g. an MLP's batch size from 4 to 256), each trained once (seed 0) in a
fresh cache; plus ``--pdp-points`` random configurations of the five-hyperparameter MLP space of
the pdp preset. Reports the mean CPU seconds of a whole evaluation (data, bootstrap, fit,
predict, cache write) and of the model's fit alone (the cache's ``fit_seconds``, wall).

``sr``: symbolic-regression fits with the paper's settings (population 5000, 20 generations,
function set, parsimony 1e-4) on a smooth 2-D cost landscape, per number of training points;
fits a + b * points (least squares) and reports peak memory (max RSS) per fit.

``cache``: what an existing cache / store measured (read only): per benchmark the mean
``fit_seconds`` of the test-grid evaluations against that of the BO runs' evaluations (does BO
sample slower or faster regions than the grid?), SMAC's own seconds per trial from the
``sampling`` timing of BO cells minus their evaluations, and SR fit CPU seconds per training-set
size from the records.

``compare``: the estimate from the calibration alone (empty store and cache) of a view against a
run of it (read only): SR fit CPU, BO run and sampling wall, and each cell type's wall, for the
cells the store holds complete (the numbers in docs/measurements.md, "The estimate against the paper subset").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from bench_sr_overhead import landscape  # noqa: F401 - the same SR landscape (also used by the fit script below)
from symexp.benchmarks import make_benchmark
from symexp.benchmarks.cache import entry_id

MODELS = ("lr", "svm", "rf", "xgb", "nn")
DATASETS = ("blood_transfusion", "vehicle", "australian", "car", "phoneme", "segment", "credit_g", "kc1")
PDP_HPS = ("depth", "width", "batch_size", "alpha", "learning_rate_init")


def latin_square_points(grid: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """``k`` points of a Cartesian grid (m, d), each value of every axis used at most once
    (cycled when an axis has fewer than ``k`` values), so every axis is covered end to end."""
    rng = np.random.default_rng(seed)
    picks = []
    for j in range(grid.shape[1]):
        axis = np.unique(grid[:, j])
        idx = np.concatenate([rng.permutation(len(axis)) for _ in range(-(-k // len(axis)))])[:k]
        picks.append(axis[idx])
    return np.column_stack(picks)


def measure_evaluations(bench, configs: list[dict], cache_dir: Path) -> dict:
    cpu, wall, fit = [], [], []
    for config in configs:
        c0, w0 = time.process_time(), time.perf_counter()
        bench.evaluate(config, 0)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        full = bench.full_config(config)
        eid = entry_id(bench.key, bench.protocol, bench.fidelity, full, 0)
        fit.append(json.loads((cache_dir.joinpath(*bench.key.split("/")) / eid[:2] / f"{eid}.json").read_text())["fit_seconds"])
    return {"n": len(configs), "cpu_s": statistics.fmean(cpu), "cpu_max_s": max(cpu), "wall_s": statistics.fmean(wall),
            "fit_wall_s": statistics.fmean(fit)}


def cmd_evals(args) -> None:
    data_dir = os.environ.get("SYMEXP_DATA_DIR")
    out = {}
    print(f"{'model':<5} {'dataset':<18} {'n':>3} {'CPU s/eval':>10} {'max':>8} {'wall s':>8} {'fit wall s':>10}", flush=True)
    for model in args.models.split(","):
        for dataset in args.datasets.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                bench = make_benchmark(model, dataset, data_dir=data_dir, cache_dir=tmp)
                bench.check_data()
                points = latin_square_points(bench.space.test_grid(10), args.points, seed=0)
                configs = bench.space.from_array(points)
                m = measure_evaluations(bench, configs, Path(tmp))
            out[f"{model}/{dataset}"] = m
            print(f"{model:<5} {dataset:<18} {m['n']:>3} {m['cpu_s']:>10.3f} {m['cpu_max_s']:>8.2f} {m['wall_s']:>8.2f} "
                  f"{m['fit_wall_s']:>10.3f}", flush=True)
    if args.pdp_points:
        with tempfile.TemporaryDirectory() as tmp:
            bench = make_benchmark("nn", "blood_transfusion", hyperparameters=list(PDP_HPS), data_dir=data_dir, cache_dir=tmp)
            X = bench.space.sample(args.pdp_points, np.random.default_rng(0))
            m = measure_evaluations(bench, bench.space.from_array(X), Path(tmp))
        out["nn5/blood_transfusion"] = m
        print(f"{'nn5':<5} {'blood_transfusion':<18} {m['n']:>3} {m['cpu_s']:>10.3f} {m['cpu_max_s']:>8.2f} "
              f"{m['wall_s']:>8.2f} {m['fit_wall_s']:>10.3f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


def _one_fit(points: int, seed: int, population: int, generations: int) -> dict:
    """One fit in a fresh child process (so that max RSS is this fit's own peak)."""
    import subprocess

    code = (
        "import json, resource, sys, time\n"
        "from bench_sr_overhead import landscape\n"
        "from symexp.pipeline.fit import fit_symbolic\n"
        "import dataclasses\n"
        "from symexp.app.config import preset_config, sr_settings\n"
        "points, seed, pop, gens = map(int, sys.argv[1:5])\n"
        "paper = preset_config('table1')  # the paper's SR settings, from conf/\n"
        "s = dataclasses.replace(sr_settings(paper), population_size=pop, generations=gens,\n"
        "    time_limit_s=3600.0)  # uncapped: the calibration measures whole fits\n"
        "X, y = landscape(points, 1); Xt, yt = landscape(100, 2)\n"
        "f = fit_symbolic(s, seed, s.parsimony_coefficient, ['C', 'gamma'], [True, True], X, y, Xt, yt)\n"
        "print(json.dumps({'cpu_s': f['timings']['sr_fit']['cpu_s'], 'wall_s': f['timings']['sr_fit']['wall_s'],\n"
        "    'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'status': f['status']}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, "-c", code, str(points), str(seed), str(population), str(generations)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def cmd_sr(args) -> None:
    from symexp.app.config import preset_config

    paper = preset_config("table1")["sr"]
    args.population = args.population or paper["population_size"]
    args.generations = args.generations or paper["generations"]
    rows = []
    print(f"{'points':>6} {'seed':>4} {'CPU s':>8} {'wall s':>8} {'max RSS MB':>10}", flush=True)
    for points in [int(p) for p in args.points.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            r = _one_fit(points, seed, args.population, args.generations)
            rows.append({"points": points, "seed": seed, **r})
            print(f"{points:>6} {seed:>4} {r['cpu_s']:>8.1f} {r['wall_s']:>8.1f} {r['max_rss_mb']:>10.0f}", flush=True)
    P = np.array([r["points"] for r in rows], float)
    C = np.array([r["cpu_s"] for r in rows], float)
    b, a = np.polyfit(P, C, 1)
    print(f"least squares: CPU s = {a:.1f} + {b:.4f} * points  (population {args.population}, {args.generations} generations)")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "a": a, "b": b}, indent=1))


def cmd_cache(args) -> None:
    from symexp.cluster.costs import measured_sr_fits, measured_smac_seconds_per_trial
    from symexp.benchmarks.testset import test_set_files
    from symexp.store.once import read_if_exists

    cache = Path(args.cache)
    print("test grid vs BO evaluations (mean fit_seconds, wall):")
    for tpath in test_set_files(cache, ""):
        test = read_if_exists(tpath)
        if not isinstance(test, dict):
            continue
        model, dataset = test["benchmark"].split("/")[:2]
        hps = test["hyperparameters"]
        bench = make_benchmark(model, dataset, hyperparameters=hps, data_dir=os.environ.get("SYMEXP_DATA_DIR"),
                               cache_dir=cache / "evaluations")
        if bench.key != test["benchmark"]:
            continue
        grid_fit = _fit_seconds(cache, bench, [(dict(zip(hps, x)), s) for x in test["X"] for s in test["eval_seeds"]])
        bo_fit = []
        for bpath in sorted((cache / "bo").glob(f"{tpath.name.split('-grid')[0]}/*.json")):
            run = read_if_exists(bpath)
            if isinstance(run, dict) and "X" in run:
                bo_fit += _fit_seconds(cache, bench, [(dict(zip(hps, x)), s) for x, s in zip(run["X"], run["eval_seeds"])])
        line = f"  {model}/{dataset}: grid {statistics.fmean(grid_fit):.3f} s over {len(grid_fit)}" if grid_fit else f"  {model}/{dataset}: no grid"
        if bo_fit:
            line += f"; BO {statistics.fmean(bo_fit):.3f} s over {len(bo_fit)} (ratio {statistics.fmean(bo_fit) / statistics.fmean(grid_fit):.2f})"
        print(line)
    if args.store:
        smac = measured_smac_seconds_per_trial(Path(args.store), cache)
        print(f"SMAC seconds per trial (BO cells' sampling wall minus their evaluations' fit_seconds): {smac}")
        fits = measured_sr_fits(Path(args.store))
        for points, cpu in sorted(fits.items()):
            print(f"  SR fits on {points} points: {len(cpu)} fits, CPU s mean {statistics.fmean(cpu):.1f}, "
                  f"min {min(cpu):.1f}, max {max(cpu):.1f}, CV {statistics.pstdev(cpu) / statistics.fmean(cpu):.2f}")


def cmd_bo(args) -> None:
    """One BO run with the paper's settings (conf/bo/paper.yaml) in a fresh cache: CPU seconds of
    this process and its children (SMAC runs in a child) minus the evaluations' CPU, per trial."""
    import dataclasses

    from symexp.app.config import bo_settings, preset_config
    from symexp.pipeline.training import TolerantObjective
    from symexp.sampling import run_bo

    paper = bo_settings(preset_config("table1"))  # the paper's BO settings, from conf/
    settings = dataclasses.replace(paper, n_trials=args.trials, snapshot_sizes=tuple(
        n for n in paper.snapshot_sizes if n <= args.trials) or (args.trials,))
    with tempfile.TemporaryDirectory() as tmp:
        bench = make_benchmark(args.model, args.dataset, data_dir=os.environ.get("SYMEXP_DATA_DIR"), cache_dir=tmp)
        bench.check_data()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        c0, w0 = time.process_time(), time.perf_counter()
        run = run_bo(TolerantObjective(bench), bench.space, settings, 0, Path(tmp) / "smac")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - c0 + (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        wall = time.perf_counter() - w0
    evals = args.trials * float(args.eval_cpu)
    print(f"BO {args.model}/{args.dataset}: {len(run.X)} trials, wall {wall:.0f} s, CPU (incl. SMAC child) {cpu:.0f} s; "
          f"minus {args.trials} evaluations x {args.eval_cpu} s = SMAC {(cpu - evals) / args.trials:.2f} CPU-s per trial")


def cmd_compare(args) -> None:
    """The estimate from the calibration alone (empty store and cache, constants only) of a view,
    against what a run of it measured (its records, the cache's evaluations), stage by stage."""
    import dataclasses
    import re

    from symexp.app.config import build_views, view_cells
    from symexp.cluster.costs import CostModel
    from symexp.cluster.estimate import estimate_layout, simulate_cell_layout, stage_seconds
    from symexp.cluster.layouts import LayoutSettings
    from symexp.pipeline.work import plan_work
    from symexp.store.records import load_records

    views = build_views(args.overrides)
    cells = view_cells(views)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = [dataclasses.replace(c, spec=dataclasses.replace(c.spec, store_dir=Path(tmp) / "s", cache_dir=Path(tmp) / "c"))
                 for c in cells]
        items = plan_work(fresh, CostModel(prefer_measured=False), chunk_seconds=LayoutSettings().chunk_seconds)
    stage, _ = stage_seconds(items)
    keys = [k for v in views for k in v.keys]
    records, _ = load_records(Path(args.store), keys)
    records = records.to_dict("records")
    done_cells = [c for c in cells if all(any(r["record_id"] == k.record_id for r in records) for k in c.keys)]
    print(f"{len(cells)} cells planned, {len(done_cells)} complete in {args.store}; comparing those")
    done_ids = {c.cell_id for c in done_cells}
    mine = [i for i in items if set(i.cells) & done_ids]
    pred_fit = {i.args[0].record_id: i.seconds for i in mine if i.kind == "sr_fit"}
    sr = [r for r in records if r["record_id"] in pred_fit and r["status"] == "ok"]
    cpu = sum(r["timings"]["sr_fit"]["cpu_s"] for r in sr)
    wall = sum(r["timings"]["sr_fit"]["wall_s"] for r in sr)
    pred = sum(pred_fit[r["record_id"]] for r in sr)
    print(f"SR fits: {len(sr)} records: predicted {pred / 3600:.2f} CPU-h, measured {cpu / 3600:.2f} CPU-h "
          f"(ratio {cpu / pred:.2f}); their wall {wall / 3600:.2f} h (wall/CPU {wall / cpu:.2f}: the machine's load)")
    bo_walls = {}
    for r in records:
        if r["mode"] in ("bo", "bo_gp") and (r.get("n_trainings") or 0) >= 100 and "sampling" in (r["timings"] or {}):
            bo_walls[r["artefacts"]["bo_run"]] = r["timings"]["sampling"]["wall_s"]
    pred_bo = {i.id.split(":", 1)[1]: i.seconds for i in mine if i.kind == "bo_run"}
    common = [k for k in bo_walls if k in pred_bo]
    if common:
        pw, mw = sum(pred_bo[k] for k in common), sum(bo_walls[k] for k in common)
        print(f"BO runs: {len(common)}: predicted {pw / 3600:.2f} CPU-h, measured {mw / 3600:.2f} h wall "
              f"(ratio {mw / pw:.2f})")
    s = LayoutSettings(layout="cell", cpus_per_node=args.cpus, nodes=1, cell_cpus=args.cpus)
    walls, total = simulate_cell_layout(mine, done_cells, s)
    _compare_by_mode(mine, done_cells, records, walls, args.cpus)
    print(f"predicted CPU-h of these cells: {sum(i.seconds for i in mine) / 3600:.2f} "
          f"({', '.join(f'{k} {v / 3600:.2f}' for k, v in stage_seconds(mine)[0].items())})")
    print(f"predicted wall of these cells one after the other on {args.cpus} idle CPUs (cluster=local): {total / 3600:.2f} h")
    if args.log:
        stamps = re.findall(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", Path(args.log).read_text(), re.M)
        print(f"(log {args.log}: first and last Hydra timestamps {stamps[0]} .. {stamps[-1]})" if stamps else "")
    print(f"whole view (all {len(cells)} cells) from scratch: {sum(i.seconds for i in items) / 3600:.2f} CPU-h "
          f"({', '.join(f'{k} {v / 3600:.2f}' for k, v in stage.items())})")


def _compare_by_mode(items, cells, records, walls, cpus: int) -> None:
    """Per cell type (mode): predicted CPU seconds by stage (an item shared by several cells
    counted for the first of them in sweep order, which computes it when cells run one after
    the other) against the records' measurements: SR fit CPU (measured in the
    fitting process) and the sampling wall time (the BO run or random evaluations, as the cell
    ran them; wall, since the BO run's CPU is spent in a SMAC child process the record does not
    time). ``walls``: the predicted wall of each cell on ``cpus`` idle CPUs, in ``cells`` order."""
    mode_of = {c.cell_id: c.spec.mode for c in cells}
    order = {c.cell_id: n for n, c in enumerate(cells)}
    pred: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for i in items:
        mine = [c for c in i.cells if c in mode_of]
        if mine:  # a shared artefact is computed by the first cell of the sweep that needs it
            pred[mode_of[min(mine, key=order.get)]][i.kind] += i.seconds
    pred_wall: dict[str, list[float]] = defaultdict(list)
    for cell, wall in zip(cells, walls):
        pred_wall[cell.spec.mode].append(wall)
    ids = {k.record_id: c.spec.mode for c in cells for k in c.keys}
    meas: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sampled: set[tuple] = set()
    sr_span: dict[tuple, list[float]] = {}  # per cell: [first fit start, last record written] (epoch s)
    for r in records:
        mode = ids.get(r["record_id"])
        if mode is None or r["status"] != "ok":
            continue
        t = r.get("timings") or {}
        if "sr_fit" in t:
            meas[mode]["sr_cpu"] += t["sr_fit"]["cpu_s"]
            meas[mode]["sr_wall"] += t["sr_fit"]["wall_s"]
            meas[mode]["fits"] += 1
        cell_key = (r["model"], r["dataset"], r["sampling_seed"], mode)
        written = datetime.fromisoformat(r["created_at"]).timestamp()
        started = written - (t.get("sr_fit") or {}).get("wall_s", 0.0)
        span = sr_span.setdefault(cell_key, [started, written])
        span[0], span[1] = min(span[0], started), max(span[1], written)
        if "sampling" in t and cell_key not in sampled:
            sampled.add(cell_key)
            meas[mode]["sampling_wall"] += t["sampling"]["wall_s"]
            meas[mode]["cell_wall"] += t["sampling"]["wall_s"]
    for (_, _, _, mode), (start, end) in sr_span.items():  # a cell's wall: its sampling, then its fits
        meas[mode]["cell_wall"] += end - start
        meas[mode]["cells"] += 1
    print("by cell type (predicted from the calibration alone; measured from the records):")
    for mode in sorted(pred):
        p, m = pred[mode], meas[mode]
        sampling_kinds = ("bo_run",) if mode == "bo" else ("random_chunk",) if mode == "random" else ("bo_run", "baselines")
        p_sampling = sum(p.get(k, 0.0) for k in sampling_kinds)
        line = (f"  {mode:<7} {len(pred_wall[mode])} cells: predicted {sum(p.values()) / 3600:.3f} CPU-h "
                f"({', '.join(f'{k} {v / 3600:.3f}' for k, v in sorted(p.items()))})")
        print(line)
        if m.get("fits"):
            print(f"          SR fits: {int(m['fits'])}, predicted {p.get('sr_fit', 0) / 3600:.3f} CPU-h, measured "
                  f"{m['sr_cpu'] / 3600:.3f} CPU-h (ratio {m['sr_cpu'] / p['sr_fit']:.2f}), their wall "
                  f"{m['sr_wall'] / 3600:.3f} h; sampling: predicted {p_sampling / 3600:.3f} CPU-h, measured "
                  f"{m['sampling_wall'] / 3600:.3f} h wall"
                  + (f" (ratio {m['sampling_wall'] / p_sampling:.2f})" if p_sampling > 60 else ""))
            print(f"          wall per cell (its sampling, then first fit start to last record): measured "
                  f"{m['cell_wall'] / m['cells'] / 60:.1f} min, predicted on idle CPUs "
                  f"{statistics.fmean(pred_wall[mode]) / 60:.1f} min (ratio "
                  f"{m['cell_wall'] / m['cells'] / statistics.fmean(pred_wall[mode]):.2f})")


def _fit_seconds(cache: Path, bench, pairs) -> list[float]:
    out = []
    for config, seed in pairs:
        full = bench.full_config(bench.space.from_array(np.array([[config[h] for h in bench.space.names]]))[0])
        eid = entry_id(bench.key, bench.protocol, bench.fidelity, full, int(seed))
        path = cache / "evaluations" / Path(*bench.key.split("/")) / eid[:2] / f"{eid}.json"
        try:
            out.append(float(json.loads(path.read_text())["fit_seconds"]))
        except (OSError, ValueError, KeyError):
            continue
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evals")
    e.add_argument("--points", type=int, default=10)
    e.add_argument("--pdp-points", type=int, default=10)
    e.add_argument("--models", default=",".join(MODELS))
    e.add_argument("--datasets", default=",".join(DATASETS))
    e.add_argument("--out")
    s = sub.add_parser("sr")
    s.add_argument("--points", default="20,60,140,200,400")
    s.add_argument("--seeds", default="0,1")
    s.add_argument("--population", type=int, default=None, help="default: the paper's (conf/sr/paper.yaml)")
    s.add_argument("--generations", type=int, default=None, help="default: the paper's (conf/sr/paper.yaml)")
    s.add_argument("--out")
    b = sub.add_parser("bo")
    b.add_argument("--model", default="lr")
    b.add_argument("--dataset", default="blood_transfusion")
    b.add_argument("--trials", type=int, default=200)
    b.add_argument("--eval-cpu", type=float, default=0.043, help="CPU seconds of one evaluation (from `evals`)")
    m = sub.add_parser("compare")
    m.add_argument("overrides", nargs="+")
    m.add_argument("--store", required=True)
    m.add_argument("--cpus", type=int, default=2)
    m.add_argument("--log")
    c = sub.add_parser("cache")
    c.add_argument("--cache", required=True)
    c.add_argument("--store")
    args = ap.parse_args()
    {"evals": cmd_evals, "sr": cmd_sr, "bo": cmd_bo, "cache": cmd_cache, "compare": cmd_compare}[args.cmd](args)
    print(f"(CPU of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.0f} s user)")


if __name__ == "__main__":
    main()
