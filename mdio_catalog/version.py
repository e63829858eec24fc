"""Package and format versions."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mdio-catalog")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

#: The ``api_version`` attribute written into datasets: the v0 API line we are compatible with.
API_VERSION = "0.9.3"
