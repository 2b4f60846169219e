"""Mutation check of the protocol facts: does the fast suite notice when a fact changes?

    python tools/check_mutations.py                 # every change of tests/mutations.yaml
    python tools/check_mutations.py --only test-grid-cell-centres true-cost-first-seed
    python tools/check_mutations.py --verify        # only check that the list matches the code
    make mutation-check

``tests/mutations.yaml`` lists one-line changes to protocol facts: the file, the exact old text
(found exactly once in that file, or the check stops before any work), the new text, the fact
it breaks and the tests that pin that fact. For each change the script

1. copies the repository's tracked files (``git ls-files``, as they are in the working tree) into
   a scratch directory (the working tree is never written to);
2. applies the change there, runs the listed tests first with ``pytest -x`` (a kill is found in
   seconds), and if they all pass, the whole fast suite (``-m "not slow and not slurm"``) with
   ``-x``; then restores the file;
3. prints ``killed`` (and by which test) or ``survived`` per change, and a total.

A change that survives is a protocol fact no fast test pins. The exit status is 0 only when
every change is killed; 1 if one survives or a run errs (a collection error is an error, not a
kill: the list must hold changes the code still imports with); 2 for a bad list or setup.

Before the changes, the listed tests run once on the unchanged copy (``--no-baseline`` skips
it): if they fail there, every "kill" would be meaningless. Bytecode is not written
(``PYTHONDONTWRITEBYTECODE``), so a change can never be masked by a stale ``.pyc`` of the same
size and second. ``--jobs 2`` checks two changes at a time, each in its own scratch copy.

Why a targeted list and not a general mutation tool (mutmut): mutmut mutates every operator and
constant of every function it is pointed at, thousands of mutants for ``symexp/``, most of them
not protocol facts, at a full test run each; mutmut 3 mutates code inside functions only, while
most protocol facts here are module-level constants (split sizes and seeds, spaces, fidelities)
or YAML in ``conf/``, which no Python mutation tool touches. The list names the fact each change
breaks and the tests that pin it, so it doubles as the map from facts to tests.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LIST = ROOT / "tests" / "mutations.yaml"
FAST = "not slow and not slurm"
# Checks that this list matches the code: with a change applied it cannot, by design.
LIST_TEST = "tests/test_protocol_mutation_list.py"
RUN_TIMEOUT_S = 3600
FIELDS = ("id", "fact", "file", "old", "new", "tests")


class ListError(Exception):
    """The mutation list does not fit the code (or is malformed)."""


@dataclass
class Mutation:
    id: str
    fact: str
    file: str
    old: str
    new: str
    tests: list[str]
    note: str | None = None


@dataclass
class Outcome:
    mutation: Mutation
    status: str  # killed | survived | error
    by: str = ""
    stage: str = ""
    seconds: float = 0.0
    output: str = field(default="", repr=False)


# -- the list ----------------------------------------------------------------------------------------

def tracked_files(root: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ListError(f"cannot list the tracked files of {root} with git: {exc}") from None
    return [p for p in out.decode().split("\0") if p]


def load_mutations(path: Path, root: Path = ROOT) -> list[Mutation]:
    """Read and check the list against the working tree; raise :class:`ListError` naming every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ListError(f"cannot read the mutation list {path}: {exc}") from None
    entries = data.get("mutations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ListError(f"{path}: expected a mapping with a non-empty list 'mutations'")
    tracked = set(tracked_files(root))
    problems, out, seen = [], [], set()
    for i, entry in enumerate(entries):
        where = f"entry {i + 1}" + (f" ({entry.get('id')})" if isinstance(entry, dict) and entry.get("id") else "")
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a mapping")
            continue
        missing = [k for k in FIELDS if k not in entry]
        unknown = [k for k in entry if k not in (*FIELDS, "note")]
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(unknown)}"] if unknown else [])
            problems.append(f"{where}: " + "; ".join(parts))
            continue
        m = Mutation(**{k: entry[k] for k in (*FIELDS, "note") if k in entry})
        if m.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(m.id)
        if not all(isinstance(v, str) and v for v in (m.id, m.fact, m.file, m.old, m.new)):
            problems.append(f"{where}: id, fact, file, old and new must be non-empty strings")
            continue
        if "\n" in m.old or "\n" in m.new:
            problems.append(f"{where}: old and new must be one line each")
        if m.old == m.new:
            problems.append(f"{where}: new equals old")
        if not (isinstance(m.tests, list) and m.tests and all(isinstance(t, str) and t for t in m.tests)):
            problems.append(f"{where}: tests must be a non-empty list of pytest paths / node ids")
        else:
            for t in m.tests:
                test_file = t.split("::")[0]
                if test_file not in tracked:
                    problems.append(f"{where}: test file {test_file} is not tracked by git")
                elif "::" in t:
                    name = t.split("::")[-1].split("[")[0]
                    if not re.search(rf"^\s*def {re.escape(name)}\(", (root / test_file).read_text(), re.M):
                        problems.append(f"{where}: no test {name} in {test_file}")
        if m.file not in tracked:
            problems.append(f"{where}: {m.file} is not a tracked file")
            continue
        n = (root / m.file).read_text(encoding="utf-8").count(m.old)
        if n != 1:
            problems.append(f"{where}: old text found {n} times in {m.file} (must be exactly once): {m.old!r}")
        out.append(m)
    if problems:
        raise ListError(f"{path} does not match the code:\n  " + "\n  ".join(problems))
    return out


# -- scratch copies and pytest runs --------------------------------------------------------------------

def make_copy(root: Path, files: list[str], dest: Path) -> None:
    for rel in files:
        src = root / rel
        if not src.exists() and not src.is_symlink():  # deleted in the working tree
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)


def test_env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(copy))
    for key in ("SYMEXP_STORE", "SYMEXP_CACHE", "PYTEST_ADDOPTS"):
        env.pop(key, None)
    if not env.get("SYMEXP_DATA_DIR"):
        shared = (ROOT / ".." / "shared" / "data" / "openml").resolve()
        if shared.is_dir():
            env["SYMEXP_DATA_DIR"] = str(shared)
    return env


def check_imports_from(copy: Path) -> None:
    """The tests in ``copy`` must import the library from ``copy``, not an installed checkout."""
    code = "import symexp, analysis; print(symexp.__file__); print(analysis.__file__)"
    res = subprocess.run([sys.executable, "-c", code], cwd=copy, env=test_env(copy), capture_output=True, text=True)
    lines = res.stdout.split()
    inside = all(Path(p).resolve().is_relative_to(copy.resolve()) for p in lines)
    if res.returncode != 0 or len(lines) != 2 or not inside:
        raise ListError(f"the scratch copy {copy} does not import its own symexp / analysis "
                        f"(got {res.stdout.strip() or res.stderr.strip()[-300:]})")


def pytest_cmd(copy: Path, targets: list[str], parallel: bool) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider", "-m", FAST,
           f"--basetemp={copy.parent / (copy.name + '-tmp')}", f"--ignore={LIST_TEST}"]
    if parallel:
        cmd += ["-n", "2", "--dist", "loadfile"]
    return cmd + targets


def run_pytest(copy: Path, targets: list[str], parallel: bool) -> tuple[int, str]:
    try:
        res = subprocess.run(pytest_cmd(copy, targets, parallel), cwd=copy, env=test_env(copy),
                             capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return -1, f"timed out after {RUN_TIMEOUT_S} s\n{exc.stdout or ''}"
    return res.returncode, res.stdout + res.stderr


def first_failure(output: str) -> str:
    m = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", output, re.M)
    return m.group(1) if m else "?"


def check_one(m: Mutation, copy: Path, full_suite_parallel: bool) -> Outcome:
    path = copy / m.file
    original = path.read_bytes()
    text = original.decode("utf-8")
    t0 = time.perf_counter()
    try:
        path.write_text(text.replace(m.old, m.new, 1), encoding="utf-8")
        stages = (("listed tests", m.tests, False), ("fast suite", ["tests"], full_suite_parallel))
        for stage, targets, parallel in stages:
            rc, output = run_pytest(copy, targets, parallel)
            # -x under xdist ends with "Interrupted: stopping after 1 failures", exit status 2
            stopped = rc == 2 and "stopping after" in output and re.search(r"^FAILED ", output, re.M)
            if rc == 1 or stopped:
                return Outcome(m, "killed", first_failure(output), stage, time.perf_counter() - t0, output)
            if rc != 0:
                return Outcome(m, "error", f"pytest exit status {rc}", stage, time.perf_counter() - t0, output)
        return Outcome(m, "survived", "", "fast suite", time.perf_counter() - t0, output)
    finally:
        path.write_bytes(original)


# -- main ------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", type=Path, default=DEFAULT_LIST, help="the mutation list (default: tests/mutations.yaml)")
    ap.add_argument("--only", nargs="+", metavar="ID", help="check only these ids")
    ap.add_argument("--jobs", type=int, default=1, help="changes checked at a time, each in its own copy (default 1)")
    ap.add_argument("--verify", action="store_true", help="only check that the list matches the code, run nothing")
    ap.add_argument("--no-baseline", action="store_true", help="skip the run of the listed tests on the unchanged copy")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    args = ap.parse_args(argv)
    try:
        mutations = load_mutations(args.list)
        if args.only:
            unknown = sorted(set(args.only) - {m.id for m in mutations})
            if unknown:
                raise ListError(f"unknown id(s) {', '.join(unknown)}; valid: {', '.join(m.id for m in mutations)}")
            mutations = [m for m in mutations if m.id in set(args.only)]
        if args.jobs < 1:
            raise ListError(f"--jobs must be >= 1, got {args.jobs}")
    except ListError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(mutations)} changes to protocol facts, list {args.list}")
    if args.verify:
        print("the list matches the code (every old text found exactly once)")
        return 0

    t_start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="symexp-mutations-"))
    try:
        files = tracked_files(ROOT)
        jobs = min(args.jobs, len(mutations))
        copies = [scratch / f"copy{k}" for k in range(jobs)]
        for c in copies:
            make_copy(ROOT, files, c)
        try:
            check_imports_from(copies[0])
        except ListError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"scratch copies in {scratch} ({len(files)} tracked files each); the working tree is not touched")
        if not args.no_baseline:
            listed = sorted({t for m in mutations for t in m.tests})
            rc, output = run_pytest(copies[0], listed, parallel=True)
            if rc != 0:
                print(output[-4000:])
                print(f"error: the listed tests fail on the unchanged copy (pytest exit status {rc}); fix them first",
                      file=sys.stderr)
                return 2
            print(f"baseline: the {len(listed)} listed test targets pass on the unchanged copy "
                  f"({time.perf_counter() - t_start:.0f} s)")
        outcomes: list[Outcome] = []
        lock = threading.Lock()
        free = list(copies)

        def work(m: Mutation) -> Outcome:
            with lock:
                copy = free.pop()
            try:
                out = check_one(m, copy, full_suite_parallel=(jobs == 1))
            finally:
                with lock:
                    free.append(copy)
            with lock:
                outcomes.append(out)
                by = f"by {out.by} " if out.by else ""
                print(f"[{len(outcomes):3d}/{len(mutations)}] {out.status:8s} {m.id:38s} {out.seconds:6.1f} s  "
                      f"{by}({out.stage})", flush=True)
                if out.status != "killed":
                    print(f"    fact: {m.fact}\n    {m.file}: {m.old!r} -> {m.new!r}")
                    if out.status == "error":
                        print("    " + "\n    ".join(out.output.strip().splitlines()[-15:]))
            return out

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(work, mutations))
    finally:
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    killed = [o for o in outcomes if o.status == "killed"]
    survived = [o for o in outcomes if o.status == "survived"]
    errors = [o for o in outcomes if o.status == "error"]
    late = [o for o in killed if o.stage == "fast suite"]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\ntotal: {len(outcomes)} changes, {len(killed)} killed, {len(survived)} survived, {len(errors)} errors "
          f"({time.perf_counter() - t_start:.0f} s wall, {usage.ru_utime + usage.ru_stime:.0f} s CPU of the test runs)")
    for o in late:
        print(f"  note: {o.mutation.id} was killed only by the full fast suite ({o.by}); list that test under it")
    for o in survived:
        print(f"  SURVIVED {o.mutation.id}: {o.mutation.fact} -- no fast test pins it")
    return 0 if len(killed) == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
