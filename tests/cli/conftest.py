"""A built copy of the example catalog in a temporary folder, shared by the CLI tests of one module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def example_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/catalog.yaml copied with freshly generated sources (not built)."""
    folder = tmp_path_factory.mktemp("catalog")
    shutil.copy(EXAMPLES / "catalog.yaml", folder / "catalog.yaml")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from make_data import make

        make(folder / "data")
    finally:
        sys.path.remove(str(EXAMPLES))
    return folder / "catalog.yaml"
