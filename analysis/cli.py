"""The analysis commands' command line: ``python -m analysis.<name> --store DIR --out DIR [OVERRIDES]``.

User mistakes (a missing store, an unknown experiment, a bad option) print one line on stderr and
exit with status 2; missing *data* is never an error: it is listed in the report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from analysis.output import DEFAULT_OUT
from analysis.views import DEFAULT_CACHE, DEFAULT_STORE
from symexp.errors import SymexpError

class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def make_parser(prog: str, description: str, default_experiment: str | None) -> OneLineParser:
    p = OneLineParser(prog=prog, description=description)
    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help=f"records directory (default: {DEFAULT_STORE})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output directory (default: {DEFAULT_OUT})")
    if default_experiment is not None:
        p.add_argument("--experiment", default=None,
                       help=f"experiment preset whose records are read (default: {default_experiment})")
    p.add_argument("--include-timed-out", action="store_true",
                   help="also use SR fits stopped by the time limit (left out by default, as the authors did)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="Hydra overrides of the preset's view, as for `symexp run` (e.g. protocol=clean)")
    return p


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None, prog: str = "analysis") -> int:
    """Call ``main``; a :class:`SymexpError` becomes one stderr line and exit status 2."""
    try:
        return main(argv)
    except SymexpError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
    except (OSError, UnicodeDecodeError) as exc:  # a full disk, a read-only or vanished output directory
        from symexp.errors import environment_error

        if (line := environment_error(exc)) is None:
            raise
        sys.stderr.write(f"{prog}: error: {line}\n")
        return 2


def add_cache_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"shared cache of the pipeline: test sets, BO runs, PD artefacts (default: {DEFAULT_CACHE})")
