"""What the pages show, read from a small catalog: the spec as written, an error card for a dataset that fails to
open (the rest of the site still builds), lineage only when the catalog knows it, and the CLI verbs."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mdio_catalog.catalog import Catalog
from mdio_catalog.cli.app import app
from mdio_catalog.exceptions import ArgumentError, MDIONotFoundError
from mdio_catalog.site import build_site, make_server
from mdio_catalog.site.model import _datasets_as_written
from tests.catalog import post_stack_segy, stack_entry, write_catalog


@pytest.fixture
def small(tmp_path: Path) -> Path:
    post_stack_segy(tmp_path / "data" / "stack.sgy")
    catalog = write_catalog(tmp_path, {"a": stack_entry(), "b": stack_entry(description="second")})
    Catalog.from_file(catalog).build()
    return catalog


def test_spec_as_written_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "version: 1\nname: x\nroot: ./out\ndatasets:\n"
        "  # the stack\n  stack:\n    template: PostStack3DTime  # rev1 bytes\n    source: {segy: s.sgy}\n\n"
        '  "shots":\n    source:\n      segy: t.sgy\n# trailing\n',
        encoding="utf-8",
    )
    written = _datasets_as_written(path)
    assert written == {
        "stack": "stack:\n  template: PostStack3DTime  # rev1 bytes\n  source: {segy: s.sgy}",
        "shots": '"shots":\n  source:\n    segy: t.sgy',
    }


def test_a_dataset_that_fails_to_open_is_an_error_card(small: Path, tmp_path: Path) -> None:
    (tmp_path / "out" / "b.mdio" / ".zmetadata").write_text("{not json", encoding="utf-8")
    (tmp_path / "out" / "b.mdio" / ".zgroup").unlink()
    report = build_site(Catalog.from_file(small), tmp_path / "site")
    assert [e.split(":")[0] for e in report.errors] == ["b"]
    page_b = (tmp_path / "site" / "datasets" / "b.html").read_text(encoding="utf-8")
    assert 'id="error"' in page_b
    assert "Cannot open the dataset" in page_b
    page_a = (tmp_path / "site" / "datasets" / "a.html").read_text(encoding="utf-8")
    assert 'id="error"' not in page_a
    assert 'id="pictures"' in page_a
    assert "cannot open" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_lineage_section_appears_when_the_catalog_knows_it(small: Path, tmp_path: Path) -> None:
    class WithLineage(Catalog):
        def lineage(self, name: str) -> dict[str, Any]:
            return {"upstream": ["a"], "downstream": []} if name == "b" else {"upstream": [], "downstream": ["b"]}

    build_site(WithLineage.from_file(small), tmp_path / "site", pictures=False)
    page_b = (tmp_path / "site" / "datasets" / "b.html").read_text(encoding="utf-8")
    assert 'id="lineage"' in page_b
    assert 'href="a.html"' in page_b
    assert 'href="b.html"' in (tmp_path / "site" / "datasets" / "a.html").read_text(encoding="utf-8")
    build_site(Catalog.from_file(small), tmp_path / "plain", pictures=False)
    assert 'id="lineage"' not in (tmp_path / "plain" / "datasets" / "b.html").read_text(encoding="utf-8")


def test_site_uses_no_external_resources(small: Path, tmp_path: Path) -> None:
    build_site(Catalog.from_file(small), tmp_path / "site")
    texts = [
        p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*") if p.suffix in (".html", ".css", ".js")
    ]
    assert len(texts) == 3 + 3  # index, two pages; css, highlight css, js
    for text in texts:
        for marker in ('src="http', 'href="http', "url(http", "@import", "//cdn"):
            assert marker not in text


def test_removed_datasets_lose_their_page(small: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(Catalog.from_file(small), site, pictures=False)
    assert (site / "datasets" / "b.html").is_file()
    write_catalog(tmp_path, {"a": stack_entry()})
    build_site(Catalog.from_file(small), site, pictures=False)
    assert sorted(p.name for p in (site / "datasets").iterdir()) == ["a.html"]


def test_cli_docs_build_and_serve_errors(small: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["docs", "build", "-c", str(small), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pages"] == 3
    assert data["errors"] == []
    assert Path(data["out"]) == tmp_path / "site"
    assert (tmp_path / "site" / "index.html").is_file()
    with pytest.raises(MDIONotFoundError, match="docs build"):
        make_server(tmp_path / "nothing")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ArgumentError, match="another --port"):
            make_server(tmp_path / "site", port)
        result = runner.invoke(app, ["docs", "serve", "-c", str(small), "--no-build", "--port", str(port)])
        assert result.exit_code == 2
        assert "another --port" in result.output
    server = make_server(tmp_path / "site", 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
    shutil.rmtree(tmp_path / "site")


def test_lineage_from_a_graph_of_the_catalog(small: Path, tmp_path: Path) -> None:
    from mdio_catalog.catalog.graph import Edge, Node, build_graph

    class WithGraph(Catalog):
        def graph(self) -> Any:
            nodes = [Node("stack.sgy", "segy"), Node("a", "dataset"), Node("b", "dataset")]
            edges = [Edge("stack.sgy", "a", "ingest"), Edge("a", "b", "rechunk")]
            return build_graph(nodes, edges)

    build_site(WithGraph.from_file(small), tmp_path / "site", pictures=False)
    page_b = (tmp_path / "site" / "datasets" / "b.html").read_text(encoding="utf-8")
    assert 'id="lineage"' in page_b
    assert 'href="a.html"' in page_b
    assert "stack.sgy" not in page_b.split('id="lineage"')[1].split("</section>")[0]  # sources are not products


def test_versions_and_verify_sections_appear_only_with_data(small: Path, tmp_path: Path) -> None:
    from mdio_catalog.site.model import gather
    from mdio_catalog.site.render import _environment

    catalog = Catalog.from_file(small)
    page = gather(catalog, tmp_path / "site", pictures=False)[0]
    env = _environment()
    common = {"catalog": catalog.spec, "generated": "now", "states": (), "root": "..", "names": {"a", "b"}}
    plain = env.get_template("dataset.html.j2").render(page=page, **common)
    assert 'id="versions"' not in plain
    assert 'id="verify"' not in plain
    row = {
        "build_id": "20260102T000000Z-0123abcd",
        "current": True,
        "finished": "2026-01-02T00:00:00+00:00",
        "spec_hash": "ab" * 32,
        "shape": [6, 7, 12],
        "kept": "",
        "size_bytes": None,
        "checksums": True,
        "rolled_back_from": None,
        "rolled_back_at": None,
    }
    page.versions = [row, {**row, "current": False, "build_id": "20260101T000000Z-4567cdef", "size_bytes": 2048}]
    page.verify = {
        "state": "ok",
        "summary": "ok 2026-01-03 00:00 UTC",
        "verified_at": "2026-01-03T00:00:00+00:00",
        "chunks_checked": 48,
        "chunks_recorded": 48,
        "problems": 0,
        "sample": None,
        "deep": False,
        "build": "2026-01-02T00:00:00+00:00",
    }
    html = env.get_template("dataset.html.j2").render(page=page, **common)
    assert 'id="versions"' in html
    assert "abababababab" in html
    assert "20260101T000000Z-4567cdef" in html
    assert 'id="verify"' in html
    assert "48 of 48 checked" in html
