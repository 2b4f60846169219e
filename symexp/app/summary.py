"""RMSE table and formulas of an experiment's records (its view of the store).

    python experiments/summary.py experiment=smoke
    python experiments/summary.py experiment=table1 model=lr dataset=vehicle

Overrides are those of experiments/run.py. Missing records are counted, damaged ones listed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symexp.app.config import build_view  # noqa: E402
from symexp.errors import SymexpError  # noqa: E402
from symexp.store.records import load_records  # noqa: E402
from symexp.store.summary import format_summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    try:
        view = build_view(argv)
        records, damaged = load_records(view.store_dir, view.keys)
    except SymexpError as exc:
        print(f"summary: error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(records, view.experiment, planned=len(view.keys), damaged=damaged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
