"""User-facing errors.

Every mistake a user can make in their input (an unknown model, a configuration outside the
space, a missing data file, ...) raises :class:`SymexpError` with a one-line message that says
what was wrong and what is valid. Entry points print the message and exit with status 2 instead
of showing a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class SymexpError(ValueError):
    """An error in the user's input, reported as one line without a traceback."""


def unknown_choice(kind: str, value: object, valid: Iterable[object]) -> SymexpError:
    """Build the standard "unknown X 'v'; valid: a, b, c" error."""
    choices = ", ".join(str(v) for v in valid)
    return SymexpError(f"unknown {kind} {value!r}; valid: {choices}")
