#!/usr/bin/env bash
# The whole suite: set up, lint, type check, then every test (object stores, dask cluster and interop included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "== ruff"
.venv/bin/ruff check mdio_catalog tests benchmarks examples
echo "== mypy"
.venv/bin/mypy mdio_catalog
echo "== pytest"
.venv/bin/python -m pytest "$@"
