"""Benchmark: CPU time used over CPU time billed, per cluster layout, on the local SLURM.

Runs one small sweep (smoke-size settings, several cells: enough work to keep the node's CPUs
busy) through `symexp run -m ... cluster=slurm_local` once per layout, each with a fresh
store and cache so that every layout computes everything, one layout after the other on the
node of slurm/local_cluster.sh (start it first; as root: `bash slurm/local_cluster.sh start`).
Then, from `sacct`, per layout: the sum of TotalCPU (CPU the jobs used) over the sum of CPUTime
(AllocCPUS x Elapsed: what a cluster bills), the number of SLURM tasks and the sweep's wall time,
side by side.

The machine may be shared: a job that is runnable but waits for a core counts as billed, not
used. So the script also runs a *reference* job before and after the layouts: cpus_per_node busy
loops for ``--reference-s`` seconds; its TotalCPU / CPUTime is the best any layout can reach
under the load of the moment, and the load average during each run is printed too. ``--nice``
(root) runs the jobs at a higher priority than the machine's other processes, as on a cluster
node where the allocated CPUs are the job's own.

    python bench/bench_slurm_layouts.py                     # node, shared, cell
    python bench/bench_slurm_layouts.py --layouts node,cell --seeds 0,1,2
    python bench/bench_slurm_layouts.py --nice -10      # as root, on a machine shared with others
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def sacct_seconds(text: str) -> float:
    """`[DD-][HH:]MM:SS[.mmm]` -> seconds."""
    days, _, rest = text.rpartition("-")
    parts = [float(p) for p in rest.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return (int(days) if days else 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]


def sacct_usage(name: str, timeout: float = 60.0) -> list[dict]:
    """Per allocation of the jobs named ``name``: CPUs, elapsed, TotalCPU, CPUTime (seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        # Not -X: with -X, sacct 22.05 prints TotalCPU 0 for the allocation; without it, the job's
        # own line (no "." in its id) carries the sum over its steps.
        out = subprocess.run(["sacct", "-n", "-P", "-D", f"--name={name}", "-o",
                              "JobID,AllocCPUS,ElapsedRaw,TotalCPU,CPUTimeRAW,State"],
                             capture_output=True, text=True, check=True).stdout
        rows = []
        for line in out.splitlines():
            if not line.strip():
                continue
            jid, cpus, elapsed, total, cputime, state = line.split("|")
            if "." in jid:
                continue
            rows.append({"job": jid, "cpus": int(cpus), "elapsed": float(elapsed), "total_cpu": sacct_seconds(total),
                         "cputime": float(cputime), "state": state.split()[0]})
        unfinished = [r for r in rows if r["state"] in ("PENDING", "RUNNING", "COMPLETING", "REQUEUING")]
        # accounting of a finished step reaches slurmdbd a moment later: wait for TotalCPU too
        if rows and not unfinished and all(r["total_cpu"] > 0 or r["elapsed"] == 0 for r in rows):
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(2)


def cancel(name: str) -> None:
    """Cancel whatever is left of the jobs named ``name`` (nothing, after a normal end)."""
    subprocess.run(["scancel", f"--name={name}"], capture_output=True)


class LoadSampler:
    """The 1-minute load average, sampled every few seconds while a run lasts."""

    def __init__(self, every_s: float = 5.0):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            self._stop.wait(every_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else float("nan")


def run_layout(layout: str, args, workdir: Path) -> dict:
    name = f"bench-{layout}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, SYMEXP_STORE=str(workdir / "store"), SYMEXP_CACHE=str(workdir / "cache"))
    env.pop("PYTHONHASHSEED", None)  # the jobs get it from cluster.setup
    cmd = [PY, "-m", "symexp.cli", "run", "-m", "experiment=smoke", f"model={args.models}",
           f"mode=bo,random,bo_gp", f"sampling_seed={args.seeds}", f"sr_seeds=[{args.sr_seeds}]",
           "cluster=slurm_local", f"cluster.layout={layout}", f"cluster.cpus_per_node={args.cpus}",
           f"cluster.cpus_per_task={args.cell_cpus if layout == 'cell' else 1}",
           f"cluster.mem_gb={2 * args.cpus}", f"cluster.array_parallelism={args.cpus}",
           # a loaded machine runs everything several times slower than the estimate assumes; still
           # short, so that nothing of ours can sit on the node if this script is stopped
           f"cluster.min_timeout_min={args.limit_min}", f"cluster.timeout_min={args.limit_min}",
           f"cluster.max_timeout_min={args.limit_min}",
           f"hydra.sweep.dir={workdir / 'runs'}", f"hydra.launcher.name={name}"]
    t0 = time.monotonic()
    try:
        with LoadSampler() as load:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    finally:  # stopped or failed: leave no job of ours in the queue
        cancel(name)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"the {layout} sweep failed (exit {proc.returncode})")
    rows = sacct_usage(name)
    n_records = sum(1 for p in (workdir / "store").rglob("*.json") if p.name != "STORE.json" and ".claims" not in p.parts)
    return {"layout": layout, "tasks": len(rows), "total_cpu": sum(r["total_cpu"] for r in rows),
            "cputime": sum(r["cputime"] for r in rows), "wall": wall, "load": load.mean, "records": n_records,
            "states": sorted({r["state"] for r in rows})}


def run_reference(args) -> dict:
    """cpus busy loops in one job: the best TotalCPU / CPUTime the node gives right now."""
    name = f"bench-reference-{uuid.uuid4().hex[:6]}"
    loop = (f"import time; t = time.process_time(); "
            f"[0 for _ in iter(lambda: time.process_time() - t < {args.reference_s}, False)]")
    script = "\n".join([f"{PY} -c '{loop}' &" for _ in range(args.cpus)] + ["wait"])
    try:
        with LoadSampler() as load:
            subprocess.run(["sbatch", "--wait", "-p", "debug", f"--job-name={name}", f"--cpus-per-task={args.cpus}",
                            "--mem=1G", "-t", "10", "-o", "/dev/null", "--wrap", script], check=True, capture_output=True)
    finally:
        cancel(name)
    rows = sacct_usage(name)
    return {"layout": "reference", "tasks": len(rows), "total_cpu": sum(r["total_cpu"] for r in rows),
            "cputime": sum(r["cputime"] for r in rows), "wall": sum(r["elapsed"] for r in rows), "load": load.mean,
            "records": 0, "states": sorted({r["state"] for r in rows})}


class JobPriority:
    """As root, while the runs last: every process SLURM starts (the descendants of
    ``slurmstepd``) gets the nice value ``nice``, for itself and for its *autogroup*.

    Why the autogroup: with ``kernel.sched_autogroup_enabled=1`` (the default on many
    kernels) the CPU is shared between sessions first and by nice value only inside a session,
    and slurmstepd starts every job in a session of its own; renicing the processes alone
    changes nothing. On a machine shared with other users' processes this lets the jobs have the
    CPUs they were allocated, as on a cluster node, so that the figure measures the layout, not
    the load. Nothing else on the machine is touched; the jobs' processes end with their jobs."""

    def __init__(self, nice: int | None, every_s: float = 0.5):
        self.nice, self.every_s = nice, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _job_processes() -> list[int]:
        parent, name = {}, {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            rest = stat[stat.rindex(")") + 2:].split()
            parent[int(d.name)], name[int(d.name)] = int(rest[1]), stat[stat.index("(") + 1:stat.rindex(")")]
        roots = {pid for pid, comm in name.items() if comm == "slurmstepd"}
        out = []
        for pid in parent:
            p, seen = parent.get(pid), 0
            while p and seen < 64:
                if p in roots:
                    out.append(pid)
                    break
                p, seen = parent.get(p), seen + 1
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._job_processes():
                try:
                    os.setpriority(os.PRIO_PROCESS, pid, self.nice)
                    Path(f"/proc/{pid}/autogroup").write_text(str(self.nice))
                except OSError:  # ended meanwhile, or no autogroup support
                    pass
            self._stop.wait(self.every_s)

    def __enter__(self):
        if self.nice is not None:
            self._thread.start()
            print(f"SLURM job processes run at nice {self.nice} (process and autogroup)", flush=True)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", default="node,shared,cell")
    ap.add_argument("--models", default="lr,svm", help="smoke preset models (breast_cancer data)")
    ap.add_argument("--seeds", default="0,1", help="sampling seeds")
    ap.add_argument("--sr-seeds", default="0,3")
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the node (cpus_per_node)")
    ap.add_argument("--cell-cpus", type=int, default=None, help="cell layout: CPUs per cell (default: the node's)")
    ap.add_argument("--reference-s", type=float, default=60.0, help="seconds of the reference busy loop (0: skip)")
    ap.add_argument("--limit-min", type=int, default=20,
                    help="time limit of every job (minutes); the machine's CI uses the same SLURM: keep it short")
    ap.add_argument("--keep", action="store_true", help="keep the stores and caches")
    ap.add_argument("--nice", type=int, default=None,
                    help="as root: run the jobs at this nice value (e.g. -10) so that other processes on a shared "
                         "machine do not take the CPUs they were allocated (see JobPriority)")
    args = ap.parse_args()
    args.cell_cpus = args.cell_cpus or args.cpus
    if subprocess.run(["bash", str(ROOT / "slurm" / "local_cluster.sh"), "status"], capture_output=True).returncode:
        raise SystemExit("the local SLURM is not running: `sudo bash slurm/local_cluster.sh start`")
    base = Path(tempfile.mkdtemp(prefix="bench-slurm-"))
    print(f"sweep: experiment=smoke model={args.models} mode=bo,random,bo_gp sampling_seed={args.seeds} "
          f"sr_seeds=[{args.sr_seeds}] on 1 node of {args.cpus} CPUs; work dirs under {base}", flush=True)
    results = []
    try:
        with JobPriority(args.nice):
            if args.reference_s > 0:
                results.append(run_reference(args))
                print(f"reference done: {results[-1]}", flush=True)
            for layout in args.layouts.split(","):
                results.append(run_layout(layout, args, base / layout))
                print(f"{layout} done: {results[-1]}", flush=True)
            if args.reference_s > 0:
                results.append(run_reference(args))
                print(f"reference done: {results[-1]}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"{'layout':<10} {'tasks':>5} {'records':>7} {'TotalCPU s':>10} {'CPUTime s':>10} {'used/billed':>11} "
          f"{'wall s':>7} {'load avg':>8}")
    for r in results:
        print(f"{r['layout']:<10} {r['tasks']:>5} {r['records']:>7} {r['total_cpu']:>10.0f} {r['cputime']:>10.0f} "
              f"{r['total_cpu'] / r['cputime'] if r['cputime'] else float('nan'):>11.2f} {r['wall']:>7.0f} {r['load']:>8.1f}"
              + ("" if r["states"] == ["COMPLETED"] else f"  states {r['states']}"))
    print("used/billed = sum(TotalCPU) / sum(AllocCPUS x Elapsed) over the layout's SLURM allocations; the reference "
          "(busy loops on every CPU) is the ceiling under this machine's load.")


if __name__ == "__main__":
    main()
