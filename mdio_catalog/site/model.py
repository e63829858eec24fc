"""What the catalog site shows, gathered read-only from the catalog, its lock and the datasets.

One :class:`DatasetPage` per dataset and one :class:`~mdio_catalog.site.export_pages.ExportPage` per export (a
SEG-Y delivery: spec, upstream, size and SHA-256 as recorded, state). A dataset page has: state (the same
``status`` the CLI prints), the spec as written in the catalog file, provenance and lock entry, dimensions with
coordinate ranges, chunks, access patterns, compression, statistics and histogram, and the QC pictures. A dataset
that fails to open becomes an error on its own page (``error``), never a failure of the whole site.

Sections for lineage (issue 16), versions and the last verify result (issue 17) are filled only when the data is
there: lineage from a catalog method ``lineage(name)`` returning ``{"upstream": [...], "downstream": [...]}``,
versions from ``versions(name)`` (shown when earlier versions are kept) and the last verify from
``last_verify(name)`` (see :mod:`mdio_catalog.site.trust`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdio_catalog.localfile import tree_size
from mdio_catalog.site.export_pages import ExportPage, export_page
from mdio_catalog.site.pictures import RENDER_VERSION, Picture, render_pictures
from mdio_catalog.site.trust import last_verify_of, versions_of

if TYPE_CHECKING:
    from mdio_catalog.catalog import Catalog


@dataclass
class Dim:
    name: str
    size: int
    first: str
    last: str
    step: str
    chunk: int


@dataclass
class DatasetPage:
    """Everything one dataset's page and its index row show."""

    name: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    template: str = ""
    kind: str = ""
    state: str = ""
    reasons: list[str] = field(default_factory=list)
    output: str = ""
    upstream: str = ""
    crs: str = ""
    spec_text: str = ""
    record: dict[str, Any] | None = None
    lock_text: str = ""
    built: str = ""
    shape: list[int] = field(default_factory=list)
    size_bytes: int | None = None
    dims: list[Dim] = field(default_factory=list)
    access_patterns: dict[str, list[int] | None] = field(default_factory=dict)
    compression: dict[str, Any] = field(default_factory=dict)
    pictures: list[Picture] = field(default_factory=list)
    pictures_reused: bool = False
    lineage: dict[str, list[str]] | None = None
    versions: list[dict[str, Any]] | None = None
    verify: dict[str, Any] | None = None
    error: str = ""

    @property
    def search_text(self) -> str:
        words = [self.name, self.template, self.kind, self.upstream, self.state, self.description, *self.tags]
        return " ".join(words).lower()


Page = DatasetPage | ExportPage


def gather(
    catalog: Catalog, out: Path, *, pictures: bool = True, on_page: Callable[[str], None] | None = None
) -> list[Page]:
    """Pages of every dataset then every export, in file order (the order and the states of ``status``);
    pictures go to ``out/assets/NAME/``; ``on_page(name)`` is called after each."""
    written = {**_datasets_as_written(catalog.path), **_entries_as_written(catalog.path, "exports")}
    pages: list[Page] = []
    for status in catalog.status():  # datasets and exports, as `mdio-catalog status` lists them
        text = written.get(status.name, "")
        if status.name in catalog.spec.exports:
            pages.append(export_page(catalog, status, text))
        else:
            pages.append(_page(catalog, status, text, out, pictures))
        if on_page is not None:
            on_page(status.name)
    return pages


def _page(catalog: Catalog, status: Any, spec_text: str, out: Path, pictures: bool) -> DatasetPage:
    name = status.name
    spec = catalog.spec.datasets[name]
    page = DatasetPage(
        name=name,
        description=spec.description,
        tags=list(spec.tags),
        template=spec.template or "",
        kind=spec.kind,
        state=status.state,
        reasons=list(status.reasons),
        output=status.output or catalog.output_url(name),
        upstream=str(getattr(spec.source, "dataset", "") or ""),
        crs=catalog.get(name).crs or "",
        spec_text=spec_text,
    )
    record = status.record
    entry = _lock_entry_file(catalog, name)
    if entry is not None:
        page.lock_text = json.dumps(entry, indent=2, sort_keys=False, default=str)
    page.lineage = _lineage(catalog, name)
    page.versions = versions_of(catalog, name, entry)
    page.verify = last_verify_of(catalog, name, status.record)
    if record is None:
        return page
    page.record = record.model_dump(mode="json")
    page.built = record.finished.isoformat(timespec="seconds")
    page.shape = list(record.shape)
    page.compression = dict(record.parameters.get("compression") or {})
    page.compression.update({k: v for k, v in record.parameters.items() if "snr" in k or "psnr" in k})
    page.access_patterns = {k: list(v) if v is not None else None for k, v in spec.access_patterns.items()}
    page.size_bytes = _size_on_disk(page.output)
    if status.state == "never built" or (page.size_bytes is None and _is_local(page.output)):
        return page
    try:
        _read_dataset(catalog, page, record, out, pictures)
    except Exception as exc:  # a dataset that fails to open is an error card on its page, not a crashed site
        page.error = f"{type(exc).__name__}: {exc}"
    return page


def _read_dataset(catalog: Catalog, page: DatasetPage, record: Any, out: Path, pictures: bool) -> None:
    """Dimensions, access patterns and pictures; all taken from ``assets/NAME/pictures.json`` without opening the
    dataset while its build (spec hash, build time, output) is the one they were drawn from."""
    folder = out / "assets" / page.name
    key = hashlib.sha256(
        json.dumps([RENDER_VERSION, record.spec_hash, record.finished.isoformat(), page.output]).encode()
    ).hexdigest()
    cache = folder / "pictures.json"
    cached = _cached(cache, key, folder)
    if cached is not None and (cached["pictures"] or not pictures):
        page.dims = [Dim(**d) for d in cached["dims"]]
        for pattern in cached["patterns"]:
            page.access_patterns.setdefault(pattern, None)
        if pictures:
            page.pictures = [Picture(**p) for p in cached["pictures"]]
            page.pictures_reused = True
        return
    reader = catalog.open(page.name)
    import numpy as np

    from mdio_catalog.site.pictures import _fmt

    for dim, size, chunk in zip(reader.grid.dims, reader.shape, reader.chunks, strict=True):
        values = np.asarray(dim.coords)
        steps = np.unique(np.diff(values)) if values.size > 1 and values.dtype.kind in "iuf" else np.array([])
        step = _fmt(steps[0]) if steps.size == 1 else ("irregular" if steps.size else "")
        first = _fmt(values[0]) if values.size else ""
        last = _fmt(values[-1]) if values.size else ""
        page.dims.append(Dim(dim.name, int(size), first, last, step, int(chunk)))
    patterns = reader.access_patterns
    for pattern in patterns:
        page.access_patterns.setdefault(pattern, None)
    if pictures:
        spec = record.spec or {}
        others = [catalog.open(page.name, access_pattern=p) for p in patterns if p != reader.access_pattern]
        page.pictures = render_pictures(
            reader,
            folder,
            "",
            domain=spec.get("domain"),
            value_name=_value_name(page.kind, spec, (page.record or {}).get("statistics")),
            readers=others,
        )
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "key": key,
        "dims": [asdict(d) for d in page.dims],
        "patterns": patterns,
        "pictures": [p.to_data() for p in page.pictures],
    }
    cache.write_text(json.dumps(data), encoding="utf-8")


def _cached(cache: Path, key: str, folder: Path) -> dict[str, Any] | None:
    """The cache of this build, None when absent, of another build, damaged or missing a picture file."""
    if not cache.is_file():
        return None
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") != key or not all((folder / p["file"]).is_file() for p in data["pictures"]):
            return None
        data["dims"], data["patterns"] = list(data["dims"]), list(data["patterns"])
        return data if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged cache is redrawn


def _value_name(kind: str, spec: dict[str, Any], statistics: dict[str, Any] | None = None) -> str:
    """What the samples are: amplitude for SEG-Y whose values take both signs (a velocity model in SEG-Y, all
    positive, is a 'value'), the array's key or file name for NumPy sources."""
    if kind == "segy":
        low, high = (statistics or {}).get("min"), (statistics or {}).get("max")
        one_sign = isinstance(low, int | float) and isinstance(high, int | float) and (low >= 0 or high <= 0)
        return "value" if one_sign else "amplitude"
    source = spec.get("source") or {}
    if kind == "numpy":
        stem = Path(str(source.get("numpy") or "value")).stem
        return str(source.get("key") or stem)
    return "value"


def _lineage(catalog: Catalog, name: str) -> dict[str, list[str]] | None:
    """Upstream and downstream products of ``name`` when the catalog knows its lineage (issue 16): a
    ``lineage(name)`` mapping, or a ``graph()`` / ``lineage_graph()`` with ``upstream``/``downstream`` and
    ``nodes`` (see catalog/graph.py); None otherwise, and the page leaves the section out."""
    try:
        method = getattr(catalog, "lineage", None)
        if callable(method):
            found = method(name)
            up, down = list(found.get("upstream") or []), list(found.get("downstream") or [])
        else:
            maker = getattr(catalog, "graph", None) or getattr(catalog, "lineage_graph", None)
            if not callable(maker):
                return None
            graph = maker()
            nodes = getattr(graph, "nodes", {})
            products = {n for n, node in nodes.items() if getattr(node, "kind", "dataset") in ("dataset", "export")}
            up = [n for n in graph.upstream(name) if n in products]
            down = [n for n in graph.downstream(name) if n in products]
    except Exception:  # lineage is optional decoration: a failure leaves the section out, never the page
        return None
    return {"upstream": up, "downstream": down} if up or down else None


def _lock_entry_file(catalog: Catalog, name: str) -> dict[str, Any] | None:
    folder = catalog.lock_path
    if folder is None:
        return None
    path = Path(folder) / f"{name}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else None
        except ValueError:
            return None
    record = catalog.lock_entry(name)  # an older single catalog.lock
    return {"current": record.model_dump(mode="json")} if record is not None else None


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _size_on_disk(url: str) -> int | None:
    """Bytes under a local dataset folder (None for object stores and missing outputs)."""
    if not _is_local(url):
        return None
    path = Path(url.removeprefix("file://"))
    return tree_size(path) if path.is_dir() else None


_KEY = re.compile(r"^(\s+)([\"']?)([A-Za-z0-9_.\-]+)\2\s*:")


def _datasets_as_written(path: Path | None) -> dict[str, str]:
    """The text of each dataset entry in a YAML catalog file, comments included (empty for JSON or flow style)."""
    return _entries_as_written(path, "datasets")


def _entries_as_written(path: Path | None, section: str) -> dict[str, str]:
    """The text of each entry of a top-level ``section`` (datasets, exports) of a YAML catalog file."""
    if path is None or not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    heading = re.compile(rf"^{re.escape(section)}\s*:\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if heading.match(line)), None)
    if start is None:
        return {}
    indent: int | None = None
    current: str | None = None
    block: list[str] = []
    for line in [*lines[start + 1 :], "end:"]:
        stripped = line.strip()
        width = len(line) - len(line.lstrip())
        if stripped and width == 0:  # the next top-level key or a column-0 comment ends the datasets
            break
        if not stripped or stripped.startswith("#"):
            if current is not None:
                block.append(line[indent or 0 :])
            continue
        match = _KEY.match(line)
        if indent is None and match:
            indent = width
        if width == indent and match:
            if current is not None:
                found[current] = "\n".join(block).rstrip()
            current, block = match.group(3), [line[width:]]
        elif current is not None:
            block.append(line[indent or 0 :] if len(line) >= (indent or 0) else line)
    if current is not None:
        found[current] = "\n".join(block).rstrip()
    return found
