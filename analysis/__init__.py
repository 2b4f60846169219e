"""Analysis of symexp records: the paper's tables and figures.

Each module is a command, ``python -m analysis.<name> --store <records dir> --out <dir>``:

- ``table1``: Table 1 (RMSE of SR (BO), SR (Random), SR (BO-GP), GP baseline, linear
  regression) and its comparison with the published values.
- ``sample_size``: RMSE vs number of samples (Fig. 4, 9-11).
- ``parsimony``: RMSE and operation count vs parsimony, with the elbow point (Fig. 5, 8).
- ``formulas``: table of median-RMSE formulas and expression-tree figures (Fig. 1).
- ``landscapes``: ground truth, GP and the three SR variants over the two hyperparameters (Fig. 3).
- ``pdp_figures``: fANOVA importances and partial dependence vs SR for many hyperparameters (Fig. 6b, 7).
- ``build_all``: all of the above from whatever records exist, with a report of what is missing.
"""
