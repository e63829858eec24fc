"""mdio_to_segy: export an MDIO dataset back to SEG-Y, streamed in bounded memory, in grid (C) order.

Every selected live cell gets its rank in C order before anything is written, so each chunk-aligned block of
the grid is read, encoded and written at its final offsets independently (threads, or a dask cluster when a
``client`` is given) into a preallocated file that is renamed into place only when complete. The file header is
the one stored at ingestion (byte for byte, re-encoded only for a change of byte order); samples are encoded in
the stored sample format, so IBM and IEEE inputs come back bit for bit; what the v0 layout cannot hold comes back
from our own arrays (``converters/segy_exact.py``): rev 2 additional trace headers, the bits of unnormalised IBM
words, and samples stored in their format's own dtype.
"""

from __future__ import annotations

import base64
import os
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.api.accessor import MDIOReader
from mdio_catalog.converters.segy_blocks import spatial_blocks
from mdio_catalog.converters.segy_exact import IbmRestore, additional_headers, exact_export_parts
from mdio_catalog.core import layout
from mdio_catalog.core.cluster import OperationCache, run_tasks
from mdio_catalog.core.headers import (
    BINARY_HEADER_FIELDS,
    FILE_HEADER_SIZE,
    TEXT_HEADER_SIZE,
    TRACE_HEADER_DTYPE,
    TRACE_HEADER_SIZE,
)
from mdio_catalog.core.headers import trace_header_dtype as standard_header_dtype
from mdio_catalog.core.store import storage_errors
from mdio_catalog.exceptions import ExportError, ShapeError
from mdio_catalog.localfile import check_output_name
from mdio_catalog.segy.binary_header import encode_binary_header, parse_binary_header
from mdio_catalog.segy.formats import SAMPLE_FORMATS, encode_samples, get_format
from mdio_catalog.segy.ibm import float_to_ibm
from mdio_catalog.segy.text_header import encode_text_header
from mdio_catalog.segy.writer import SegyWriter
from mdio_catalog.settings import get_settings

Endian = Literal["big", "little"]
Block = tuple[slice, ...]
#: Formats whose values float32 does not always hold exactly (integers wider than 24 bits).
_WIDE_INTEGER_FORMATS = {2: 2**24, 9: 2**24, 10: 2**24, 12: 2**24}
_BINARY_NAMES = {name for name, _, _ in BINARY_HEADER_FIELDS}


@dataclass(frozen=True)
class _IntRange:
    min: int
    max: int


_INT24 = {"i": _IntRange(-(2**23), 2**23 - 1), "u": _IntRange(0, 2**24 - 1)}


class ExportPrecisionWarning(UserWarning):
    """The export cannot give back the source's bytes: samples rounded to float32, unnormalised IBM words too many
    to keep, or additional trace headers left out."""


@dataclass(frozen=True)
class ExportPlan:
    """Everything a worker needs to export one block (picklable for a dask cluster)."""

    url: str
    storage_options: Mapping[str, Any]
    access_pattern: str
    selected: npt.NDArray[np.bool_]  # live & selection, spatial shape
    row_offsets: npt.NDArray[np.int64]  # rank of the first selected cell of each row (spatial shape[:-1])
    sample_format: int
    endian: Endian
    n_samples: int
    token: str = ""  # identifies one export, so cluster workers open the dataset once per export
    #: For datasets that did not come from SEG-Y: header words to fill where the stored header is zero, from
    #: the grid (``{field: coordinates of the dimension}``) and constants (sample count and interval).
    fill_from_grid: tuple[tuple[str | None, npt.NDArray[Any]], ...] | None = None
    fill_constants: Mapping[str, int] | None = None
    #: Bytes of rev 2 additional trace headers after each standard one (0: none exported).
    extra_header_size: int = 0
    #: The source's unnormalised IBM words, put back where the stored values are still theirs.
    ibm: IbmRestore | None = None

    @property
    def trace_size(self) -> int:
        return TRACE_HEADER_SIZE + self.extra_header_size + self.n_samples * get_format(self.sample_format).itemsize


def _row_offsets(selected: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    per_row = selected.sum(axis=-1, dtype=np.int64).ravel()
    offsets = np.zeros(per_row.size, dtype=np.int64)
    np.cumsum(per_row[:-1], out=offsets[1:])
    return offsets.reshape(selected.shape[:-1])


def header_bytes(headers: np.ndarray, endian: Endian) -> npt.NDArray[np.uint8]:
    """Stored trace headers as raw 240-byte SEG-Y headers in ``endian`` order."""
    disk = standard_header_dtype(">" if endian == "big" else "<")
    if headers.dtype.names == TRACE_HEADER_DTYPE.names and headers.dtype.itemsize == TRACE_HEADER_SIZE:
        converted = headers.astype(disk)
    else:  # a custom header dtype (numpy_to_mdio): copy the standard fields it has, zeros elsewhere
        converted = np.zeros(headers.shape, dtype=disk)
        for name in headers.dtype.names or ():
            if name in (disk.names or ()):
                converted[name] = headers[name]
    return converted.view(np.uint8).reshape(-1, TRACE_HEADER_SIZE)


def export_block(
    plan: ExportPlan, block: Block, reader: MDIOReader | None = None
) -> list[tuple[int, npt.NDArray[np.uint8]]]:
    """Read and encode one block; return ``(first trace number, records)`` runs, one per grid row."""
    selected = plan.selected[block]
    if not selected.any():
        return []
    reader = reader or _worker_reader(plan)
    traces = reader.read_region((*block, slice(None)), parallel=False)
    headers = reader.read_header_region(block, parallel=False)
    everything = bool(selected.all())  # the common case: views instead of masked copies
    live_traces = traces.reshape(-1, traces.shape[-1]) if everything else traces[selected]
    records = np.empty((live_traces.shape[0], plan.trace_size), dtype=np.uint8)
    if plan.fill_from_grid or plan.fill_constants:
        headers = _fill_headers(headers, block, plan)
    records[:, :TRACE_HEADER_SIZE] = header_bytes(headers.reshape(-1) if everything else headers[selected], plan.endian)
    first_sample = TRACE_HEADER_SIZE + plan.extra_header_size
    if plan.extra_header_size:  # raw bytes, in the source's byte order (which is the export's: see mdio_to_segy)
        extra = additional_headers(reader.root)
        assert extra is not None  # the plan asks for them only when the dataset has them
        kept = np.asarray(extra[block])
        records[:, TRACE_HEADER_SIZE:first_sample] = kept.reshape(-1, kept.shape[-1]) if everything else kept[selected]
    _encode_into(records[:, first_sample:], live_traces, plan.sample_format, plan.endian)
    if plan.ibm is not None:
        plan.ibm.apply(records[:, first_sample:], block, selected, ">" if plan.endian == "big" else "<")
    # Rank of the first selected cell of each row of the block: the row's offset plus the selected cells of the
    # row that lie before the block.
    start = block[-1].start
    rows = plan.selected[(*block[:-1], slice(0, start))].sum(axis=-1, dtype=np.int64) if start else 0
    firsts = (plan.row_offsets[block[:-1]] + rows).ravel()
    counts = selected.sum(axis=-1).ravel()
    runs = []
    position = 0
    for first, count in zip(firsts.tolist(), counts.tolist(), strict=True):
        if count:
            runs.append((first, records[position : position + count]))
            position += count
    return runs


def _encode_into(target: npt.NDArray[np.uint8], samples: np.ndarray, sample_format: int, endian: Endian) -> None:
    """Encode samples straight into the sample bytes of the records (IBM and IEEE float: no temporary bytes)."""
    order = ">" if endian == "big" else "<"
    if sample_format == 1:
        target.view(f"{order}u4")[...] = float_to_ibm(samples)
    elif sample_format == 5:
        target.view(f"{order}f4")[...] = samples
    else:
        # Integer formats saturate instead of failing: float32 rounding can push the largest uint32/uint64 words
        # one step past the range, and mdio_to_segy warns beforehand when the statistics show values outside it.
        target[...] = encode_samples(samples, sample_format, endian, clip=True)


def _fill_headers(headers: np.ndarray, block: Block, plan: ExportPlan) -> np.ndarray:
    """Give synthetic datasets usable trace headers: index words from the grid and the sample count/interval."""
    filled = np.zeros(headers.shape, dtype=TRACE_HEADER_DTYPE)
    for name in headers.dtype.names or ():
        if name in (TRACE_HEADER_DTYPE.names or ()):
            filled[name] = headers[name]
    for axis, (field, coords) in enumerate(plan.fill_from_grid or ()):
        if field is None:
            continue
        values = np.asarray(coords)[block[axis]]
        shape = [1] * len(block)
        shape[axis] = values.size
        column = np.broadcast_to(values.reshape(shape), filled.shape)
        filled[field] = np.where(filled[field] == 0, column, filled[field])
    for name, value in (plan.fill_constants or {}).items():
        filled[name] = np.where(filled[name] == 0, value, filled[name])
    return filled


def _grid_fill(
    reader: MDIOReader,
) -> tuple[tuple[tuple[str | None, npt.NDArray[Any]], ...], dict[str, int]] | None:
    """For datasets not made from SEG-Y: which header words the grid can fill (dimension names that are standard
    trace-header fields, e.g. inline/crossline/cdp_x) and the per-trace sample count and interval."""
    segy = (reader.metadata_attrs.get(layout.ATTR_CATALOG) or {}).get("segy")
    if segy:
        return None
    standard = set(TRACE_HEADER_DTYPE.names or ())
    by_axis = tuple((dim.name if dim.name in standard else None, dim.values) for dim in reader.grid.dims[:-1])
    interval = int(reader.binary_header.get("sample_interval") or 0)
    constants = {"samples_per_trace": reader.shape[-1] if reader.shape[-1] < 2**15 else 0}
    if 0 < interval < 2**15:
        constants["sample_interval"] = interval
    return by_axis, constants


_WORKER_READER: OperationCache[MDIOReader] = OperationCache()


def _worker_reader(plan: ExportPlan) -> MDIOReader:
    """The reader of the export in progress, opened once per process (the caller's own reader locally)."""
    return _WORKER_READER.get(
        plan.token,
        lambda: MDIOReader(plan.url, access_pattern=plan.access_pattern, storage_options=dict(plan.storage_options)),
    )


def file_header(reader: MDIOReader, endian: Endian, sample_format: int, extra_headers: bool = False) -> bytes:
    """The SEG-Y file header: the stored original when there is one, else built from the v0 attributes.
    ``extra_headers``: the export writes the source's rev 2 additional trace headers, so the binary header
    keeps announcing them."""
    meta = reader.metadata_attrs
    segy = (meta.get(layout.ATTR_CATALOG) or {}).get("segy") or {}
    if "file_header" in segy:
        raw = base64.b64decode(segy["file_header"])
        source_endian = segy.get("endian", "big")
        binary = raw[TEXT_HEADER_SIZE:FILE_HEADER_SIZE]
        if not extra_headers:
            binary = _without_extra_trace_headers(binary, source_endian)
        if source_endian != endian:
            values = parse_binary_header(binary, source_endian)
            binary = encode_binary_header(values, endian, original=binary)
        return raw[:TEXT_HEADER_SIZE] + binary + raw[FILE_HEADER_SIZE:]
    values = {k: v for k, v in reader.binary_header.items() if isinstance(v, int)}
    values.update(
        samples_per_trace=reader.shape[-1],
        data_sample_format=sample_format,
        num_extended_text_headers=0,
        extended_samples_per_trace=0,
    )
    if values.get("segy_revision_major", 0) >= 2 or endian == "little":
        values["byte_order"] = 16909060  # rev 2 byte-order constant: readers detect little-endian files by it
        values["segy_revision_major"] = max(2, int(values.get("segy_revision_major", 0)))
    known = {k: v for k, v in values.items() if k in _BINARY_NAMES}
    return encode_text_header(reader.text_header) + encode_binary_header(known, endian)


#: Rev 2 binary-header bytes 3507-3508: additional 240-byte trace headers per trace.
_EXTRA_HEADERS = slice(3507 - TEXT_HEADER_SIZE - 1, 3509 - TEXT_HEADER_SIZE - 1)


def _without_extra_trace_headers(binary: bytes, endian: str) -> bytes:
    """An export without the rev 2 additional trace headers (a dataset that lost them, or an export in the other
    byte order, which their unknown layout cannot be converted to) must not announce them, or readers would
    misplace every trace."""
    count = int.from_bytes(binary[_EXTRA_HEADERS], "big" if endian == "big" else "little")
    if count == 0:
        return binary
    warnings.warn(
        f"The source had {count} additional 240-byte trace header(s) per trace; this export has none (they are "
        "kept as raw bytes in the source's byte order, and exported only in that order from a dataset holding them).",
        ExportPrecisionWarning,
        stacklevel=4,
    )
    patched = bytearray(binary)
    patched[_EXTRA_HEADERS] = b"\x00\x00"
    return bytes(patched)


def _stored_sample_format(reader: MDIOReader) -> int:
    meta = reader.metadata_attrs
    segy = (meta.get(layout.ATTR_CATALOG) or {}).get("segy") or {}
    code = int(segy.get("sample_format") or reader.binary_header.get("data_sample_format") or 5)
    return code if code in SAMPLE_FORMATS else 5


def _warn_on_precision(reader: MDIOReader, sample_format: int) -> None:
    stats = reader.stats
    if stats.get("max") is None:
        return
    low, high = float(stats["min"] or 0), float(stats["max"] or 0)
    fmt = get_format(sample_format)
    segy = (reader.metadata_attrs.get(layout.ATTR_CATALOG) or {}).get("segy") or {}
    if segy.get("unnormalised_ibm") and not segy.get("unnormalised_ibm_kept"):
        warnings.warn(
            f"{segy['unnormalised_ibm']} sample words of the source were unnormalised IBM floats whose bits were not "
            "kept (too many, or left out of a copy): they are exported normalised (the same values, other bits).",
            ExportPrecisionWarning,
            stacklevel=3,
        )
    if reader.dtype == fmt.dtype:  # stored in the format's own dtype: every sample is exact and in range
        return
    if fmt.dtype.kind in "iu":
        info = np.iinfo(fmt.dtype) if fmt.storage is not None else _INT24[fmt.dtype.kind]
        if low < info.min or high > info.max:
            warnings.warn(
                f"Samples span {low:g}..{high:g}, outside the range of sample format {sample_format} "
                f"({fmt.name}); they are clipped to it on export.",
                ExportPrecisionWarning,
                stacklevel=3,
            )
    if "inexact_samples" in segy:  # counted sample by sample at ingestion
        if segy["inexact_samples"]:
            warnings.warn(
                f"{segy['inexact_samples']} samples of the source (format {sample_format}) did not fit float32 "
                "exactly (it holds integers only up to 2^24, and float64 only to float32 precision); the export "
                "differs from the source by rounding there.",
                ExportPrecisionWarning,
                stacklevel=3,
            )
        return
    limit = _WIDE_INTEGER_FORMATS.get(sample_format)
    largest = max(abs(low), abs(high))
    if limit is not None and largest > limit:
        warnings.warn(
            f"Samples reach {largest:g}, beyond 2^24: float32 storage cannot hold every integer of sample format "
            f"{sample_format} exactly, so exported samples may differ from the source by rounding.",
            ExportPrecisionWarning,
            stacklevel=3,
        )


def mdio_to_segy(
    mdio_path_or_buffer: str | os.PathLike[str],
    output_segy_path: str | os.PathLike[str],
    endian: str = "big",
    access_pattern: str = "012",
    storage_options: dict[str, Any] | None = None,
    new_chunks: tuple[int, ...] | None = None,
    selection_mask: npt.NDArray[np.bool_] | None = None,
    client: Any = None,
) -> None:
    """Export an MDIO dataset to a local SEG-Y file.

    Traces are written in grid (C) order, dead cells skipped; ``selection_mask`` (the grid's shape without the
    sample axis) further restricts them. ``new_chunks`` sets the block of work (default: the stored chunks);
    ``client`` (a ``distributed.Client``) runs the reading and encoding on that cluster.
    """
    if endian not in ("big", "little"):
        raise ExportError(f"endian must be 'big' or 'little', got {endian!r}.")
    byte_order: Endian = "big" if endian == "big" else "little"
    check_output_name(output_segy_path)
    reader = MDIOReader(mdio_path_or_buffer, access_pattern=access_pattern, storage_options=storage_options)
    spatial = reader.grid.spatial_shape
    with storage_errors(reader.url):  # a damaged mask chunk is MDIOFormatError, not a codec's RuntimeError
        live = np.asarray(reader.live_mask[...], dtype=bool)
    if selection_mask is not None:
        mask = np.asarray(selection_mask)
        if mask.shape != spatial:
            raise ShapeError(f"selection_mask has shape {mask.shape}; the grid without samples is {spatial}.")
        live = live & mask.astype(bool)
    n_traces = int(live.sum())
    if n_traces == 0:
        raise ExportError("Nothing to export: the selection (and live mask) selects no trace.")
    block_shape = _block_shape(reader, new_chunks)
    sample_format = _stored_sample_format(reader)
    _warn_on_precision(reader, sample_format)
    fill = _grid_fill(reader)
    extra_size, ibm = exact_export_parts(reader, byte_order, block_shape)
    plan = ExportPlan(
        url=reader.url,
        storage_options=dict(storage_options or {}),
        access_pattern=access_pattern,
        selected=live,
        row_offsets=_row_offsets(live),
        sample_format=sample_format,
        endian=byte_order,
        n_samples=reader.shape[-1],
        token=uuid.uuid4().hex,
        fill_from_grid=fill[0] if fill else None,
        fill_constants=fill[1] if fill else None,
        extra_header_size=extra_size,
        ibm=ibm if sample_format == 1 else None,
    )
    header = file_header(reader, byte_order, sample_format, extra_headers=extra_size > 0)
    _WORKER_READER.put(plan.token, reader)  # this process's threads read through the reader opened above
    try:
        with SegyWriter(output_segy_path, header, plan.trace_size, n_traces) as writer:
            blocks = list(spatial_blocks(spatial, block_shape))
            tasks = run_tasks(
                export_block, blocks, shared=(plan,), client=client, workers=get_settings().workers,
                total=len(blocks), description="Exporting traces", unit="chunk",
            )  # fmt: skip
            for runs in tasks:
                for first, records in runs:
                    writer.write_traces(first, records)
            writer.commit()
    finally:
        _WORKER_READER.drop(plan.token)


def _block_shape(reader: MDIOReader, new_chunks: Sequence[int] | None) -> tuple[int, ...]:
    if new_chunks is None:
        return tuple(reader.chunks[:-1])
    if len(new_chunks) != reader.n_dim:
        raise ShapeError(f"new_chunks {tuple(new_chunks)} must have {reader.n_dim} entries (one per dimension).")
    return tuple(int(c) if c and c > 0 else n for c, n in zip(new_chunks[:-1], reader.shape, strict=False))
