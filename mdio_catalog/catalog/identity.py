"""Who a source is, cheaply: size, modification time or ETag, and hashes of the file header and of a sample of
trace headers. Enough to notice a replaced or edited file without reading a terabyte."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from mdio_catalog.core.headers import FILE_HEADER_SIZE
from mdio_catalog.core.store import Location, storage_errors
from mdio_catalog.exceptions import MDIOError, MDIONotFoundError, NotRegularFileError, NumpySourceError
from mdio_catalog.localfile import check_regular_file, local_path
from mdio_catalog.specs.provenance import SourceIdentity
from mdio_catalog.specs.sources import SourceKind

#: Trace headers hashed per SEG-Y source, spread evenly over the file (first and last included).
SAMPLED_TRACES = 64
#: Bytes hashed at each end of a NumPy source.
NUMPY_HASHED_BYTES = 1 << 20


def _mtime(info: Mapping[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "updated", "last_modified"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
    return None


def _etag(info: Mapping[str, Any]) -> str | None:
    for key in ("ETag", "etag", "generation", "md5Hash"):
        if info.get(key):
            return str(info[key]).strip('"')
    return None


def source_identity(
    kind: SourceKind,
    url: str | None,
    storage_options: Mapping[str, Any] | None = None,
    open_options: Mapping[str, Any] | None = None,
) -> SourceIdentity:
    """The identity of a source now (raises MDIONotFoundError when it is missing). ``open_options`` are the
    SEG-Y reader's ``endian``/``sample_format`` overrides of mislabelled files."""
    if kind == "empty" or url is None:
        return SourceIdentity(kind=kind)
    if kind == "dataset":  # the upstream's output; whether it changed is the lineage's question (its lock entry)
        return SourceIdentity(kind=kind, url=url)
    path = local_path(url)
    # A FIFO would block the reads below forever; a symlink loop breaks Location.of.
    if path is not None and os.path.lexists(path):
        check_regular_file(path, "SEG-Y file" if kind == "segy" else "NumPy source")
    location = Location.of(url, storage_options)
    fs, location_path = location.filesystem()
    with storage_errors(location):
        if not fs.exists(location_path):
            raise MDIONotFoundError(f"Source {url} does not exist.")
        info = fs.info(location_path)
        size = int(info.get("size") or 0)
        if kind == "segy":
            header, trace_hash, sampled = _segy_hashes(url, storage_options, open_options or {})
        else:
            with fs.open(location_path, "rb") as handle:
                head = handle.read(NUMPY_HASHED_BYTES)
                handle.seek(max(size - NUMPY_HASHED_BYTES, 0))
                tail = handle.read(NUMPY_HASHED_BYTES)
            header, trace_hash, sampled = hashlib.sha256(head + tail).hexdigest(), None, None
    return SourceIdentity(
        kind=kind,
        url=url,
        size=size,
        mtime=_mtime(info),
        etag=_etag(info),
        header_hash=header,
        trace_header_hash=trace_hash,
        sampled_traces=sampled,
    )


def source_problem(
    source: Any, url: str, storage_options: Mapping[str, Any] | None = None
) -> tuple[type[MDIOError], str] | None:
    """Why the source at ``url`` cannot be built from, checked cheaply before anything is written (None when it
    can): missing, not a regular file (a FIFO, a device, a symlink loop), a NumPy array that needs pickle."""
    from mdio_catalog.converters.numpy import check_numpy_file
    from mdio_catalog.specs.sources import NumpySource

    path = local_path(url)
    try:
        if path is not None and os.path.lexists(path):
            check_regular_file(path, "source")
        location = Location.of(url, storage_options)
        fs, fs_path = location.filesystem()
        with storage_errors(location):
            if not fs.exists(fs_path):
                return MDIONotFoundError, f"source {url} does not exist"
        if isinstance(source, NumpySource):
            check_numpy_file(url, storage_options, source.key)
    except (NotRegularFileError, NumpySourceError) as exc:
        return type(exc), str(exc)
    return None


def _segy_hashes(
    url: str, storage_options: Mapping[str, Any] | None, open_options: Mapping[str, Any]
) -> tuple[str, str | None, int | None]:
    from mdio_catalog.segy.reader import SegyFile

    overrides = {k: v for k, v in open_options.items() if v is not None}
    with SegyFile(url, storage_options=storage_options, **overrides) as segy:
        header = hashlib.sha256(segy.raw_file_header[:FILE_HEADER_SIZE]).hexdigest()
        if segy.n_traces == 0:
            return header, None, 0
        picks = np.unique(np.linspace(0, segy.n_traces - 1, min(SAMPLED_TRACES, segy.n_traces)).astype(np.int64))
        digest = hashlib.sha256()
        for index in picks.tolist():
            digest.update(segy.raw_trace_headers(index, index + 1).tobytes())
        return header, digest.hexdigest(), int(picks.size)


def identity_changes(before: SourceIdentity, now: SourceIdentity) -> list[str]:
    """Human-readable differences between two identities of the same source (empty when unchanged)."""
    changes = []
    if before.url != now.url:
        changes.append(f"source moved from {before.url} to {now.url}")
    if before.size != now.size:
        changes.append(f"source size changed ({before.size} -> {now.size} bytes)")
    if before.header_hash != now.header_hash:
        changes.append("source file header changed")
    if before.trace_header_hash != now.trace_header_hash:
        changes.append("source trace headers changed")
    if before.etag and now.etag and before.etag != now.etag:
        changes.append("source ETag changed")
    elif not changes and before.mtime and now.mtime and before.mtime != now.mtime:
        changes.append(f"source modified ({before.mtime.isoformat()} -> {now.mtime.isoformat()})")
    return changes
