#!/usr/bin/env bash
# The main job end to end on a bundled example: set up, build a dataset, read it back, print what was written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/python examples/quickstart.py "$@"
