"""Scan a SEG-Y file from its path: open it (the obsolete sample format 4 included), summarise, propose.

The only part of the scan package that opens files; the catalog's spec proposal
(:mod:`mdio_catalog.catalog.proposal`) builds on :func:`scan_path`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdio_catalog.exceptions import SegyFormatError
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.scan.geometry import GeometryProposal, propose_geometry
from mdio_catalog.segy.scan.sample import DEFAULT_MAX_TRACES, Endian
from mdio_catalog.segy.scan.summary import HeaderSummary, scan_headers
from mdio_catalog.segy.source import open_source


def scan_path(
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    endian: Endian | None = None,
    sample_format: int | str | None = None,
    max_traces: int = DEFAULT_MAX_TRACES,
) -> tuple[HeaderSummary, GeometryProposal]:
    """Open ``path``, scan its headers and propose a geometry. A file labelled with the obsolete sample format 4
    is opened as a 4-byte format and its samples decide which. Unreadable files raise the reader's errors
    (SegyTruncatedError, SegyFormatError, ...)."""
    declared: int | None = None
    try:
        segy = SegyFile(path, storage_options=storage_options, endian=endian, sample_format=sample_format)
    except SegyFormatError:
        if sample_format is not None or _declared_format(path, storage_options) != 4:
            raise
        declared = 4
        segy = SegyFile(path, storage_options=storage_options, endian=endian, sample_format=1)
    with segy:
        summary = scan_headers(segy, max_traces, declared_format=declared)
    return summary, propose_geometry(summary)


def _declared_format(path: str, storage_options: Mapping[str, Any] | None) -> int | None:
    source = open_source(path, storage_options)
    try:
        word = source.read(3224, 2)
    finally:
        source.close()
    if len(word) != 2:
        return None
    codes = {int.from_bytes(word, "big", signed=True), int.from_bytes(word, "little", signed=True)}
    return 4 if 4 in codes else None
