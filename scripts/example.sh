#!/usr/bin/env bash
# The main job end to end on a bundled example: set up, generate the example's SEG-Y/NumPy sources, validate the
# catalog (examples/catalog.yaml), show its status, build it, show the status again, open a dataset by name and
# print its summary. A second run finds everything fresh and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/python examples/catalog_demo.py "$@"
