"""The site in a real headless Chromium, from file:// and from the 127.0.0.1 server: every page loads with no
console error, no failed and no external request; the index agrees with `status --json`; the search box and the
state filter filter rows; every image has a natural size; links work; screenshots are written as artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mdio_catalog.cli.app import app
from mdio_catalog.site import serve_in_thread
from tests.site.conftest import ARTIFACTS, ExampleSite


class Watched:
    """A page whose console errors, page errors, failed and blocked requests are recorded."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        self.requested: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requested.append(url)
        local = url.startswith(("file://", "data:", "http://127.0.0.1:", "http://localhost:"))
        if local:
            route.continue_()
        else:  # anything else would leave the machine: refuse it and remember
            self.external.append(url)
            route.abort()

    def goto(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is None or response.ok, url

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.external == [], self.external

    def images(self) -> list[dict[str, Any]]:
        return self.page.eval_on_selector_all(
            "img", "els => els.map(e => ({src: e.src, w: e.naturalWidth, h: e.naturalHeight, done: e.complete}))"
        )

    def visible_rows(self) -> list[str]:
        return self.page.eval_on_selector_all("#datasets tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.name)")


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = Watched(browser)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def served(example_site: ExampleSite) -> Iterator[str]:
    server, url = serve_in_thread(example_site.site)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def status_states(site: ExampleSite) -> dict[str, str]:
    result = CliRunner().invoke(app, ["status", "-c", str(site.catalog_file), "--json"])
    data = json.loads(result.output)
    rows = data if isinstance(data, list) else data.get("datasets", data)
    return {row["name"]: row["state"] for row in rows}  # datasets and exports: the index lists both


@pytest.mark.parametrize("where", ["file", "http"])
def test_every_page_loads_clean_with_images_and_links(
    where: str, example_site: ExampleSite, watched: Watched, served: str
) -> None:
    base = example_site.site.as_uri() + "/" if where == "file" else served
    watched.goto(base + "index.html")
    links = watched.page.eval_on_selector_all("#datasets tbody td:first-child a", "as => as.map(a => a.href)")
    catalog = example_site.catalog()
    assert len(links) == len(catalog.list()) + len(catalog.spec.exports)
    pictures = 0
    for link in links:
        watched.goto(link)
        name = link.rsplit("/", 1)[-1].removesuffix(".html")
        assert watched.page.locator("h1").inner_text().startswith(name)
        images = watched.images()
        assert all(i["done"] and i["w"] > 0 and i["h"] > 0 for i in images), images
        pictures += len(images)
        back = watched.page.locator("nav.crumbs a")
        back.click()
        watched.page.wait_for_load_state("load")
        assert watched.page.url.endswith("index.html")
    assert pictures == example_site.report.pictures > 0
    watched.check_clean()
    assert any(u.startswith(base) for u in watched.requested)


def test_index_agrees_with_status_and_filters(example_site: ExampleSite, watched: Watched) -> None:
    watched.goto((example_site.site / "index.html").as_uri())
    expected = status_states(example_site)
    assert set(expected.values()) == {"fresh", "stale", "never built"}
    rows = watched.page.eval_on_selector_all(
        "#datasets tbody tr",
        "rs => rs.map(r => [r.dataset.name, r.querySelector('.badge').textContent.trim()])",
    )
    assert dict(rows) == expected
    catalog = example_site.catalog()
    assert [r[0] for r in rows] == [*catalog.list(), *catalog.spec.exports]
    kinds = watched.page.eval_on_selector_all("#datasets tbody tr", "rs => rs.map(r => r.dataset.kind)")
    assert kinds.count("export") == len(catalog.spec.exports) == 1

    search = watched.page.locator("#search")
    search.click()
    search.type("gath")  # name, template and description are searched: both kinds of gathers
    assert watched.visible_rows() == ["gathers", "shots"]
    search.type(" cdp")  # every word must match
    assert watched.visible_rows() == ["gathers"]
    assert watched.page.locator("#shown").inner_text() == f"1 of {len(rows)} shown"
    search.fill("")
    search.type("segy crop")  # the export: kind and upstream are searchable
    assert watched.visible_rows() == ["stack_delivery"]
    search.fill("")
    search.type("numpy")  # the source kind is searchable too
    assert watched.visible_rows() == ["velocity"]
    search.fill("no such dataset")
    assert watched.visible_rows() == []
    assert watched.page.locator("#none").is_visible()
    search.fill("")
    for state in ("stale", "never built", "fresh"):
        watched.page.select_option("#state", state)
        assert watched.visible_rows() == [n for n, s in expected.items() if s == state]
    watched.page.select_option("#state", "")
    assert len(watched.visible_rows()) == len(rows)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)
    watched.goto((example_site.site / "datasets" / "stack.html").as_uri())
    watched.page.screenshot(path=str(ARTIFACTS / "stack.png"), full_page=True)
    watched.goto((example_site.site / "datasets" / "velocity.html").as_uri())
    watched.page.screenshot(path=str(ARTIFACTS / "velocity.png"), full_page=True)
    watched.goto((example_site.site / "datasets" / "stack_delivery.html").as_uri())
    watched.page.screenshot(path=str(ARTIFACTS / "stack_delivery.png"), full_page=True)
    assert (ARTIFACTS / "index.png").stat().st_size > 10_000
    watched.check_clean()


def test_dataset_page_sections(example_site: ExampleSite, watched: Watched) -> None:
    watched.goto((example_site.site / "datasets" / "gathers.html").as_uri())
    page = watched.page
    kinds = page.eval_on_selector_all("figure.picture", "fs => fs.map(f => f.dataset.kind)")
    assert kinds == ["inline", "crossline", "slice", "live_mask", "fold"]  # pre-stack: a fold map
    dims = page.eval_on_selector_all("#dimensions tbody tr td:first-child", "ts => ts.map(t => t.textContent)")
    assert dims == ["inline", "crossline", "offset", "sample"]
    assert page.locator("#statistics svg.histogram rect").count() > 5
    assert "PreStackCdpOffsetGathers3DTime" in page.locator("#spec").inner_text()
    assert page.locator("#byte-map tbody tr").count() >= 3
    # lineage, versions and verify appear only when there is such data: none in this catalog
    assert page.locator("#lineage, #versions, #verify").count() == 0

    watched.goto((example_site.site / "datasets" / "processed.html").as_uri())
    assert page.locator("#state-badge").inner_text() == "never built"
    assert page.locator("figure.picture").count() == 0
    assert "processed:" in page.locator("#spec").inner_text()

    watched.goto((example_site.site / "datasets" / "shots.html").as_uri())
    assert page.locator("#state-badge").inner_text() == "stale"
    assert "spec" in page.locator("ul.reasons").inner_text()
    watched.check_clean()


def test_export_page_from_the_lineage_of_its_dataset(example_site: ExampleSite, watched: Watched) -> None:
    import hashlib

    catalog = example_site.catalog()
    delivered = Path(catalog.spec.export_url("stack_delivery", catalog.base)).read_bytes()
    watched.goto((example_site.site / "datasets" / "stack.html").as_uri())
    page = watched.page
    assert page.locator("#lineage a", has_text="stack_delivery").count() == 1  # downstream of the stack, via the crop
    watched.goto((example_site.site / "datasets" / "stack_crop.html").as_uri())
    page.locator("#lineage a", has_text="stack_delivery").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/datasets/stack_delivery.html")
    assert page.locator("#state-badge").inner_text() == "fresh"
    assert hashlib.sha256(delivered).hexdigest() in page.locator("#sha256").inner_text()
    assert f"{len(delivered):,} bytes" in page.locator("#file-size").inner_text()
    assert "deliveries/stack_crop.sgy" in page.locator("#spec").inner_text()
    assert page.locator("#lineage a", has_text="stack").count() >= 1
    page.locator("#upstream a").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/datasets/stack_crop.html")
    watched.check_clean()


def test_links_between_lineage_neighbours_work(example_site: ExampleSite, watched: Watched, tmp_path) -> None:
    from mdio_catalog.catalog import Catalog
    from mdio_catalog.site import build_site

    class WithLineage(Catalog):
        def lineage(self, name: str) -> dict[str, list[str]]:
            chain = ["stack", "velocity", "processed"]
            if name not in chain:
                return {}
            i = chain.index(name)
            return {"upstream": chain[:i][::-1], "downstream": chain[i + 1 :]}

    site = tmp_path / "site"
    build_site(WithLineage.from_file(example_site.catalog_file), site, pictures=False)
    watched.goto((site / "datasets" / "velocity.html").as_uri())
    watched.page.locator("#lineage a", has_text="stack").click()
    watched.page.wait_for_load_state("load")
    assert watched.page.url.endswith("/datasets/stack.html")
    watched.page.locator("#lineage a", has_text="processed").click()
    watched.page.wait_for_load_state("load")
    assert watched.page.locator("h1").inner_text().startswith("processed")
    assert watched.page.locator("#lineage a", has_text="velocity").count() == 1
    watched.goto((site / "datasets" / "gathers.html").as_uri())
    assert watched.page.locator("#lineage").count() == 0
    watched.check_clean()
