"""SEG-Y deliveries as catalog products: built from a dataset's published output, recorded, checked for staleness.

An export is written by :func:`~mdio_catalog.converters.mdio_to_segy.mdio_to_segy`, which stages a partial file
beside the target and renames it into place when complete (an object-store path is written to a local partial
file and uploaded as one object: a PUT is visible only when whole). Its lock entry is a provenance record whose
``parameters.export`` holds the path, byte order, size and SHA-256 of the file, and whose ``derived_from`` names
the dataset build it came from; its status compares those with the spec and the file as it is now.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdio_catalog.catalog.lineage import derived_from
from mdio_catalog.catalog.status import DatasetStatus
from mdio_catalog.core.store import Location, storage_errors
from mdio_catalog.exceptions import ForeignContentError
from mdio_catalog.specs.catalog import is_url, redact_storage_options
from mdio_catalog.specs.derived import ExportSpec
from mdio_catalog.specs.provenance import GitProvenance, ProvenanceRecord, SourceIdentity

if TYPE_CHECKING:
    from mdio_catalog.catalog.catalog import Catalog

#: Bumped when what the export hash covers changes.
EXPORT_HASH_VERSION = 1
_READ_BYTES = 8 << 20


def export_hash(export: ExportSpec) -> str:
    """SHA-256 of what changes the file's bytes (the dataset and the byte order; not where it goes or how)."""
    payload = {"export_hash_version": EXPORT_HASH_VERSION, "dataset": export.dataset, "endian": export.endian}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _remote(url: str) -> bool:
    return is_url(url) and not url.startswith("file://")


def _size_and_digest(url: str, options: dict[str, Any]) -> tuple[int, str]:
    location = Location.of(url, options)
    fs, path = location.filesystem()
    digest = hashlib.sha256()
    size = 0
    with storage_errors(location), fs.open(path, "rb") as handle:
        while block := handle.read(_READ_BYTES):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _size(url: str, options: dict[str, Any]) -> int | None:
    """The file's size now, None when it is missing (one stat or HEAD: status never reads the whole file)."""
    if not _remote(url):
        try:
            return os.stat(url.removeprefix("file://")).st_size
        except FileNotFoundError:
            return None
    location = Location.of(url, options)
    fs, path = location.filesystem()
    with storage_errors(location):
        return int(fs.info(path)["size"]) if fs.exists(path) else None


def export_status(catalog: Catalog, name: str) -> DatasetStatus:
    """Fresh when the lock has an entry for the same spec and the file still has its recorded size (whether the
    upstream changed is decided with the datasets' status, by the lineage)."""
    url = catalog.spec.export_url(name, catalog.base)
    record = catalog.lock_entry(name)
    if record is None:
        return DatasetStatus(name, "never built", ["no entry in catalog.lock"], url)
    reasons = []
    if record.spec_hash != export_hash(catalog.spec.exports[name]):
        reasons.append("spec changed since the build")
    recorded = record.parameters.get("export", {})
    size = _size(url, catalog.spec.export_storage_options(name, catalog.env))
    if size is None:
        reasons.append("output missing")
    elif size != recorded.get("size"):
        reasons.append(f"output modified: {size} bytes, {recorded.get('size')} when built")
    return DatasetStatus(name, "stale" if reasons else "fresh", reasons, url, record)


def build_export(
    catalog: Catalog,
    name: str,
    upstream: ProvenanceRecord,
    *,
    client: Any = None,
    force: bool = False,
    git: GitProvenance | None = None,
) -> ProvenanceRecord:
    """Write export ``name`` from its dataset's published output (``upstream``: that dataset's lock entry) and
    record it in the lock. A file at the path that this export did not write is refused (``force``: renamed aside
    and kept when local). ``git``: the spec's git state, recorded as given."""
    from mdio_catalog.catalog.build import check_no_links
    from mdio_catalog.converters.mdio_to_segy import mdio_to_segy

    export = catalog.spec.exports[name]
    started = datetime.now(UTC)
    source_url = catalog.output_url(export.dataset)
    source_options = catalog.spec.root_storage_options(catalog.env) or None
    url = catalog.spec.export_url(name, catalog.base)
    options = catalog.spec.export_storage_options(name, catalog.env)
    _check_owned(catalog, name, url, options, force)
    if _remote(url):
        with tempfile.TemporaryDirectory(prefix="mdio-catalog-export-") as folder:
            local = os.path.join(folder, os.path.basename(url.rstrip("/")) or "export.sgy")
            mdio_to_segy(source_url, local, endian=export.endian, storage_options=source_options, client=client)
            location = Location.of(url, options)
            fs, path = location.filesystem()
            with storage_errors(location):
                fs.put_file(local, path)
    else:
        check_no_links(catalog.spec.root_url(catalog.base), url)
        os.makedirs(os.path.dirname(url), exist_ok=True)
        mdio_to_segy(source_url, url, endian=export.endian, storage_options=source_options, client=client)
    size, sha256 = _size_and_digest(url, options)
    record = ProvenanceRecord(
        dataset=name,
        spec_hash=export_hash(export),
        spec=redact_storage_options(export.to_data(exclude_defaults=False)),
        source=SourceIdentity(kind="dataset", url=source_url),
        parameters={"export": {"path": export.path, "endian": export.endian, "size": size, "sha256": sha256}},
        started=started,
        finished=datetime.now(UTC),
        dimensions=upstream.dimensions,
        shape=upstream.shape,
        trace_count=upstream.trace_count,
        output=url,
        derived_from=derived_from(export.dataset, upstream),
        git=git,
    )
    if catalog._locks is not None:
        catalog._locks.write(record)
    return record


def _check_owned(catalog: Catalog, name: str, url: str, options: dict[str, Any], force: bool) -> None:
    """A file at the path is replaced only when it is this export's last build (its recorded size)."""
    size = _size(url, options)
    if size is None:
        return
    record = catalog.lock_entry(name)
    if record is not None and record.parameters.get("export", {}).get("size") == size:
        return
    if force and not _remote(url):
        from mdio_catalog.core.publish.swap import move_aside

        move_aside(Path(url))
        return
    raise ForeignContentError(
        f"export {name!r}: {url} holds a file this catalog did not write; nothing was changed "
        "(move it away, or build --force to rename it aside)."
    )
