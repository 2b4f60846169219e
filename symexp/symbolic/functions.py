"""The gplearn function set, including symexp's protected (capped) exponential.

gplearn's protected functions (gplearn 0.4.3, ``gplearn/functions.py``), which the SymPy
conversion reproduces exactly:

- ``div(a, b)  = a / b      if |b| > 0.001 else 1``
- ``log(a)     = log|a|     if |a| > 0.001 else 0``
- ``sqrt(a)    = sqrt|a|``
- ``inv(a)     = 1 / a      if |a| > 0.001 else 0``

gplearn has no ``exp``; symexp adds ``exp(a) = min(exp(a), cap)`` (cap 1e5 in the paper), the
same form as the authors' ``np.minimum(np.exp(x), 100000)``: the exponential is computed in full
(overflow to ``inf`` is silenced) and then capped, so the value is exactly ``cap`` wherever
``exp(a) >= cap`` and exactly ``exp(a)`` elsewhere.

The exp node is built with ``make_function(..., wrap=False)`` from a module-level function, and
the cap is bound afterwards with :func:`functools.partial`; the node therefore pickles with the
standard pickler (needed when gplearn's ``n_jobs > 1`` ships programs to worker processes, and
to store fitted estimators), and evolution does not pay for joblib's cloudpickle wrapper.
"""

from __future__ import annotations

import functools

import numpy as np
from gplearn.functions import _Function, make_function

from symexp.symbolic.settings import GPLEARN_FUNCTIONS

#: gplearn's guard threshold in div, log and inv.
PROTECTION_THRESHOLD = 0.001


def capped_exp(x1: np.ndarray, *, cap: float = 1e5) -> np.ndarray:
    """``min(exp(x1), cap)`` elementwise, without overflow warnings."""
    with np.errstate(over="ignore"):
        return np.minimum(np.exp(x1), cap)


def make_exp(cap: float) -> _Function:
    """A gplearn function node ``exp`` computing :func:`capped_exp` with the given cap."""
    node = make_function(function=capped_exp, name="exp", arity=1, wrap=False)  # checks closure
    node.function = functools.partial(capped_exp, cap=float(cap))
    return node


def exp_cap_of(node: _Function, default: float) -> float:
    """The cap of an ``exp`` node made by :func:`make_exp` (``default`` for other exp nodes)."""
    keywords = getattr(node.function, "keywords", None) or {}
    return float(keywords.get("cap", default))


def gplearn_function_set(names: tuple[str, ...], exp_cap: float) -> list:
    """The ``function_set`` argument for gplearn: built-in names as strings, ``exp`` as a node."""
    return [make_exp(exp_cap) if n == "exp" else n for n in names]


def function_node(name: str, exp_cap: float) -> _Function:
    """The gplearn function node for ``name`` (used to parse program strings)."""
    from gplearn.functions import _function_map

    if name == "exp":
        return make_exp(exp_cap)
    if name in GPLEARN_FUNCTIONS:
        return _function_map[name]
    raise KeyError(name)
