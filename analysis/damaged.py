"""Damaged records the analysis left out: counted and named, never dropped silently.

:func:`analysis.views.load_ok` reads a view's records through
:func:`symexp.store.records.load_records`, which checks each one (:mod:`symexp.store.validate`)
and returns the damaged ones apart. They are not used (a record that contradicts itself is not a
result) and not moved (the analysis only reads); each is noted here once, printed on stderr when
first seen, and listed with its reason in ``build_report.md`` and the builders' output. The next
``symexp run`` of their cell sets them aside into ``.damaged/`` and recomputes them; ``symexp
status`` lists them too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from analysis.output import Report
from symexp.textsafe import terminal

_SEEN: dict[str, str] = {}


def note(damaged: Iterable[tuple[Path, str]], quiet: bool = False) -> int:
    """Remember damaged ``(path, why)`` pairs; print each new one on stderr. Returns how many are new."""
    new = 0
    for path, why in damaged:
        if str(path) not in _SEEN:
            _SEEN[str(path)] = why
            new += 1
            if not quiet:
                print(f"analysis: damaged record left out: {terminal(path)}: {terminal(why)}", file=sys.stderr,
                      flush=True)
    return new


def seen() -> dict[str, str]:
    """Every damaged record noted so far in this process, ``{path: why}``."""
    return dict(_SEEN)


def clear() -> None:
    _SEEN.clear()


def report() -> Report:
    """A :class:`Report` naming every damaged record noted (its ``missing`` list), for the build report."""
    rep = Report("damaged records")
    rep.notes.append(f"{len(_SEEN)} damaged record file(s) left out (not results: each contradicts itself); "
                     "the next `symexp run` of their cell sets them aside into .damaged/ and recomputes them")
    rep.missing.extend(f"{path}: {why}" for path, why in sorted(_SEEN.items()))
    return rep
