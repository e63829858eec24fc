#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with everything the example and tests need.
# Idempotent: reinstalls only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.mdio_catalog-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log=.venv/install.log
  echo "Installing mdio_catalog and its dependencies into .venv (log: $log) ..."
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e ".[test]"; } > "$log" 2>&1; then
    tail -n 40 "$log"; echo "Installation failed; see $log" >&2; exit 1
  fi
  echo "$want" > "$stamp"
fi
