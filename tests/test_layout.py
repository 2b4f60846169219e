"""The package's shape: one ``symexp`` command, imports that flow one way, stable record identities."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("run", "status", "summary", "report", "explain", "split")


def _symexp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "symexp.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_symexp_help_lists_every_command(tmp_path):
    res = _symexp("--help", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    listed = res.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    assert sorted(listed) == sorted(COMMANDS)


def test_symexp_run_rejects_a_bad_override_in_one_line_and_writes_nothing(tmp_path):
    res = _symexp("run", "-m", "experiment=smoke", "model=nope", cwd=tmp_path)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "nope" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_symexp_summary_and_status_take_the_same_overrides(tmp_path):
    env_store = ["paths.store=" + str(tmp_path / "store"), "paths.cache=" + str(tmp_path / "cache")]
    summary = _symexp("summary", "experiment=smoke", *env_store, cwd=tmp_path)
    status = _symexp("status", "experiment=smoke", *env_store, cwd=tmp_path)
    assert summary.returncode == 0 and status.returncode == 0, summary.stderr + status.stderr
    assert "no records yet of 8 planned" in summary.stdout
    assert "3 cells: 3 missing" in status.stdout


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_package_and_the_analysis_never_import_scripts():
    """Data flows one way: the scripts (experiments/, bench/, tools/) use the package, never the reverse."""
    offenders = []
    for folder in ("symexp", "analysis"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            bad = {m for m in _imported_modules(path) if m.split(".")[0] in ("experiments", "bench", "tools")}
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in sorted(bad)]
    assert offenders == []


def test_the_committed_paper_subset_records_are_found_by_their_view():
    """Record identities do not depend on where the code lives: the table1 view of the paper subset
    (blood_transfusion and australian, sampling seed 0, the earlier split those records were made
    with) finds every record committed in results/paper_subset/store, which earlier versions of the
    code wrote."""
    from symexp.app.config import build_views
    from symexp.store.records import load_records

    store = ROOT / "results" / "paper_subset" / "store"
    [view] = build_views(["experiment=table1", "dataset=blood_transfusion,australian", "sampling_seed=0",
                          "split=stratified_kfold", f"paths.store={store}"])
    records, damaged = load_records(view.store_dir, view.keys)
    assert len(view.keys) == 110
    assert (len(records), len(damaged)) == (110, 0)


def test_the_cluster_fallbacks_are_conf_cluster_slurm_yaml():
    """LayoutSettings' defaults (what a cluster group that leaves a key out gets) are the values of
    conf/cluster/slurm.yaml, the one place cluster defaults are stated."""
    import dataclasses

    from symexp.app.config import compose_config, layout_settings, resolved
    from symexp.cluster.layouts import LayoutSettings

    cluster = resolved(compose_config(["cluster=slurm"]))["cluster"]
    from_conf = layout_settings(cluster)
    defaults = LayoutSettings()
    fields = [f.name for f in dataclasses.fields(LayoutSettings)]
    assert {f: getattr(defaults, f) for f in fields} == {f: getattr(from_conf, f) for f in fields}


def test_local_pool_gets_the_slurm_defaults_for_what_it_leaves_out():
    from symexp.app.config import compose_config, layout_settings, resolved
    from symexp.cluster.layouts import LayoutSettings

    cluster = resolved(compose_config(["cluster=local_pool"]))["cluster"]
    settings = layout_settings(cluster)
    assert settings.layout == "node" and settings.chunk_seconds == cluster["chunk_seconds"]
    assert settings.task_seconds == LayoutSettings().task_seconds


def test_the_package_root_holds_at_most_five_modules():
    """Stages live in folders; the root keeps only what every stage shares (and the CLI)."""
    root_modules = sorted(p.name for p in (ROOT / "symexp").glob("*.py") if p.name != "__init__.py")
    assert len(root_modules) <= 5, root_modules
