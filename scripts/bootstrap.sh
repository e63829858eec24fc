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
# The site tests drive the system's Chromium (never a browser downloaded at run time): Debian's package, when absent.
if [ ! -x /usr/bin/chromium ] && command -v apt-get > /dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (log: .venv/apt-chromium.log) ..."
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && command -v sudo > /dev/null 2>&1 && sudo_cmd="sudo"
  if ! { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium; } \
      > .venv/apt-chromium.log 2>&1; then
    tail -n 20 .venv/apt-chromium.log; echo "warning: chromium could not be installed; the browser tests will skip" >&2
  fi
fi
