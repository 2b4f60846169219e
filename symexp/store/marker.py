"""``STORE.json``, the record store's format marker, and one accurate message per way it can be wrong.

=========================  =====================================================================
marker                     what happens
=========================  =====================================================================
absent, store empty        a new store: accepted (the first run writes the marker)
absent, records of this    refused: the marker was lost; the message gives the one command that
format present             restores it (the records are good, nothing is moved or recomputed)
absent, older records      refused: a store of the first format (records keyed by experiment
                           name): move it aside and rerun to rebuild
not a file                 refused: what it is, and how to restore the marker
unreadable                 refused: the operating system's reason (permissions, I/O)
not a marker / wrong type  refused: the value found and the one expected, and the restore command
older version (integer)    refused: move the store aside and rerun (its records cannot be matched)
newer version (integer)    refused: written by a newer symexp; update symexp
=========================  =====================================================================

Only an *older* store is ever to be moved aside: a current store whose marker was damaged keeps
its records, it only needs its marker back.
"""

from __future__ import annotations

import json
import os
from itertools import islice
from pathlib import Path

from symexp.errors import SymexpError

STORE_MARKER = "STORE.json"


def _format() -> dict:
    from symexp.store.records import STORE_FORMAT

    return dict(STORE_FORMAT)


def restore_command(root: Path) -> str:
    """The shell command that writes a current marker into ``root``."""
    return f"printf '%s\\n' '{json.dumps(_format(), sort_keys=True)}' > {root / STORE_MARKER}"


def _sample_versions(root: Path, limit: int = 20) -> set:
    """``schema_version`` of a few record files under ``root`` (hidden folders left out)."""
    found = set()
    files = (p for p in root.rglob("*.json")
             if p.name != STORE_MARKER and not any(part.startswith(".") for part in p.relative_to(root).parts))
    for p in islice(files, limit):
        try:
            with open(p, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        found.add(data.get("schema_version") if isinstance(data, dict) else None)
    return found


def check_store_format(root: str | os.PathLike[str]) -> None:
    """Refuse a store whose marker is wrong, with one line that says exactly what and how to proceed.

    Accepts an absent or empty directory (a new store) and a store with a current marker."""
    from symexp.store.records import SCHEMA_VERSION

    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise SymexpError(f"record store {root} exists and is not a directory; pass a directory as paths.store")
    marker = root / STORE_MARKER
    fix = f"restore it with: {restore_command(root)}"
    if marker.is_symlink() and not marker.exists():
        raise SymexpError(f"record store {root}: {STORE_MARKER} is a dangling link; remove it and {fix}")
    if marker.exists() and not marker.is_file():
        kind = "a directory" if marker.is_dir() else "not a regular file"
        raise SymexpError(f"record store {root}: {marker} is {kind}, not the store's marker file; remove it "
                          f"(its records are kept) and {fix}")
    if not marker.exists():
        try:
            entries = [p for p in root.iterdir() if not p.name.startswith(".")]
        except OSError as exc:
            raise SymexpError(f"record store {root} cannot be listed ({exc.strerror or exc}); "
                              "check its permissions") from None
        if not entries:
            return  # a new store
        versions = _sample_versions(root)
        if SCHEMA_VERSION in versions:
            raise SymexpError(f"record store {root} holds records of this format (version {SCHEMA_VERSION}) but its "
                              f"{STORE_MARKER} is missing (deleted?); the records are fine: {fix}")
        if not versions:
            raise SymexpError(f"record store {root} has no {STORE_MARKER} and no readable record: if it is a "
                              f"symexp store, {fix}; otherwise pass an empty or new directory as paths.store")
        raise SymexpError(
            f"record store {root} was written by an older symexp (records keyed by experiment name, "
            f"without the settings that made them), so its numbers cannot be matched to settings: move it "
            f"aside (mv {root} {root}.v1) and rerun to rebuild, or set paths.store to another directory")
    try:
        with open(marker, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise SymexpError(f"record store {root}: cannot read {marker} ({exc.strerror or exc}); "
                          "make it readable (chmod a+r) or ask its owner") from None
    except UnicodeDecodeError:
        raise SymexpError(f"record store {root}: {marker} is not text (damaged); {fix}") from None
    try:
        found = json.loads(text)
    except ValueError:
        raise SymexpError(f"record store {root}: {marker} is not valid JSON (damaged or truncated); {fix}") from None
    expected = _format()
    if not isinstance(found, dict) or found.get("format") != expected["format"]:
        raise SymexpError(f"record store {root}: {marker} holds {json.dumps(found)[:120]}, not a symexp store "
                          f"marker {json.dumps(expected)}; if this is a symexp store, {fix}")
    version = found.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise SymexpError(f"record store {root}: {marker} has version {json.dumps(version)} "
                          f"({type(version).__name__}), expected the integer {SCHEMA_VERSION}; {fix}")
    if version < SCHEMA_VERSION:
        raise SymexpError(f"record store {root} has format version {version}, older than this symexp's "
                          f"{SCHEMA_VERSION}: its records cannot be read; move it aside "
                          f"(mv {root} {root}.v{version}) and rerun to rebuild it")
    if version > SCHEMA_VERSION:
        raise SymexpError(f"record store {root} has format version {version}, written by a newer symexp "
                          f"(this one reads {SCHEMA_VERSION}); update symexp (git pull; make venv)")
