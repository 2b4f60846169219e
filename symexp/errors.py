"""User-facing errors.

Every mistake a user can make in their input (an unknown model, a configuration outside the
space, a missing data file, ...) raises :class:`SymexpError` with a one-line message that says
what was wrong and what is valid. Entry points print the message and exit with status 2 instead
of showing a traceback. Failures of the environment (full disk, read-only or vanished
directory, unreadable file) are reported the same way: :func:`environment_error` turns them into
one line naming the file and the fix. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Any


class SymexpError(ValueError):
    """An error in the user's input, reported as one line without a traceback."""


def unknown_choice(kind: str, value: object, valid: Iterable[object]) -> SymexpError:
    """Build the standard "unknown X 'v'; valid: a, b, c" error."""
    choices = ", ".join(str(v) for v in valid)
    return SymexpError(f"unknown {kind} {value!r}; valid: {choices}")

# -- failures of the environment ------------------------------------------------------------------
# A full disk, a read-only or vanished directory, a file that cannot be read: not bugs and not the
# user's input, but the user (or the admin) must act, so an entry point reports them as it reports
# a SymexpError: one line naming the file and the fix, exit status 2, no traceback. Whatever raised
# them wrote nothing partial (records and cache files are written atomically, failures are never
# cached); inside a cluster job the line is also the job's ``failed`` status.

#: errno -> (what happened, the fix), for the failures of the environment.
_FIXES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on the device", "free space there or point paths.store / paths.cache / --out "
                                                  "at a file system with room"),
    getattr(errno, "EDQUOT", -1): ("disk quota exceeded", "free space in your quota or use another directory"),
    errno.EROFS: ("read-only file system", "use a writable directory (paths.store, paths.cache, --out)"),
    errno.EACCES: ("permission denied", "check the directory's permissions (or use one you can write)"),
    errno.EPERM: ("operation not permitted", "check the directory's permissions (or use one you can write)"),
    errno.ENOENT: ("no such file or directory (removed while running?)", "recreate the directory or pass an "
                                                                          "existing one and rerun"),
    errno.ENOTDIR: ("a path component is not a directory", "pass a directory"),
    errno.EIO: ("input/output error", "check the disk or network file system, then rerun"),
    errno.ESTALE: ("stale network file handle", "rerun once the network file system is back"),
}


def _oserror(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (itself, or its cause/context chain), if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _FIXES:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def environment_error(exc: BaseException) -> str | None:
    """One line for a failure of the environment (``None`` if ``exc`` is not one).

    Parameters
    ----------
    exc : BaseException
        What was raised.

    Returns
    -------
    str or None
        ``"<file>: <what happened> (<errno name>); <fix>; nothing partial was written"``.
    """
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not valid UTF-8 text ({exc.reason} at byte {exc.start}); fix or replace the file"
    err = _oserror(exc)
    if err is None:
        return None
    what, fix = _FIXES[err.errno]
    where = err.filename if err.filename is not None else "a file"
    name = errno.errorcode.get(err.errno, str(err.errno))
    return f"{where}: {what} ({name}); {fix}; nothing partial was written, rerun to continue"


def environment_reason(exc: BaseException) -> str:
    """The one-line reason a job's status gives for ``exc`` (environment failure or not)."""
    line = environment_error(exc)
    if line is not None:
        err = _oserror(exc)
        name = errno.errorcode.get(err.errno, "") if err is not None else "UnicodeDecodeError"
        return f"{type(err or exc).__name__} {name}: {line}"
    return f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__


def one_line(fn: Any, *args: Any, prog: str = "symexp", **kwargs: Any) -> int:
    """Call ``fn``; an environment failure prints one line on stderr and returns 2."""
    import sys

    try:
        return fn(*args, **kwargs)
    except (OSError, UnicodeDecodeError) as exc:
        line = environment_error(exc)
        if line is None:
            raise
        print(f"{prog}: error: {line}", file=sys.stderr, flush=True)
        return 2
