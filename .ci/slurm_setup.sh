#!/usr/bin/env bash
# CI: install the local SLURM (slurmctld, slurmd, slurm-client, slurmdbd, munge, mariadb-server)
# before the test suite. Needs root and apt access; idempotent (a no-op when installed, ~25 s on
# a fresh Debian 12). tests/test_slurm.py starts the cluster itself and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash slurm/local_cluster.sh install
slurmctld -V
