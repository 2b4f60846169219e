"""Fault injection on the smoke preset (tiny sizes): a group-shared store, records that lie, damaged
caches and checkpoints, a full or read-only disk, malformed data, concurrent copies, kills and
relaunch. Each numbered promise of docs/reliability.md has a test here.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from test_hydra_app import TINY, run_app

from symexp.errors import SymexpError
from symexp.seeding import stable_hash
from symexp.store import RecordStore
from symexp.store.records import load_records

ROOT = Path(__file__).resolve().parents[1]
def tiny(**changes: str) -> list[str]:
    """TINY with some keys changed (``sr_seeds="[0,1]"``)."""
    out = [o for o in TINY if o.split("=", 1)[0] not in changes]
    return out + [f"{k}={v}" for k, v in changes.items()]


SMOKE = ["experiment=smoke", *tiny(sr_seeds="[0,1]")]
VIEW = tiny(sr_seeds="[0,1]")
JOB = "results/runs/smoke/synthetic-synthetic-{}-seed0"
HOSTILE = ["../../../../../../../../ESCAPED", "<script>", "\x1b[2J", "write18", "\\input", "/etc/passwd"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The smoke preset (tiny sizes) run in modes random and bo_gp: a store, a cache, job folders."""
    root = tmp_path_factory.mktemp("base")
    for mode in ("random", "bo_gp"):
        proc = run_app([*SMOKE, f"mode={mode}"], root)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return root


@pytest.fixture
def work(base, tmp_path, monkeypatch) -> Path:
    """A private copy of ``base`` as the working directory."""
    for name in ("store", "cache", "results"):
        shutil.copytree(base / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMEXP_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("SYMEXP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def record_paths(root: Path, method: str) -> list[Path]:
    return [p for p in RecordStore(root / "store").iter_paths() if p.parent.parent.name == method]


def rewrite(path: Path, **changes) -> dict:
    rec = json.loads(path.read_text())
    rec.update(changes)
    path.write_text(json.dumps(rec))
    return rec


def forge(path: Path, identity_changes: dict, **changes) -> Path:
    """A record that agrees with a changed identity (id rehashed, file renamed to the new id):
    what someone who knows the format can plant."""
    rec = json.loads(path.read_text())
    ident = json.loads(json.dumps(rec["identity"]))
    for dotted, value in identity_changes.items():
        *parents, last = dotted.split(".")
        node = ident
        for part in parents:
            node = node[part]
        node[last] = value
    rid = stable_hash(ident)
    old_id = rec["record_id"]
    rec.update(identity=ident, record_id=rid, **changes)
    target = path.with_name(path.name.replace(old_id, rid))
    target.write_text(json.dumps(rec))
    return target


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


# -- 1. nothing from a record becomes a path or markup unchecked --------------------------------

def test_hostile_records_write_nothing_outside_the_output_folder_and_every_output_is_inert(work, capsys):
    from analysis import build_all

    sr = record_paths(work, "sr_bo_gp")[0]
    # a label edited (path traversal), a consistent forgery with an unknown model, LaTeX, HTML and ANSI text
    rewrite(sr, model="../../../../../../../../ESCAPED")
    forge(record_paths(work, "gp_baseline")[0], {"benchmark.model": "../../../../../../../../ESCAPED"},
          model="../../../../../../../../ESCAPED")
    other = record_paths(work, "sr_random")
    rewrite(other[0], formula_latex=r"\immediate\write18{touch pwned}\input{/etc/passwd}")
    rewrite(other[1], formula="alpha + <script>alert(1)</script>")
    rewrite(record_paths(work, "linear_regression")[0], status="failed",
            error="\x1b[2J\x1b[31m<script>x</script> ``` $\\input{/etc/passwd}$", test_rmse=None)
    before = all_files(work)
    out = work / "out"
    code = build_all.main(["--store", str(work / "store"), "--out", str(out), "--cache", str(work / "cache"),
                           "--experiment", "smoke", "--only", "table1,formulas,landscapes", *VIEW])
    printed = capsys.readouterr()
    assert code == 0
    new = all_files(work) - before
    assert new and all(out in p.parents for p in new), sorted(map(str, new))  # nothing outside out/
    assert not any("ESCAPED" in p.name for p in all_files(work.parent))
    report = out / "experiments" / "smoke" / "build_report.md"
    for p in new:
        if p.suffix in (".md", ".tex", ".csv", ".html"):
            text = p.read_text()
            assert "\x1b" not in text, p
            if p != report:  # the build report names the damaged records' values, inside a code fence
                for bad in ("ESCAPED", "write18", "\\input", "<script"):
                    assert bad not in text, (p, bad)
    text = report.read_text()
    assert "3 damaged record file(s) left out" in text  # counted and named, never dropped silently
    fence = text.splitlines()[-1]
    assert set(fence) == {"`"} and text.count("\n" + fence + "\n") == 2  # opened and closed once
    assert "\x1b" not in printed.out + printed.err


def test_summary_and_status_print_record_text_inert(work, capsys):
    from symexp.app import status, summary

    rewrite(record_paths(work, "linear_regression")[0], status="failed", test_rmse=None,
            error="boom \x1b[2J\x1b]0;owned\x07 \r done")
    assert summary.main(SMOKE) == 0
    assert status.main([*SMOKE, "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\\x1b[2J" in out


def test_text_escapes_and_safe_names():
    from analysis.formulas import _latex_formula
    from symexp.textsafe import html, latex, latex_math_ok, markdown, md_code, safe_component, terminal

    assert terminal("a\x1b[31mb\rc\u202e") == "a\\x1b[31mb\\rc\\u202e"
    assert "<" not in markdown("<script>") and "[x](" not in markdown("[x](javascript:1)")
    assert md_code("a`b") == "`a'b`" and "<script" not in md_code("<script>")
    assert html('"<a>&') == "&quot;&lt;a&gt;&amp;"
    assert "\\write18" not in latex("\\write18") and "$" not in latex("$x$").replace("\\$", "")
    assert latex_math_ok(r"\frac{\alpha}{2} + \sin{\left(\eta_{0} \right)}")
    assert not latex_math_ok(r"\immediate\write18{ls}") and not latex_math_ok(r"\input{/etc/passwd}")
    assert not latex_math_ok(r"\begin{verbatim}x\end{verbatim}") and not latex_math_ok("$x$")
    row = {"formula_latex": r"\input{/etc/passwd}", "formula": "alpha + 1", "_hps": ["alpha"]}
    assert _latex_formula(row) == "$\\alpha + 1$"
    for bad in ("../x", "a/b", ".hidden", "", "a\x1bb", "x..y"):
        with pytest.raises(SymexpError):
            safe_component(bad)
    assert safe_component("landscape_svm_breast_cancer_seed0_n24") == "landscape_svm_breast_cancer_seed0_n24"


# -- 2. a record must agree with itself ----------------------------------------------------------

DAMAGES = {
    "mode_swapped": "not the hash of its identity",
    "negative_rmse": "negative",
    "bool_complexity": "operation count",
    "text_n": "n_samples 'twenty-four' differs",
    "label_edited": "differs from its identity",
    "over_budget": "larger than the BO budget",
    "unknown_dataset": "dataset",
    "latex_payload": "formula_latex",
}


def damage(work: Path, kind: str) -> Path:
    """Plant one kind of lying record; returns the path the planned record has."""
    bo_gp, rnd = record_paths(work, "sr_bo_gp")[0], record_paths(work, "sr_random")[0]
    if kind == "mode_swapped":  # a random-mode record under a BO-GP file name, its record_id edited to match
        rec = json.loads(rnd.read_text())
        rec["record_id"] = json.loads(bo_gp.read_text())["record_id"]
        bo_gp.write_text(json.dumps(rec))
        return bo_gp
    if kind == "negative_rmse":
        path = record_paths(work, "gp_baseline")[0]
        rewrite(path, test_rmse=-1.0)
        return path
    if kind == "bool_complexity":
        rewrite(bo_gp, complexity=True)
    elif kind == "text_n":
        rewrite(bo_gp, n_samples="twenty-four")
    elif kind == "label_edited":
        rewrite(bo_gp, method="sr_random")
    elif kind == "over_budget":  # consistent, but n larger than the budget; the planned record is then missing
        n = json.loads(bo_gp.read_text())["identity"]["bo"]["n_trials"]
        return forge(bo_gp, {"n_samples": n + 1}, n_samples=n + 1)
    elif kind == "unknown_dataset":
        return forge(bo_gp, {"benchmark.dataset": "nope"}, dataset="nope")
    elif kind == "latex_payload":
        rewrite(bo_gp, formula_latex=r"\immediate\write18{id}")
    return bo_gp


@pytest.mark.parametrize("kind", sorted(DAMAGES))
def test_a_record_that_contradicts_itself_is_named_counted_set_aside_and_recomputed(work, kind, capsys):
    from analysis.views import ViewRef, load_ok
    from symexp.app import status

    path = damage(work, kind)
    _, bad = load_records(work / "store")
    assert [p for p, _ in bad] == [path] and DAMAGES[kind] in bad[0][1]
    from analysis import damaged as analysis_damaged
    analysis_damaged.clear()
    planned = kind not in ("over_budget", "unknown_dataset")  # the forgeries are extra files, in no view
    n_files = len(RecordStore(work / "store").iter_paths())
    all_, ok = load_ok(work / "store", ViewRef("smoke", [*VIEW, "mode=bo_gp"]))
    assert (str(path) in analysis_damaged.seen()) == planned
    assert len(all_) == 4 - planned and path not in set(all_["record_id"])
    assert status.main([*SMOKE, "--verbose"]) == 0
    out = capsys.readouterr().out
    if planned:  # listed as damaged; the cell is not done
        assert f"damaged record {path}" in out
        assert any(line.split()[:2] == ["partial", "mode=bo_gp"] for line in out.splitlines()), out
    proc = run_app([*SMOKE, "mode=bo_gp"], work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, bad = load_records(work / "store", None)
    if planned:  # set aside, named, recomputed
        assert "set aside" in proc.stdout + proc.stderr and str(path) in proc.stdout + proc.stderr
        assert len(list((path.parent / ".damaged").iterdir())) == 1
        assert bad == [] and len(RecordStore(work / "store").iter_paths()) == n_files
    else:  # not planned: never used, still listed
        assert [p for p, _ in bad] == [path] and "nothing to do" in proc.stdout


def test_every_committed_record_agrees_with_itself():
    stores = sorted(p.parent for p in (ROOT / "results").rglob("STORE.json"))
    assert stores, "no committed store found"
    total = 0
    for store in stores:
        records, bad = load_records(store)
        assert bad == [], bad[:3]
        total += len(records)
    assert total >= 200


# -- 3. replay checks what it replays ------------------------------------------------------------

class CachedObjective:
    """The benchmark's cached evaluation (as TolerantObjective), dying at call ``die_at``."""

    verifies_replay = True

    def __init__(self, bench, die_at: int | None = None):
        self.bench, self.die_at, self.calls = bench, die_at, 0

    def __call__(self, config, seed):
        self.calls += 1
        if self.calls == self.die_at:
            raise RuntimeError(f"killed at call {self.calls}")
        return self.bench.evaluate(config, seed)


def test_replay_stops_at_a_cost_that_disagrees_with_the_evaluation_cache(tmp_path):
    from symexp.benchmarks import make_benchmark
    from symexp.sampling import BOSettings, run_bo

    bench = make_benchmark("synthetic", "synthetic", cache_dir=tmp_path / "cache")
    settings = BOSettings(n_trials=8, snapshot_sizes=(8,), initial_design_per_dim=2, initial_design_max_ratio=0.5)
    clean = run_bo(CachedObjective(bench), bench.space, settings, 3, tmp_path / "w", isolate=False)
    ck = tmp_path / "ck" / "bo.checkpoint.jsonl"
    with pytest.raises(RuntimeError, match="killed"):
        run_bo(CachedObjective(bench, die_at=7), bench.space, settings, 3, tmp_path / "w", isolate=False, checkpoint=ck)
    lines = ck.read_text().splitlines()
    trial = json.loads(lines[1 + 3])
    true_cost = trial["cost"]
    trial["cost"] = 0.999
    lines[1 + 3] = json.dumps(trial)
    ck.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = run_bo(CachedObjective(bench), bench.space, settings, 3, tmp_path / "w", isolate=False, checkpoint=ck)
    assert resumed.y[3] == pytest.approx(true_cost) and 0.999 not in list(resumed.y)
    assert json.dumps(resumed.to_json()) == json.dumps(clean.to_json())  # the true run, bit for bit
    assert resumed.replay["cost_mismatch_at"] == 3 and resumed.replay["replayed"] == 3
    aside = Path(resumed.replay["set_aside"])
    assert aside.parent.name == ".damaged" and "0.999" in aside.read_text()
    assert any("disagrees" in str(w.message) for w in caught)


def test_a_garbled_checkpoint_line_is_named_and_set_aside(tmp_path):
    from symexp.sampling.checkpoint import TrialLog

    path = tmp_path / "ck.jsonl"
    log = TrialLog(path, {"run": 1})
    for i in range(3):
        log.append({"a": i / 10}, 0.25, 7, "Initial Design: Sobol")
    lines = path.read_text().splitlines()
    lines[2] = "garbage{"
    original = "\n".join(lines) + "\n"
    path.write_text(original)
    again = TrialLog(path, {"run": 1})
    kept = list((tmp_path / ".damaged").glob("ck.jsonl.*")) if (tmp_path / ".damaged").is_dir() else []
    assert [p.read_text() for p in kept if not p.name.endswith(".why")] == [original]  # set aside, not lost
    assert len(again.trials) == 1 and "line 3" in again.garbled
    assert again.set_aside.parent.name == ".damaged" and again.set_aside.read_text() == original
    torn = TrialLog(path, {"run": 1})  # now clean: nothing more set aside
    assert torn.garbled is None


# -- 4. every environment failure is one line, exit 2, nothing partial ------------------------------

def _one_line(proc: subprocess.CompletedProcess) -> str:
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(err) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return err[0]


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs (root only) that fills up during a run."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (the monkeypatched ENOSPC test covers the rest)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_nothing_partial(tmp_path, tiny_fs):
    env_root = tmp_path / "w"
    env_root.mkdir()
    env = dict(os.environ, SYMEXP_STORE=str(env_root / "store"), SYMEXP_CACHE=str(tiny_fs / "cache"))
    proc = subprocess.run([sys.executable, "-m", "symexp.cli", "run", *SMOKE, "mode=random"], cwd=env_root, env=env,
                          capture_output=True, text=True, timeout=600)
    line = _one_line(proc)
    assert "no space left" in line and "ENOSPC" in line and str(tiny_fs) in line
    assert not [p for p in tiny_fs.rglob("*") if p.name.startswith(".tmp-")]
    assert RecordStore(env_root / "store").iter_paths() == []
    status = json.loads((env_root / JOB.format("random") / "job_status.json").read_text())
    assert status["state"] == "failed" and "ENOSPC" in status["error"]


def test_a_full_disk_under_the_analysis_is_one_line(work, monkeypatch, capsys):
    import analysis.output as output
    from analysis import build_all
    from analysis.cli import run_cli

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "atomic_write_text", full)
    code = run_cli(build_all.main, ["--store", str(work / "store"), "--out", str(work / "out"), "--experiment", "smoke",
                                    "--only", "table1", *VIEW], prog="analysis.build_all")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "ENOSPC" in err[0] and "Traceback" not in err[0]


def test_a_read_only_output_folder_is_one_line(work):
    out = work / "ro"
    out.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(out)],
                                                   capture_output=True).returncode == 0
    if not mounted:
        out.chmod(0o555)
    try:
        proc = subprocess.run([sys.executable, "-m", "symexp.cli", "report", "--store", str(work / "store"),
                               "--out", str(out), "--experiment", "smoke", "--only", "table1", *VIEW],
                              cwd=work, capture_output=True, text=True, timeout=600)
        line = _one_line(proc)
        assert ("read-only" in line or "permission" in line) and str(out) in line
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(out)], capture_output=True)
        else:
            out.chmod(0o755)


def test_a_vanished_or_unwritable_store_is_named():
    from symexp.errors import environment_error, environment_reason

    gone = FileNotFoundError(errno.ENOENT, "No such file or directory", "/gone/store/x.json")
    assert environment_error(gone).startswith("/gone/store/x.json: no such file or directory")
    assert "EROFS" in environment_error(OSError(errno.EROFS, "Read-only file system", "/ro"))
    assert environment_error(ValueError("a bug")) is None
    assert environment_reason(OSError(errno.ENOSPC, "x", "/f")).startswith("OSError ENOSPC")


def _bad_csv(data_dir: Path, dst: Path, how: str) -> Path:
    dst.mkdir()
    name = "1464_blood-transfusion-service-center.csv"
    raw = (data_dir / name).read_bytes().split(b"\n")
    if how == "encoding":
        raw[3] = raw[3].replace(b"2", b"\xff", 1)
    elif how == "label":
        raw[4] = raw[4].rsplit(b",", 1)[0] + b",3"
    else:
        raw[4] = raw[4] + b",7"
    (dst / name).write_bytes(b"\n".join(raw))
    return dst


@pytest.mark.parametrize("how, says", [("encoding", "not UTF-8"), ("label", "class label '3' in data row 4"),
                                       ("columns", "Expected 5 fields")])
def test_malformed_data_is_one_line_before_any_work(data_dir, tmp_path, how, says):
    bad = _bad_csv(data_dir, tmp_path / "data", how)
    env = dict(os.environ, SYMEXP_DATA_DIR=str(bad), SYMEXP_STORE=str(tmp_path / "store"),
               SYMEXP_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "symexp.cli", "run", "experiment=smoke", "model=lr",
                           "dataset=blood_transfusion", "mode=random", "n_samples=[10]", "sr_seeds=[0]"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    line = _one_line(proc)
    assert says in line and "1464_blood-transfusion-service-center.csv" in line
    assert not (tmp_path / "store").exists() and not (tmp_path / "cache").exists()


# -- 5. only the job that runs a cell writes its status ------------------------------------------

HOLD = ("import sys, time; from symexp.store import Claim; cs = [Claim(p, exclusive=(i > 0)) for i, p in "
        "enumerate(sys.argv[1:])]; assert all(c.try_acquire() for c in cs); print('held', flush=True); time.sleep(300)")


def test_a_copy_with_nothing_to_do_leaves_the_live_jobs_status_alone(work, capsys):
    from symexp.app import status
    from symexp.store.jobstatus import read_job_status, write_job_status

    store = RecordStore(work / "store")
    paths = record_paths(work, "sr_random")
    ids = [json.loads(p.read_text())["record_id"] for p in paths]
    cell = stable_hash(sorted(ids))  # symexp.pipeline.plan.cell_id of the random cell
    busy, busy_id = paths[0], ids[0]
    busy.unlink()  # the live job is computing this one
    job_dir = work / JOB.format("random")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store.claim_path(f"cell-{cell}")),
                               str(store.claim_path(busy_id))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        write_job_status(job_dir, "running", pid=holder.pid)  # the live job's own status
        live = read_job_status(job_dir)
        proc = run_app([*SMOKE, "mode=random"], work)  # a second copy: everything exists or is claimed
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "nothing to do" in proc.stdout
        assert read_job_status(job_dir) == live
    finally:
        holder.kill()
        holder.wait()
    assert status.main([*SMOKE, "--verbose"]) == 0  # the live job died: interrupted, not missing or done
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["interrupted", "mode=random"] for line in out.splitlines()), out


# -- 6. STORE.json -------------------------------------------------------------------------------

@pytest.mark.parametrize("case, says", [
    ("missing", "STORE.json is missing"), ("directory", "is a directory"), ("unreadable", "cannot read"),
    ("string_version", 'version "2" (str), expected the integer 2'), ("not_json", "not valid JSON"),
    ("older", "older than this symexp"), ("newer", "newer symexp"),
])
def test_store_marker_messages_are_accurate(work, monkeypatch, case, says):
    from symexp.store import marker as marker_mod
    from symexp.store.records import check_store_format

    store = work / "store"
    marker = store / "STORE.json"
    if case == "missing":
        marker.unlink()
    elif case == "directory":
        marker.unlink()
        marker.mkdir()
    elif case == "unreadable":
        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(marker))
        monkeypatch.setattr(marker_mod, "open", denied, raising=False)
    elif case == "string_version":
        marker.write_text('{"format": "symexp-records", "version": "2"}')
    elif case == "not_json":
        marker.write_text('{"format": "symexp-rec')
    elif case == "older":
        marker.write_text('{"format": "symexp-records", "version": 1}')
    else:
        marker.write_text('{"format": "symexp-records", "version": 3}')
    with pytest.raises(SymexpError) as exc:
        check_store_format(store)
    msg = str(exc.value)
    assert says in msg and "\n" not in msg
    if case != "older":  # a current store is never to be moved aside (its records are good)
        assert "aside" not in msg and "mv " not in msg and "rebuild" not in msg
    if case in ("missing", "directory", "string_version", "not_json"):
        assert "printf" in msg


def test_an_older_store_without_marker_is_still_told_to_move_aside(tmp_path):
    from symexp.store.records import check_store_format

    old = tmp_path / "store" / "table1" / "lr"
    old.mkdir(parents=True)
    (old / "n140.json").write_text(json.dumps({"schema_version": 1}))
    with pytest.raises(SymexpError, match=r"older symexp .*mv "):
        check_store_format(tmp_path / "store")


# -- 7. kills at each stage, concurrent copies, damaged caches, relaunch --------------------------

STAGES = {"claimed": "records to compute", "test_set": "test set:", "sampling": "training sets:",
          "first_record": "[1/"}


@pytest.mark.slow
@pytest.mark.parametrize("stage", sorted(STAGES))
def test_kill_9_at_each_stage_then_relaunch_finishes_with_nothing_partial(tmp_path, stage):
    env = dict(os.environ, SYMEXP_STORE=str(tmp_path / "store"), SYMEXP_CACHE=str(tmp_path / "cache"),
               PYTHONUNBUFFERED="1")
    args = ["experiment=smoke", *tiny(sr_seeds="[0,1,2]"), "mode=bo_gp"]
    proc = subprocess.Popen([sys.executable, "-m", "symexp.cli", "run", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        for line in proc.stdout:
            if STAGES[stage] in line:
                break
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    again = run_app(args, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    records, bad = load_records(tmp_path / "store")
    assert bad == [] and len(records) == 3 + 2 and (records["status"] == "ok").all()
    final = run_app(args, tmp_path)
    assert "nothing to do" in final.stdout


@pytest.mark.slow
def test_concurrent_copies_compute_each_record_once(tmp_path):
    env = dict(os.environ, SYMEXP_STORE=str(tmp_path / "store"), SYMEXP_CACHE=str(tmp_path / "cache"))
    args = ["experiment=smoke", *tiny(sr_seeds="[0,1,2,3]"), "mode=random"]
    procs = [subprocess.Popen([sys.executable, "-m", "symexp.cli", "run", *args, f"hydra.run.dir=run{i}"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    written = [json.loads((tmp_path / f"run{i}" / "job_status.json").read_text()).get("written", 0)
               for i in range(2) if (tmp_path / f"run{i}" / "job_status.json").exists()]
    assert sum(written) == 4  # no fit ran twice
    records, bad = load_records(tmp_path / "store")
    assert bad == [] and len(records) == 4


def test_damaged_caches_are_set_aside_and_recomputed_with_the_same_numbers(work):
    before = {p.name: json.loads(p.read_text())["test_rmse"] for p in RecordStore(work / "store").iter_paths()}
    test_sets = list((work / "cache" / "testsets").rglob("*.json"))
    bo_runs = [p for p in (work / "cache" / "bo").rglob("*.json")]
    assert test_sets and bo_runs
    for p in (test_sets[0], bo_runs[0]):
        p.write_text(p.read_text()[:100])
    for p in record_paths(work, "sr_bo_gp"):
        p.unlink()
    proc = run_app([*SMOKE, "mode=bo_gp"], work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (proc.stdout + proc.stderr).count("set aside") >= 2
    after = {p.name: json.loads(p.read_text())["test_rmse"] for p in RecordStore(work / "store").iter_paths()}
    assert after == before


def test_relaunch_recomputes_exactly_the_damaged_record(work, capsys):
    from symexp.app import status

    path = damage(work, "negative_rmse")
    untouched = {p: p.stat().st_mtime_ns for p in record_paths(work, "sr_bo_gp")}
    assert status.main([*SMOKE, "mode=random,bo_gp", "--relaunch"]) == 0
    assert "relaunching 1 cells" in capsys.readouterr().out
    _, bad = load_records(work / "store")
    assert bad == [] and json.loads(path.read_text())["test_rmse"] >= 0
    assert len(list((path.parent / ".damaged").iterdir())) == 1
    assert {p: p.stat().st_mtime_ns for p in record_paths(work, "sr_bo_gp")} == untouched  # only what was damaged
    assert {p: p.stat().st_mtime_ns for p in record_paths(work, "sr_bo_gp")} == untouched  # only what was damaged
