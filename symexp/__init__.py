"""symexp: symbolic explanations for hyperparameter optimization, as a reproducible benchmark suite.

The library is plain Python: it knows nothing of Hydra or SLURM. Data flows one way:
config -> benchmark -> samples -> surrogate -> formula -> record -> table/figure.
"""

__version__ = "0.1.0"
