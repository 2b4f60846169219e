"""``symexp run`` under its earlier name: ``python experiments/run.py ARGS...`` runs symexp/app/run.py."""

import sys

from symexp.app.run import main

if __name__ == "__main__":
    sys.exit(main())
