"""Work items finer than a cell (symexp.pipeline.work): planning, dependencies, execution in a job,
records identical to run_cell's, claims, missing artefacts."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from test_pipeline import VOLATILE, quiet, tiny_spec

from symexp.cluster.costs import CostModel
from symexp.cluster.layouts import LayoutSettings
from symexp.pipeline import run_cell
from symexp.pipeline.work import cell_work, plan_work, run_job
from symexp.store import Claim, RecordStore, load_records
from symexp.store.claims import is_held


CHUNK_S = LayoutSettings().chunk_seconds  # conf/cluster/slurm.yaml's (tests/test_layout.py)


def cells_for(tmp: Path, modes=("bo", "random", "bo_gp"), **overrides):
    return [cell_work(dataclasses.replace(tiny_spec(tmp, m, **overrides), workdir=tmp / "work" / m),
                      job_dir=tmp / "jobs" / m) for m in modes]


def by_id(cells):
    return {c.spec.mode: c for c in cells}


def test_plan_shares_artefacts_and_wires_dependencies(tmp_path):
    cells = cells_for(tmp_path)
    items = plan_work(cells, CostModel(), chunk_seconds=0.0005)  # tiny chunks: several per artefact
    kinds = {}
    for i in items:
        kinds.setdefault(i.kind, []).append(i)
    assert set(kinds) == {"test_chunk", "test_set", "random_chunk", "bo_run", "baselines", "sr_fit"}
    (bo,) = kinds["bo_run"]
    (test,) = kinds["test_set"]
    c = by_id(cells)
    assert set(bo.cells) == {c["bo"].cell_id, c["bo_gp"].cell_id}  # one BO run for both BO modes
    assert set(test.deps) == {i.id for i in kinds["test_chunk"]} and len(test.deps) > 1
    assert len(kinds["sr_fit"]) == 12 and len(kinds["baselines"]) == 1
    chunks = {i.id: min(i.args) for i in kinds["random_chunk"]}
    for fit in kinds["sr_fit"]:
        key = fit.args[0]
        assert test.id in fit.deps
        if fit.spec.mode == "random":
            # a random fit needs exactly the chunks holding its first n configurations
            assert {d for d in fit.deps if d in chunks} == {cid for cid, first in chunks.items() if first < key.n_samples}
            assert bo.id not in fit.deps
        else:
            assert bo.id in fit.deps
    # deterministic, and a cell listed twice (two presets sharing it) is planned once
    again = plan_work(cells + cells[:1], CostModel(), chunk_seconds=0.0005)
    assert [i.id for i in again] == [i.id for i in items]


def test_job_writes_the_records_run_cell_writes_and_then_nothing_is_left(tmp_path):
    ref = cells_for(tmp_path / "ref", modes=("random",))
    for c in ref:
        run_cell(c.spec, log=quiet)
    cells = cells_for(tmp_path / "job", modes=("random",))
    items = plan_work(cells, CostModel(), chunk_seconds=0.0005)
    report = run_job(items, cells, 1, log=quiet)
    assert report.ok and report.cells == {cells[0].cell_id: "done"}
    a = {r["record_id"]: r for r in load_records(tmp_path / "ref" / "store", list(ref[0].keys))[0].to_dict("records")}
    b = {r["record_id"]: r for r in load_records(tmp_path / "job" / "store", list(cells[0].keys))[0].to_dict("records")}
    assert set(a) == set(b) and len(a) == 4
    for rid in a:
        same = {k for k in a[rid] if k not in VOLATILE | {"n_trainings"}}
        assert {k: str(a[rid][k]) for k in same} == {k: str(b[rid][k]) for k in same}
    status = json.loads((cells[0].job_dir / "job_status.json").read_text())
    assert status["state"] == "done" and status["written"] == 4
    assert not is_held(RecordStore(cells[0].spec.store_dir).claim_path(f"cell-{cells[0].cell_id}"))
    assert plan_work(cells, CostModel(), chunk_seconds=CHUNK_S) == []


def test_a_record_claimed_by_another_job_is_left_to_it(tmp_path):
    cells = cells_for(tmp_path, modes=("random",))
    items = plan_work(cells, CostModel(), chunk_seconds=CHUNK_S)
    key = next(i.args[0] for i in items if i.kind == "sr_fit")
    store = RecordStore(cells[0].spec.store_dir)
    with Claim(store.claim_path(key.record_id)):  # another live job computes this record
        report = run_job(items, cells, 1, log=quiet)
    assert report.ok
    assert store.state(key)[0] == "missing"
    status = json.loads((cells[0].job_dir / "job_status.json").read_text())
    assert (status["written"], status["claimed_elsewhere"]) == (3, 1)
    assert [i.args[0] for i in plan_work(cells, CostModel(), chunk_seconds=CHUNK_S) if i.kind == "sr_fit"] == [key]


def test_a_fit_never_runs_smac_when_its_bo_run_is_missing(tmp_path):
    """The BO run belongs to an earlier job (array) that failed: the fits of the cell fail with
    that reason, nothing waits and nothing recomputes the run."""
    cells = cells_for(tmp_path, modes=("bo",))
    items = [i for i in plan_work(cells, CostModel(), chunk_seconds=CHUNK_S) if i.kind != "bo_run"]
    assert items and all(any(d.startswith("bo_run:") for d in i.deps) for i in items if i.kind == "sr_fit")
    report = run_job(items, cells, 1, log=quiet)
    assert not report.ok and report.cells[cells[0].cell_id] == "failed"
    status = json.loads((cells[0].job_dir / "job_status.json").read_text())
    assert status["state"] == "failed" and "ArtefactMissing" in status["error"] and "not in the cache" in status["error"]
    assert not list((tmp_path / "cache").glob("bo/**/*.json"))
    assert not RecordStore(cells[0].spec.store_dir).iter_paths()


@pytest.mark.slow
def test_bo_cells_on_two_workers_match_run_cell(tmp_path):
    """The whole tiny grid (bo, random, bo_gp) on a pool of 2 spawned workers: the same records
    as three run_cell calls, one BO run for both BO modes."""
    ref = cells_for(tmp_path / "ref")
    for c in ref:
        run_cell(c.spec, log=quiet)
    cells = cells_for(tmp_path / "job")
    report = run_job(plan_work(cells, CostModel(), chunk_seconds=0.0005), cells, 2, log=quiet)
    assert report.ok and set(report.cells.values()) == {"done"}
    for r, c in zip(ref, cells):
        a = {x["record_id"]: x for x in load_records(tmp_path / "ref" / "store", list(r.keys))[0].to_dict("records")}
        b = {x["record_id"]: x for x in load_records(tmp_path / "job" / "store", list(c.keys))[0].to_dict("records")}
        assert set(a) == set(b)
        for rid in a:
            for k in ("test_rmse", "train_rmse", "formula", "complexity", "n_train_points", "artefacts"):
                assert str(a[rid][k]) == str(b[rid][k]), (c.spec.mode, k)
    timing = list((tmp_path / "job" / "cache" / "bo").rglob("*.timing.json"))
    assert len(timing) == 1 and json.loads(timing[0].read_text())["n_trials"] == 10


@pytest.mark.slow
def test_local_pool_runs_a_sweep_with_run_py(tmp_path):
    """`run.py -m ... cluster=local_pool`: the node layout in one process, no SLURM; every cell's
    records and job status; a second run finds nothing to do."""
    from test_hydra_app import TINY, run_app

    args = ["-m", "experiment=smoke", *TINY, "cluster=local_pool", f"hydra.sweep.dir={tmp_path / 'runs'}"]
    proc = run_app(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert "local pool: finished" in proc.stdout
    records = RecordStore(tmp_path / "store").iter_paths()
    assert {json.loads(p.read_text())["mode"] for p in records} == {"bo", "random", "bo_gp"}
    statuses = [json.loads(p.read_text())["state"] for p in (tmp_path / "runs").glob("*/job_status.json")]
    assert statuses == ["done"] * 3
    again = run_app(args, tmp_path)
    assert again.returncode == 0 and "nothing to compute" in again.stdout


def separate_cells(tmp: Path, modes=("bo", "bo_gp")):
    """Tiny cells whose n = 8 needs a SMAC run of its own under bo.variant=separate (its initial
    design would have 3 Sobol points, the 10-trial run's has 4); n = 10 is a prefix."""
    out = []
    for m in modes:
        spec = tiny_spec(tmp, m)
        bo = dataclasses.replace(spec.bo, initial_design_max_ratio=0.45, variant="separate")
        out.append(cell_work(dataclasses.replace(spec, bo=bo, workdir=tmp / "work" / m), job_dir=tmp / "jobs" / m))
    return out


def test_plan_gives_each_separate_run_its_own_item_and_only_its_fits_wait_for_it(tmp_path):
    cells = separate_cells(tmp_path)
    items = plan_work(cells, CostModel(), chunk_seconds=1.0)
    runs = {i.args[0].n_trials: i for i in items if i.kind == "bo_run"}
    assert sorted(runs) == [8, 10]  # the main run and one separate run, shared by both BO modes
    assert runs[8].args[0].initial_design_size(2) == 3 and runs[10].args[0].initial_design_size(2) == 4
    assert runs[8].seconds < runs[10].seconds
    for fit in (i for i in items if i.kind == "sr_fit"):
        n = fit.args[0].n_samples
        assert runs[n].id in fit.deps and runs[18 - n].id not in fit.deps


@pytest.mark.slow
def test_separate_runs_train_small_n_on_their_own_run_in_cells_and_jobs(tmp_path):
    """A cell under bo.variant=separate: the n = 8 records are made from an 8-trial SMAC run (its
    whole trajectory, its own GP), n = 10 from the main run; a job of work items writes the same
    records as run_cell."""
    from symexp.sampling import BORun

    ref = separate_cells(tmp_path / "ref")
    for c in ref:
        run_cell(c.spec, log=quiet)
    store = tmp_path / "ref" / "store"
    for c in ref:
        df, damaged = load_records(store, list(c.keys))
        assert not damaged and len(df) == len(c.keys)
        arts = {int(r["n_samples"]): r["artefacts"]["bo_run"] for r in df.to_dict("records")}
        assert arts[8] != arts[10]
        small = BORun.from_json(json.loads((tmp_path / "ref" / "cache" / arts[8]).read_text()))
        main = BORun.from_json(json.loads((tmp_path / "ref" / "cache" / arts[10]).read_text()))
        assert small.n_trials == 8 and main.n_trials == 10 and small.n_initial_design == 3
        assert not (small.X == main.X[:8]).all()  # another design, not the main run's prefix
    cells = separate_cells(tmp_path / "job")
    report = run_job(plan_work(cells, CostModel(), chunk_seconds=0.0005), cells, 2, log=quiet)
    assert report.ok and set(report.cells.values()) == {"done"}
    for r, c in zip(ref, cells):
        a = {x["record_id"]: x for x in load_records(store, list(r.keys))[0].to_dict("records")}
        b = {x["record_id"]: x for x in load_records(tmp_path / "job" / "store", list(c.keys))[0].to_dict("records")}
        assert set(a) == set(b)
        for rid in a:
            for k in ("test_rmse", "train_rmse", "formula", "complexity", "n_train_points", "artefacts"):
                assert str(a[rid][k]) == str(b[rid][k]), (c.spec.mode, k)
    timing = sorted(json.loads(p.read_text())["n_trials"]
                    for p in (tmp_path / "job" / "cache" / "bo").rglob("*.timing.json"))
    assert timing == [8, 10]  # each SMAC run timed once, for the cost model
