"""A built copy of the example catalog (some datasets fresh, one stale, one never built), its site, and a browser.

The browser is the system's Chromium (``/usr/bin/chromium``, installed by scripts/bootstrap.sh when absent) driven
by Playwright; nothing is downloaded at run time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mdio_catalog.catalog import Catalog
from mdio_catalog.site import build_site
from tests.catalog import EXAMPLES
from tests.catalog.test_example import make_data_module

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "site"


@dataclass
class ExampleSite:
    folder: Path  # the catalog's folder
    catalog_file: Path
    site: Path
    report: Any

    def catalog(self) -> Catalog:
        return Catalog.from_file(self.catalog_file)


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> ExampleSite:
    """The example catalog copied and built (its SEG-Y delivery too) except 'processed' (never built); 'shots' made
    stale by a spec edit."""
    folder = tmp_path_factory.mktemp("site") / "survey"
    ignored = shutil.ignore_patterns("out", "data", "catalog.lock", "catalog.lock.d", "__pycache__")
    shutil.copytree(EXAMPLES, folder, ignore=ignored)
    make_data_module().make(folder / "data")
    catalog_file = folder / "catalog.yaml"
    built = ["stack", "gathers", "shots", "velocity", "stack_crop", "stack_browse", "stack_delivery"]
    Catalog.from_file(catalog_file).build(built)
    # the spec changes after the build: stale
    text = catalog_file.read_text(encoding="utf-8").replace("chunks: [1, 2, 24, 150]", "chunks: [1, 2, 12, 150]")
    catalog_file.write_text(text, encoding="utf-8")
    site = folder / "site"
    report = build_site(Catalog.from_file(catalog_file), site)
    return ExampleSite(folder, catalog_file, site, report)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: run scripts/bootstrap.sh (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
