"""Cluster execution: what work costs, how it is shaped into jobs, and what that bills.

Matches ``conf/cluster/``:

- :mod:`.costs`: the expected seconds of each kind of work item (calibrated constants, and the
  store's and cache's own timings when they exist).
- :mod:`.schedule`: a list-scheduling simulation of tasks on CPUs (and a worker pool that runs them).
- :mod:`.layouts`: :class:`~symexp.cluster.layouts.LayoutSettings` and the shaping of work items into
  SLURM job arrays for the ``cell``, ``shared`` and ``node`` layouts.
- :mod:`.estimate`: jobs, CPU-hours used and billed, and wall time of a layout.
"""
