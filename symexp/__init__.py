"""symexp: symbolic explanations for hyperparameter optimization, as a reproducible benchmark suite.

The library is plain Python: it knows nothing of Hydra or SLURM (only :mod:`symexp.app`, the
commands, does). Data flows one way, one folder per stage (docs/architecture.md):
config (:mod:`.app`) -> plan (:mod:`.pipeline`) -> benchmark (:mod:`.benchmarks`) -> samples and
surrogate (:mod:`.sampling`) -> formula (:mod:`.symbolic`) -> record (:mod:`.store`) -> tables and
figures (``analysis/``); :mod:`.cluster` costs and shapes the work for a cluster.
"""

__version__ = "0.1.0"
