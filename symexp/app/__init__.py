"""The commands: Hydra configs in, the library's objects out.

- :mod:`.config`: the only module that knows both Hydra and the pipeline: a job's
  :class:`~symexp.pipeline.CellSpec` from its config, and an experiment preset as a *view* (its
  cells, their planned records and job directories), every override checked before any job.
- :mod:`.run`: ``symexp run``, one Hydra job per cell (or :mod:`.launch` for work-item layouts).
- :mod:`.launch`: a sweep's work items as SLURM job arrays (submitit), or a local pool.
- :mod:`.status`: ``symexp status``, the cells' states, the cost estimate, the relaunch.
- :mod:`.summary`: ``symexp summary``, the RMSE table of a view.
"""
