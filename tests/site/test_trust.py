"""Versions and the last verify on a dataset's page and in its STAC Item (issue 17's keep/rollback and verify state):
a dataset that keeps its earlier builds lists them, the current one marked; a verify shows ok with its date, a
damaged chunk shows as damaged with its problem count; a rollback is noted. Screenshot of the page as an artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mdio_catalog.catalog import Catalog
from mdio_catalog.site import build_site, write_stac
from tests.catalog import post_stack_segy, stack_entry, write_catalog
from tests.site.conftest import ARTIFACTS


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    catalog_file = write_catalog(tmp_path, {"a": stack_entry(keep=2), "b": stack_entry(description="keeps nothing")})
    catalog = Catalog.from_file(catalog_file)
    catalog.build()
    catalog.build(["a"], force=True)  # a second build of a: the first is kept
    return catalog_file


def _sections(html: str) -> set[str]:
    return {s for s in ("versions", "verify") if f'id="{s}"' in html}


def test_versions_and_last_verify_on_the_page_and_in_stac(kept: Path, tmp_path: Path, browser: Any) -> None:
    catalog = Catalog.from_file(kept)
    builds = [v.build_id for v in catalog.versions("a", sizes=False)]
    assert len(builds) == 2
    report = catalog.verify("a")
    assert report.ok

    site = tmp_path / "site"
    build_site(catalog, site, pictures=False)
    page_a = (site / "datasets" / "a.html").read_text(encoding="utf-8")
    assert _sections(page_a) == {"versions", "verify"}
    assert all(b in page_a for b in builds)
    assert _sections((site / "datasets" / "b.html").read_text(encoding="utf-8")) == set()  # one build, no verify

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((site / "datasets" / "a.html").as_uri())
        rows = page.eval_on_selector_all("#versions tbody tr", "rs => rs.map(r => r.className)")
        assert rows == ["current", ""]
        assert page.locator("#versions tbody tr.current code").first.inner_text() == builds[0]
        assert page.locator("#verify-badge").inner_text() == "ok"
        assert "none" in page.locator("#verify").inner_text()

        # a damaged chunk: verify says so, and so does the page
        chunk = next(p for p in (tmp_path / "out" / "a.mdio" / "data").rglob("*") if p.is_file() and p.name[0] != ".")
        chunk.write_bytes(b"\0" + chunk.read_bytes()[1:] if chunk.stat().st_size else b"x")
        assert not catalog.verify("a").ok
        build_site(Catalog.from_file(kept), site, pictures=False)
        page.goto((site / "datasets" / "a.html").as_uri())
        assert page.locator("#verify-badge").inner_text() == "damaged"
        assert page.locator("#overview a.badge").inner_text() == "damaged"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "versions_verify.png"), full_page=True)

        stac = tmp_path / "stac"
        write_stac(Catalog.from_file(kept), stac)
        item = json.loads((stac / "items" / "a.json").read_text())
        assert item["properties"]["version"] == builds[0]
        assert item["properties"]["mdio:kept_versions"] == builds[1:]
        assert item["properties"]["mdio:verify"]["state"] == "damaged"
        assert item["properties"]["mdio:verify"]["problems"] >= 1
        other = json.loads((stac / "items" / "b.json").read_text())["properties"]
        assert "mdio:kept_versions" not in other
        assert "mdio:verify" not in other

        # a rollback: the kept build is current again, the page says from which build
        catalog.rollback("a")
        build_site(Catalog.from_file(kept), site, pictures=False)
        page.goto((site / "datasets" / "a.html").as_uri())
        assert page.locator("#versions tbody tr.current code").first.inner_text() == builds[1]
        assert builds[0] in page.locator("#versions p.reasons").inner_text()
        assert page.locator("#verify-badge").inner_text() == "outdated"  # it verified the other build
    finally:
        context.close()
    assert errors == []
