"""The experiment pipeline: one cell from its specification to its records.

- :mod:`.spec`: :class:`CellSpec`, :class:`PDPSettings`, :func:`validate_spec`.
- :mod:`.plan`: which records a cell writes and what each one's identity is.
- :mod:`.training`: the training sets (BO, random, BO-GP, PD), from shared cache artefacts.
- :mod:`.fit`: one symbolic-regression fit, scored.
- :mod:`.recording`: claiming and writing a record (shared by both executors).
- :mod:`.cell`: :func:`run_cell`, claims and all.
- :mod:`.work`: the same work in finer items (shared artefacts, single fits) for jobs that run
  many cells on many CPUs (:func:`~symexp.pipeline.work.plan_work`, :func:`~symexp.pipeline.work.run_job`).
"""

from symexp.parallel import default_n_jobs
from symexp.pipeline.cell import CellReport, run_cell
from symexp.pipeline.plan import PIPELINE_VERSION, cell_id, planned_keys, record_identity
from symexp.pipeline.spec import MODES, CellSpec, PDPSettings, check_parsimony, validate_spec

__all__ = [
    "MODES", "PIPELINE_VERSION", "CellReport", "CellSpec", "PDPSettings", "cell_id", "check_parsimony",
    "default_n_jobs", "planned_keys", "record_identity", "run_cell", "validate_spec",
]
