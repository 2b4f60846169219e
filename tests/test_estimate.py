"""The cost estimate's arithmetic on hand-computed cases: layouts, billed vs used, wall time, costs."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from test_pipeline import tiny_spec

from symexp.cluster.costs import SR_FIT_BASE_S, SR_FIT_PER_POINT_S, CostModel, _interpolate
from symexp.cluster.estimate import estimate_layout, simulate_arrays, simulate_cell_layout
from symexp.cluster.layouts import JobArray, JobTask, LayoutSettings, partition_groups, shape_jobs
from symexp.pipeline.work import CellWork, WorkItem


def one_bo_cell(tmp_path, group="g"):
    """A BO cell: two test chunks (10 s each), the test set (1 s), a BO run (100 s), 4 fits (20 s)."""
    spec = tiny_spec(tmp_path, "bo")
    cell = CellWork(spec=spec, cell_id=f"cell-{group}", keys=())
    c = (cell.cell_id,)
    items = [
        WorkItem(f"{group}:chunk1", "test_chunk", spec, group, 10.0, cells=c),
        WorkItem(f"{group}:chunk2", "test_chunk", spec, group, 10.0, cells=c),
        WorkItem(f"{group}:test", "test_set", spec, group, 1.0, deps=(f"{group}:chunk1", f"{group}:chunk2"), cells=c),
        WorkItem(f"{group}:bo", "bo_run", spec, group, 100.0, cells=c),
        *[WorkItem(f"{group}:fit{k}", "sr_fit", spec, group, 20.0, deps=(f"{group}:test", f"{group}:bo"), cells=c)
          for k in range(4)],
    ]
    return cell, items


def test_shared_layout_hand_computed(tmp_path):
    cell, items = one_bo_cell(tmp_path)
    s = LayoutSettings(layout="shared", cpus_per_node=2, nodes=1, task_seconds=1000, startup_s=0)
    arrays = shape_jobs(items, [cell], s)
    assert [(a.name, len(a.tasks), a.after) for a in arrays] == [
        ("evaluations", 1, ()), ("bo_runs", 1, ()), ("fits_bo", 1, ("evaluations", "bo_runs"))]
    assert [t.expected_s for a in arrays for t in a.tasks] == [20, 100, 81]
    est = estimate_layout(items, [cell], s)
    assert (est.used_s, est.billed_s, est.ratio) == (201, 201, 1.0)
    # evaluations (0-20) beside the BO run (0-100) on the 2 CPUs; then the fits task: 100 + 81
    assert est.wall_s == 181
    assert est.n_jobs == 3
    # a startup of 5 s per task: used and billed both grow by 3 x 5 s
    est5 = estimate_layout(items, [cell], dataclasses.replace(s, startup_s=5))
    assert (est5.used_s, est5.billed_s) == (216, 216)


def test_node_layout_hand_computed(tmp_path):
    cell, items = one_bo_cell(tmp_path)
    s = LayoutSettings(layout="node", cpus_per_node=2, nodes=1, startup_s=0)
    est = estimate_layout(items, [cell], s)
    # worker 0: BO 0-100; worker 1: chunks 0-20, test set 20-21, idle; both: fits 100-120, 120-140
    assert est.wall_s == 140 and est.billed_s == 2 * 140 and est.used_s == 201
    assert est.ratio == pytest.approx(280 / 201)


def test_cell_layout_hand_computed(tmp_path):
    cell, items = one_bo_cell(tmp_path)
    s = LayoutSettings(layout="cell", cpus_per_node=2, nodes=1, cell_cpus=2, startup_s=0)
    # test set on the cell's 2 CPUs (20 / 2 + 1), the BO run (100), 4 fits on 2 workers (40)
    walls, wall = simulate_cell_layout(items, [cell], s)
    assert walls == [151] and wall == 151
    est = estimate_layout(items, [cell], s)
    assert est.billed_s == 2 * 151 and est.used_s == 201


def test_cell_layout_waits_with_its_allocation_for_a_shared_artefact(tmp_path):
    """Two cells share a BO run: the second starts at once on another node and waits for it."""
    spec = tiny_spec(tmp_path, "bo")
    a, b = CellWork(spec, "A", ()), CellWork(spec, "B", ())
    items = [WorkItem("bo", "bo_run", spec, "g", 100.0, cells=("A", "B")),
             WorkItem("fa", "sr_fit", spec, "g", 10.0, deps=("bo",), cells=("A",)),
             WorkItem("fb", "sr_fit", spec, "g", 30.0, deps=("bo",), cells=("B",))]
    s = LayoutSettings(layout="cell", cpus_per_node=4, nodes=2, cell_cpus=4, startup_s=0)
    walls, wall = simulate_cell_layout(items, [a, b], s)
    assert walls == [110, 130] and wall == 130
    assert estimate_layout(items, [a, b], s).billed_s == 4 * 240


def test_array_dependencies_parallelism_and_capacity():
    def arr(name, secs, cpus=1, after=()):
        return JobArray(name, [JobTask([], [], cpus, x) for x in secs], after=after, cpus=cpus)

    arrays = [arr("A", [10, 10]), arr("B", [5], cpus=2, after=("A",))]
    assert simulate_arrays(arrays, 2) == 15
    assert simulate_arrays(arrays, 2, parallelism=1) == 25  # A's tasks one at a time
    assert simulate_arrays([arr("A", [10, 10, 10])], 2) == 20
    with pytest.raises(ValueError, match="more than"):
        simulate_arrays(arrays, 1)


def test_benchmarks_are_partitioned_first_fit_decreasing(tmp_path):
    spec = tiny_spec(tmp_path, "bo")
    work = {"a": 10, "b": 7, "c": 6, "d": 4}
    items = [WorkItem(f"{g}", "sr_fit", spec, g, secs) for g, secs in work.items()]
    # capacity max(27 / 2, 10) = 13.5: a | b, c (13) | d fits nowhere -> least loaded (a)
    assert partition_groups(items, 2) == [["a", "d"], ["b", "c"]]
    # capacity max(27 / 9, 10) = 10: no job gets more work than the longest chain; 3 jobs suffice
    assert partition_groups(items, 9) == [["a"], ["b"], ["c", "d"]]


def test_a_long_chain_gets_the_other_work_beside_it(tmp_path):
    """A BO run of 100 s (then a 10 s fit) and four benchmarks of 4 x 20 s fits on nodes of 4
    CPUs: one node does it all while the BO run goes on; more nodes would idle."""
    spec = tiny_spec(tmp_path, "bo")
    items = [WorkItem("bo", "bo_run", spec, "long", 100.0), WorkItem("fitL", "sr_fit", spec, "long", 10.0, deps=("bo",))]
    items += [WorkItem(f"{g}{k}", "sr_fit", spec, g, 20.0) for g in ("s1", "s2", "s3", "s4") for k in range(4)]
    assert partition_groups(items, 3, cpus=4) == [["long", "s1", "s2", "s3", "s4"]]
    est = estimate_layout(items, [], LayoutSettings(layout="node", cpus_per_node=4, nodes=3, startup_s=0))
    # worker 0: BO 0-100, fitL 100-110; workers 1-3: 15 fits by 100, the last 100-120
    assert (est.n_jobs, est.wall_s, est.billed_s, est.used_s) == (1, 120, 480, 430)


def test_sr_cost_prefers_measured_records_and_interpolates():
    assert _interpolate({140: [50.0, 60.0, 55.0], 400: [150.0]}, 270) == pytest.approx(55 + 95 / 260 * 130)
    assert _interpolate({140: [50.0, 60.0, 55.0], 400: [150.0]}, 140) == 55
    # one measured size: the calibrated line through it
    one = _interpolate({140: [70.0]}, 400)
    assert one == pytest.approx(70 * (SR_FIT_BASE_S + SR_FIT_PER_POINT_S * 400) / (SR_FIT_BASE_S + SR_FIT_PER_POINT_S * 140))
    rec = {"method": "sr_bo", "status": "ok", "n_train_points": 140, "timings": {"sr_fit": {"cpu_s": 70.0}},
           "identity": {"sr": {"population_size": 5000, "generations": 20, "engine": "gplearn"}},
           "versions": {"gplearn": "0.4.3", "gplearn_fit": "fast"}}
    model = CostModel(records=[rec])
    assert model.sr_fit_seconds(5000, 20, 140) == 70.0 and model.sources["SR fits"].startswith("measured")
    # records timed with gplearn's own fit (before the fast one, or SYMEXP_SR_REFERENCE=1) are not learnt from
    for versions in ({"gplearn": "0.4.3"}, {"gplearn": "0.4.3", "gplearn_fit": "reference"}):
        old = CostModel(records=[{**rec, "versions": versions, "timings": {"sr_fit": {"cpu_s": 300.0}}}])
        assert old.sr_fit_seconds(5000, 20, 140) == SR_FIT_BASE_S + SR_FIT_PER_POINT_S * 140
        assert old.sources["SR fits"] == "calibration"
    calibrated = CostModel(records=[rec], prefer_measured=False)
    assert calibrated.sr_fit_seconds(5000, 20, 140) == SR_FIT_BASE_S + SR_FIT_PER_POINT_S * 140
    assert calibrated.sr_fit_seconds(500, 8, 140) == pytest.approx((SR_FIT_BASE_S + SR_FIT_PER_POINT_S * 140) * 0.04)


def test_eval_cost_prefers_the_cache(tmp_path):
    import json

    key = "lr/blood_transfusion/hpobench/abc"
    shard = tmp_path / "evaluations" / "lr" / "blood_transfusion" / "hpobench" / "abc" / "00"
    shard.mkdir(parents=True)
    for i in range(25):
        (shard / f"{i}.json").write_text(json.dumps({"fit_seconds": 2.0 if i % 2 else 4.0}))
    model = CostModel(cache_dir=tmp_path)
    assert model.eval_seconds("lr", "blood_transfusion", key) == pytest.approx((12 * 2 + 13 * 4) / 25)
    assert CostModel(cache_dir=tmp_path, prefer_measured=False).eval_seconds("lr", "blood_transfusion", key) != \
        pytest.approx((12 * 2 + 13 * 4) / 25)
