"""The ``symexp`` command.

    symexp summary --experiment smoke [--store results/store]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from symexp.errors import SymexpError


def _summary(args: argparse.Namespace) -> int:
    from symexp.records import load_records
    from symexp.summary import format_summary

    store = Path(args.store)
    if not store.is_dir():
        raise SymexpError(f"record store {store} does not exist; run an experiment first or pass --store")
    print(format_summary(load_records(store, args.experiment), args.experiment))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symexp", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="RMSE table and formulas of an experiment's records")
    p.add_argument("--experiment", required=True)
    p.add_argument("--store", default="results/store")
    p.set_defaults(func=_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SymexpError as exc:
        print(f"symexp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
