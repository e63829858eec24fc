"""Writes the catalog site: Jinja2 templates shipped in the package, plain CSS and JS, no CDN, no server needed.

Every link is relative (``datasets/NAME.html``, ``../index.html``), so the folder works from ``file://``, from
``mdio-catalog docs serve`` and from any static host. Rendering only reads the catalog, its lock and the datasets.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mdio_catalog import humanize
from mdio_catalog.exceptions import ExportError
from mdio_catalog.site.export_pages import ExportPage
from mdio_catalog.site.model import gather

if TYPE_CHECKING:
    from mdio_catalog.catalog import Catalog

STATIC_FILES = ("site.css", "site.js")
STATES = ("fresh", "stale", "never built")


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote."""

    out: Path
    pages: int
    pictures: int
    pictures_reused: int
    errors: list[str]
    seconds: float
    bytes: int

    def to_data(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "pages": self.pages,
            "pictures": self.pictures,
            "pictures_reused": self.pictures_reused,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "bytes": self.bytes,
        }


def build_site(
    catalog: Catalog, out: str | Path, *, pictures: bool = True, on_page: Callable[[str], None] | None = None
) -> SiteReport:
    """Write the site of ``catalog`` into ``out`` (created; pages rewritten, unchanged pictures reused): an index
    of every dataset and export, and a page for each; ``on_page(name)`` is called as each has been read."""
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder; give --out a folder for the site.")
    (out / "datasets").mkdir(parents=True, exist_ok=True)
    (out / "static").mkdir(exist_ok=True)
    pages = gather(catalog, out, pictures=pictures, on_page=on_page)
    env = _environment()
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    common = {"catalog": catalog.spec, "generated": generated, "states": STATES}
    counts = {s: sum(p.state == s for p in pages) for s in STATES}
    exports = sum(isinstance(p, ExportPage) for p in pages)
    index = env.get_template("index.html.j2").render(
        pages=pages, counts=counts, datasets=len(pages) - exports, exports=exports, root=".", **common
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    names = {p.name for p in pages}  # datasets and exports share one name space, and one folder of pages
    dataset_template = env.get_template("dataset.html.j2")
    export_template = env.get_template("export.html.j2")
    for page in pages:
        template = export_template if isinstance(page, ExportPage) else dataset_template
        html = template.render(page=page, root="..", names=names, **common)
        (out / "datasets" / f"{page.name}.html").write_text(html, encoding="utf-8")
    _write_static(out)
    for stale in (out / "datasets").glob("*.html"):  # pages of datasets removed from the catalog
        if stale.stem not in names:
            stale.unlink()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return SiteReport(
        out=out,
        pages=len(pages) + 1,
        pictures=sum(len(getattr(p, "pictures", ())) for p in pages),
        pictures_reused=sum(len(getattr(p, "pictures", ())) for p in pages if getattr(p, "pictures_reused", False)),
        errors=[f"{p.name}: {p.error}" for p in pages if p.error],
        seconds=time.perf_counter() - started,
        bytes=size,
    )


def _write_static(out: Path) -> None:
    from importlib.resources import files

    from pygments.formatters import HtmlFormatter

    source = files("mdio_catalog.site") / "templates"
    for name in STATIC_FILES:
        with (source / name).open("rb") as src, (out / "static" / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    (out / "static" / "highlight.css").write_text(HtmlFormatter(style="friendly").get_style_defs(".hl"), "utf-8")


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("mdio_catalog.site", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = human_size
    env.filters["yaml"] = highlight_yaml
    env.filters["json"] = highlight_json
    env.filters["href"] = lambda name: quote(f"{name}.html")
    env.filters["num"] = _number
    env.globals["histogram_svg"] = histogram_svg
    return env


def human_size(value: int | None) -> str:
    return humanize.human_size(value, missing="–")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def highlight_yaml(text: str) -> Any:
    return _highlight(text, "yaml")


def highlight_json(data: Any) -> Any:
    """JSON as an escaped block, not tokenised: lock entries are long (histograms) and pygments would cost more
    than the rest of the page."""
    from markupsafe import Markup, escape

    text = data if isinstance(data, str) else json.dumps(data, indent=2, default=str)
    return Markup(f'<div class="hl"><pre>{escape(text)}</pre></div>')


def _highlight(text: str, language: str) -> Any:
    from markupsafe import Markup
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import YamlLexer

    lexer = YamlLexer()
    return Markup(highlight(text, lexer, HtmlFormatter(cssclass="hl")))


def histogram_svg(histogram: dict[str, Any] | None, width: int = 480, height: int = 140) -> Any:
    """The recorded histogram as inline SVG bars (log-free, counts scaled to the tallest bar), axis labelled."""
    from markupsafe import Markup, escape

    if not histogram or not histogram.get("counts"):
        return Markup("")
    counts = [int(c) for c in histogram["counts"]]
    edges = [float(e) for e in histogram["edges"]]
    top = max(counts) or 1
    bar = width / len(counts)
    plot = height - 20
    rects = []
    for i, count in enumerate(counts):
        h = plot * count / top
        tip = f"{edges[i]:.4g} … {edges[i + 1]:.4g}: {count:,}"
        rects.append(
            f'<rect x="{i * bar:.2f}" y="{plot - h:.2f}" width="{max(bar - 0.5, 0.5):.2f}" height="{h:.2f}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    labels = (
        f'<text x="0" y="{height - 4}" class="lo">{edges[0]:.4g}</text>'
        f'<text x="{width}" y="{height - 4}" class="hi" text-anchor="end">{edges[-1]:.4g}</text>'
    )
    return Markup(
        f'<svg class="histogram" role="img" aria-label="histogram of sample values" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">{"".join(rects)}{labels}</svg>'
    )
