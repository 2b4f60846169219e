"""``symexp status`` under its earlier name: ``python experiments/status.py ARGS...`` runs symexp/app/status.py."""

import sys

from symexp.app.status import main

if __name__ == "__main__":
    sys.exit(main())
