"""``symexp summary`` under its earlier name: ``python experiments/summary.py ARGS...`` runs symexp/app/summary.py."""

import sys

from symexp.app.summary import main

if __name__ == "__main__":
    sys.exit(main())
