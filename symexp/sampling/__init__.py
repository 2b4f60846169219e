"""Training-set sampling: BO trajectories with GP snapshots (SMAC), random configurations, BO-GP.

* :func:`run_bo` -> :class:`BORun` (SMAC's evaluations in order, a :class:`GPSnapshot` per
  snapshot size); :func:`bo_training_set` / :func:`gp_for` give the training set and GP for a
  sample size under the configured variant (``prefix`` or ``separate``, see
  :mod:`symexp.sampling.bo`).
* :func:`random_configurations`: seeded random designs, nested across sizes.
* :func:`gp_labels`: the BO-GP training set (random configurations labelled by a GP snapshot).
"""

from symexp.sampling.bo import SELECTIONS, VARIANTS, BORun, BOSettings, bo_training_set, gp_for, run_bo
from symexp.sampling.gp import GPSnapshot, gp_labels
from symexp.sampling.random_sampling import random_configurations

__all__ = [
    "SELECTIONS", "VARIANTS", "BORun", "BOSettings", "GPSnapshot", "bo_training_set", "gp_for", "gp_labels",
    "random_configurations", "run_bo",
]
