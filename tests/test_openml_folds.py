"""OpenML's fold generator regenerated: java.util.Random, real OpenML split files, the md5 sums
OpenML's engine records, and what the split changes downstream (row order, benchmark identity).

Fixtures and their provenance: ``tests/fixtures/openml_splits/PROVENANCE.md``.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from symexp.benchmarks import make_benchmark
from symexp.benchmarks.datasets import REGISTRY
from symexp.benchmarks.openml_folds import (
    JavaRandom,
    fold_indices,
    generate_folds,
    randomize,
    splits_arff,
    stratify,
    test_cv,
    train_cv,
)
from symexp.benchmarks.split import split_indices
from symexp.errors import SymexpError

FIXTURES = Path(__file__).parent / "fixtures" / "openml_splits"

# -- java.util.Random -------------------------------------------------------------------------
# Known JVM outputs, as pinned by public ports' tests: Pumpkin-MC/Pumpkin
# pumpkin-util/src/random/legacy_rand.rs (test_next_i32, test_next_bounded_i32, test_next_f64,
# test_next_i64; seed 0); new Random(42): nextInt() = -1170105035 and nextInt(10) x3 = 0, 3, 8
# (also in many ports' tests); H2's docs: CALL RAND(0) --> 0.730967787376657.
SEED0_NEXT_INT = [-1155484576, -723955400, 1033096058, -1690734402, -1557280266,
                  1327362106, -1930858313, 502539523, -1728529858, -938301587]
SEED0_NEXT_INT_15 = [0, 13, 4, 2, 5, 8, 11, 6, 9, 14]  # bound 15: the modulo branch
SEED0_NEXT_INT_2 = [1, 1, 0, 1, 1, 0, 1, 0, 1, 1]  # bound 2: the power-of-two branch
SEED0_NEXT_DOUBLE = [0.730967787376657, 0.24053641567148587, 0.6374174253501083]
SEED0_NEXT_LONG = [-4962768465676381896, 4437113781045784766, -6688467811848818630]


def test_java_random_matches_known_jvm_outputs():
    r = JavaRandom(0)
    assert [r.next_int() for _ in range(10)] == SEED0_NEXT_INT
    r = JavaRandom(0)
    assert [r.next_int(15) for _ in range(10)] == SEED0_NEXT_INT_15
    r = JavaRandom(0)
    assert [r.next_int(2) for _ in range(10)] == SEED0_NEXT_INT_2
    assert JavaRandom(0).next_int(16) == 11
    r = JavaRandom(0)
    assert [r.next_double() for _ in range(3)] == SEED0_NEXT_DOUBLE  # exact, not approximate
    r = JavaRandom(0)
    assert [r.next_long() for _ in range(3)] == SEED0_NEXT_LONG
    assert JavaRandom(42).next_int() == -1170105035
    r = JavaRandom(42)
    assert [r.next_int(10) for _ in range(3)] == [0, 3, 8]


def _reference_next_int(state: int, bound: int) -> tuple[int, int, int]:
    """The Javadoc's ``nextInt(bound)`` (non power of two) in unbounded integers:
    ``(value, new state, draws)``; a draw is rejected when ``bits - val + bound - 1 >= 2**31``."""
    draws = 0
    while True:
        state = (state * 0x5DEECE66D + 0xB) % 2**48
        bits = state >> 17
        draws += 1
        val = bits % bound
        if bits - val + (bound - 1) < 2**31:
            return val, state, draws


def test_next_int_rejection_branch_matches_the_specification():
    bound = 2**30 + 1  # about half of all draws fall in the rejected top interval
    rejected = 0
    for seed in range(20):
        r = JavaRandom(seed)
        state = r._state
        for _ in range(5):
            expected, state, draws = _reference_next_int(state, bound)
            assert r.next_int(bound) == expected and r._state == state
            rejected += draws - 1
    assert rejected > 10  # the loop really ran


# -- Weka's Instances methods --------------------------------------------------------------------

def test_randomize_is_fisher_yates_from_the_end_with_next_int():
    rows = list(range(6))
    randomize(rows, JavaRandom(7))
    r, expected = JavaRandom(7), list(range(6))
    for j in (5, 4, 3, 2, 1):  # swap(j, nextInt(j + 1))
        k = r.next_int(j + 1)
        expected[j], expected[k] = expected[k], expected[j]
    assert rows == expected and sorted(rows) == list(range(6))


def test_stratify_groups_by_swapping_then_deals_round_robin():
    classes = ["b", "a", "b", "c", "a", "b", "c"]
    # Weka's loop traced by hand: the b rows are swapped forward (order 0 2 5 3 4 1 6), then the
    # class at position 3 (c, row 3) pulls row 6 forward (0 2 5 3 6 1 4): groups b b b c c a a,
    # so the class order is b, c, a (not the order of first appearance).
    out = stratify(list(range(7)), classes, 3)
    # stratStep(3) of [g0..g6] is g0 g3 g6 g1 g4 g2 g5
    assert out == [0, 3, 4, 2, 6, 5, 1]
    assert [classes[i] for i in out] == ["b", "c", "a", "b", "c", "b", "a"]


def test_fold_blocks_cover_the_rows_once_first_folds_larger():
    rows = list(range(23))
    tests = [test_cv(rows, 10, f) for f in range(10)]
    assert [len(t) for t in tests] == [3, 3, 3] + [2] * 7
    assert sum(tests, []) == rows
    for f in range(10):
        assert sorted(train_cv(rows, 10, f) + tests[f]) == rows
        assert train_cv(rows, 10, f) == [r for r in rows if r not in tests[f]]  # original order kept


# -- real OpenML files, byte for byte ---------------------------------------------------------

def _classes(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


@pytest.mark.parametrize("task, classes, relation, repeats", [
    (1, "anneal_class.txt", "dataset_1_anneal_splits", 1),
    (3, "kr-vs-kp_class.txt", "dataset_3_kr-vs-kp_splits", 1),
    (1882, "anneal_class.txt", "phpFsFYVN_splits", 10),
])
def test_openml_python_fixture_split_files_are_regenerated_byte_for_byte(task, classes, relation, repeats):
    expected = gzip.decompress((FIXTURES / f"task_{task}.datasplits.arff.gz").read_bytes()).decode("ascii")
    got = splits_arff(generate_folds(_classes(classes), n_folds=10, n_repeats=repeats), relation)
    assert got == expected


# md5 of Instances.toString() of the live tasks' splits, as OpenML's engine records them
# (openml/EvaluationEngine data/test/splits/task_splits_hashes.csv).
ENGINE_MD5 = {"credit_g": (31, "86bc7780f1c9bd2bbda90e10c79aee3d"), "vehicle": (53, "04bf251880159cd4124a0e5b3c2d08f2")}


@pytest.mark.parametrize("name", sorted(ENGINE_MD5))
def test_split_md5_equals_the_one_openml_records_for_the_task(data_dir, name):
    info = REGISTRY[name]
    y = pd.read_csv(data_dir / info.csv_name, dtype=str, keep_default_na=False)[info.target].tolist()
    text = splits_arff(generate_folds(y), f"{info.openml_name}_splits")
    assert hashlib.md5(text.encode("ascii")).hexdigest() == ENGINE_MD5[name][1]


# -- what the split changes downstream --------------------------------------------------------

def test_validation_split_takes_the_training_rows_in_the_generators_order():
    from sklearn.model_selection import train_test_split

    y = np.array(_classes("anneal_class.txt"))
    codes = np.unique(y, return_inverse=True)[1]
    rest, test = fold_indices(codes)
    # fold 0's TRAIN and TEST rows in the order OpenML's file lists them (task 1)
    fixture = gzip.decompress((FIXTURES / "task_1.datasplits.arff.gz").read_bytes()).decode("ascii")
    fold0 = [ln.split(",") for ln in fixture.split("@data\n", 1)[1].splitlines() if ln.endswith(",0,0")]
    assert rest.tolist() == [int(r) for t, r, _, _ in fold0 if t == "TRAIN"]
    assert test.tolist() == [int(r) for t, r, _, _ in fold0 if t == "TEST"]
    train, valid, got_test, source = split_indices(codes)
    assert source == "openml_folds"
    np.testing.assert_array_equal(got_test, test)
    ref_train, ref_valid = train_test_split(rest, test_size=0.33, shuffle=True, stratify=codes[rest], random_state=1)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(valid, ref_valid)
    # the order is not cosmetic: the same rows sorted give another validation set
    srt = np.sort(rest)
    _, sorted_valid = train_test_split(srt, test_size=0.33, shuffle=True, stratify=codes[srt], random_state=1)
    assert set(sorted_valid) != set(valid)


def test_the_split_is_part_of_the_benchmark_identity(monkeypatch):
    monkeypatch.delenv("SYMEXP_DATA_DIR", raising=False)
    new = make_benchmark("svm", "breast_cancer")
    old = make_benchmark("svm", "breast_cancer", split="stratified_kfold")
    assert new.key != old.key
    assert new.split_info["source"] == "openml_folds" and old.split_info["source"] == "stratified_kfold"
    assert set(new.data.y_test.tolist()) and not np.array_equal(new.data.X_test, old.data.X_test)


def test_an_unknown_split_is_a_one_line_error():
    with pytest.raises(SymexpError, match="split") as exc:
        make_benchmark("svm", "breast_cancer", split="kfold")
    assert "\n" not in str(exc.value)


def test_record_identity_differs_between_split_settings(tmp_path, data_dir):
    import dataclasses

    from test_pipeline import keys_of, tiny_spec

    spec = tiny_spec(tmp_path, "bo_gp", model="svm", dataset="blood_transfusion",
                     data_dir=data_dir)
    old = dataclasses.replace(spec, split="stratified_kfold")
    new_ids = {k.record_id for k in keys_of(spec)}
    old_ids = {k.record_id for k in keys_of(old)}
    assert len(new_ids) == len(old_ids) and not new_ids & old_ids


# -- symexp split -----------------------------------------------------------------------------

def test_symexp_split_writes_openmls_file_for_the_task(data_dir, tmp_path, capsys):
    from symexp.cli import main

    assert main(["split", "credit_g", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert hashlib.md5(out.encode("ascii")).hexdigest() == ENGINE_MD5["credit_g"][1]
    assert out.startswith("@relation credit-g_splits\n\n@attribute type {TRAIN,TEST}\n@attribute rowid numeric\n"
                          "@attribute repeat numeric\n@attribute fold numeric\n\n@data\nTRAIN,")
    target = tmp_path / "vehicle.arff"
    assert main(["split", "vehicle", "--data-dir", str(data_dir), "--out", str(target)]) == 0
    assert hashlib.md5(target.read_bytes()).hexdigest() == ENGINE_MD5["vehicle"][1]


@pytest.mark.parametrize("name", ["nope", "breast_cancer", "synthetic"])
def test_symexp_split_rejects_a_dataset_without_an_openml_task(tmp_path, capsys, name):
    from symexp.cli import main

    target = tmp_path / "out.arff"
    assert main(["split", name, "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "credit_g" in err and not target.exists()


def test_records_say_which_split_made_them(tmp_path, data_dir):
    """A small real cell under each split: every record carries its split, and the two splits
    write different records (nothing of the old split is reused)."""
    import dataclasses

    from test_pipeline import keys_of, quiet, records_of, tiny_spec

    from symexp.pipeline import run_cell

    new = tiny_spec(tmp_path, "random", model="svm", dataset="blood_transfusion", data_dir=data_dir,
                    n_samples=(8,), sr_seeds=(0,))
    old = dataclasses.replace(new, split="stratified_kfold")
    for spec, source in ((new, "openml_folds"), (old, "stratified_kfold")):
        run_cell(spec, log=quiet)
        df = records_of(spec)
        assert len(df) == len(keys_of(spec)) == 1
        info = df["split_info"].iloc[0]
        assert info["source"] == source and info["n_test"] == 75 and info["data_id"] == 1464
    assert records_of(new)["record_id"].iloc[0] != records_of(old)["record_id"].iloc[0]
    assert records_of(new)["split_info"].iloc[0]["seed"] == 0
