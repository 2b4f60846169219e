"""``symexp summary``: RMSE table and formulas of an experiment's records (its view of the store).

    symexp summary experiment=smoke
    symexp summary experiment=table1 model=lr dataset=vehicle

Overrides are those of ``symexp run``. Missing records are counted, damaged ones listed.
"""

from __future__ import annotations

import sys

from symexp.app.config import build_view
from symexp.errors import SymexpError
from symexp.store.records import load_records
from symexp.store.summary import format_summary


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
