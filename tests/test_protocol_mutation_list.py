"""The mutation list of the protocol facts (tests/mutations.yaml) matches today's code.

``make mutation-check`` applies each listed one-line change to a scratch copy and expects the fast
suite to fail. If a protocol line is edited, its entry no longer matches: this test says so in the
ordinary suite, before anyone runs the (longer) mutation check.
"""

from __future__ import annotations

from pathlib import Path

from tools.check_mutations import DEFAULT_LIST, load_mutations

ROOT = Path(__file__).resolve().parents[1]


def test_every_listed_change_matches_the_code_exactly_once():
    mutations = load_mutations(DEFAULT_LIST, ROOT)  # raises, naming every entry that does not match
    ids = {m.id for m in mutations}
    # the two changes the suite missed before issue 13, and the five it already noticed
    assert {"test-grid-cell-centres", "true-cost-first-seed", "elbow-at-least-2-ops", "rmse-mean",
            "hpobench-train-plus-valid", "bo-gp-400-points", "validation-share-0.33"} <= ids
    assert all(m.tests for m in mutations)
