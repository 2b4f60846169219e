"""Seeds derived from an experiment's identity.

Every random draw in symexp is seeded from a tuple that names what it is for, e.g.
``derive_seed("evaluation", benchmark_key, config, seed)``. The tuple is hashed with SHA-256
of its canonical JSON, so the seed is the same in every process, on every machine, under any
launcher; Python's ``hash()`` (salted per process) is never used.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace; floats written with full precision (repr)."""
    return json.dumps(_normalise(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _normalise(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _normalise(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_normalise(v) for v in obj]
    if isinstance(obj, np.generic):
        return _normalise(obj.item())
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"cannot hash a non-finite float {obj!r}")
        # -0.0 and 0.0 are the same configuration value.
        return 0.0 if obj == 0 else obj
    return obj


def stable_hash(*parts: Any, length: int = 16) -> str:
    """Hex digest (``length`` characters) of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()[:length]


def derive_seed(*parts: Any) -> int:
    """A seed in [0, 2**31 - 1) determined by ``parts`` alone (valid for numpy, sklearn, xgboost)."""
    digest = hashlib.sha256(canonical_json(list(parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") % (2**31 - 1)


def derive_rng(*parts: Any) -> np.random.Generator:
    """A numpy Generator seeded by :func:`derive_seed` of ``parts``."""
    return np.random.default_rng(derive_seed(*parts))
