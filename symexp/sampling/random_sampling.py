"""Random sampling: configurations drawn uniformly from the space (log-uniform on log axes).

Row ``i`` is drawn with its own generator, ``derive_rng("random_sampling", seed, i)``, through
``space.sample``. So the design for ``n`` is the first ``n`` rows of the design for any larger
``n`` (training sets are nested across sample sizes, like BO prefixes), and it depends on
``seed`` and the space only, never on the process or on what else was sampled before.
"""

from __future__ import annotations

import numpy as np

from symexp.errors import SymexpError
from symexp.seeding import derive_rng
from symexp.benchmarks.space import SearchSpace


def random_configurations(space: SearchSpace, n: int, seed: int) -> np.ndarray:
    """``n`` random configurations as an array (n, d) in raw units (integers as whole floats)."""
    space.require_numerical("random sampling")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise SymexpError(f"number of random configurations must be an integer >= 0, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise SymexpError(f"random-sampling seed must be an integer, got {seed!r}")
    if n == 0:
        return np.empty((0, space.dim))
    return np.vstack([space.sample(1, derive_rng("random_sampling", int(seed), i)) for i in range(int(n))])
