"""Export pages of the catalog site: one per SEG-Y delivery (``exports:`` in the catalog file).

An export is a file, not a dataset: its page shows the state (the same ``status`` the CLI prints), the spec as
written, the upstream dataset (linked), where the file is, its byte order, its size and the SHA-256 recorded when
it was written, and the lineage neighbourhood. Nothing is read but the lock entry and one ``stat`` of a local file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdio_catalog.catalog import Catalog

EXPORT_KIND = "export"


@dataclass
class ExportPage:
    """Everything one export's page and its index row show."""

    name: str
    dataset: str
    path: str
    output: str
    endian: str
    description: str = ""
    state: str = ""
    reasons: list[str] = field(default_factory=list)
    spec_text: str = ""
    record: dict[str, Any] | None = None
    lock_text: str = ""
    built: str = ""
    shape: list[int] = field(default_factory=list)
    size_bytes: int | None = None
    recorded_size: int | None = None
    sha256: str = ""
    lineage: dict[str, list[str]] | None = None
    kind: str = EXPORT_KIND
    template: str = ""
    tags: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def search_text(self) -> str:
        words = [self.name, self.kind, "segy", self.dataset, self.state, self.description, self.path]
        return " ".join(words).lower()


def export_page(catalog: Catalog, status: Any, spec_text: str) -> ExportPage:
    """The page of export ``status.name`` from its spec, its status and its lock entry."""
    from mdio_catalog.site.model import _lineage, _lock_entry_file

    name = status.name
    spec = catalog.spec.exports[name]
    page = ExportPage(
        name=name,
        dataset=spec.dataset,
        path=spec.path,
        output=status.output or catalog.spec.export_url(name, catalog.base),
        endian=spec.endian,
        description=spec.description,
        state=status.state,
        reasons=list(status.reasons),
        spec_text=spec_text,
    )
    entry = _lock_entry_file(catalog, name)
    if entry is not None:
        page.lock_text = json.dumps(entry, indent=2, sort_keys=False, default=str)
    page.lineage = _lineage(catalog, name)
    page.size_bytes = _file_size(page.output)
    record = status.record
    if record is None:
        return page
    page.record = record.model_dump(mode="json")
    page.built = record.finished.isoformat(timespec="seconds")
    page.shape = list(record.shape)
    recorded = record.parameters.get("export") or {}
    page.recorded_size = recorded.get("size")
    page.sha256 = str(recorded.get("sha256") or "")
    if page.size_bytes is None and "output missing" not in page.reasons:
        page.size_bytes = page.recorded_size  # an object-store file: its size as recorded (status checked it)
    return page


def _file_size(url: str) -> int | None:
    """The size of a local file now (None for object stores and missing files: no request from the site)."""
    if "://" in url and not url.startswith("file://"):
        return None
    try:
        return os.stat(url.removeprefix("file://")).st_size
    except OSError:
        return None
