"""``segy scan``: what a SEG-Y file holds, how to index it, and a ready ingestion spec.

Three pure steps over an open :class:`~mdio_catalog.segy.reader.SegyFile`:

1. :func:`scan_headers` reads the standard 240-byte trace headers (every trace of small files; evenly spaced
   blocks of consecutive traces of large ones, up to ``max_traces``) and summarises every standard word
   (min/max, distinct values, constant, monotonic, examples) together with the file's facts (sample format and a
   check of it, byte order, sample interval, revision, text encoding, layout notes).
2. :func:`propose_geometry` tries index candidates - standard bytes first (inline/crossline 189/193, CDP 21,
   offset 37, field record 9, source point 17, channel 13, cable 137/213/217, trace sequence 5/1) - builds the
   grid of each on the header columns the same way ingestion does (grid overrides included) and ranks the ones
   that work: no two traces in one cell, a grid not much larger than the trace count, words with believable
   values, as many varying dimensions as the traces support, the file's sort order, and the standard
   conventions. The winner comes with its shape, fill, confidence, reasons, and every alternative with why it
   lost.
3. :func:`proposed_spec` / :func:`proposed_spec_yaml` turn the proposal into a catalog dataset entry (a ready
   template when one matches the index bytes, an explicit index otherwise).

:func:`scan_file` does all three from a path, including files labelled with the obsolete sample format 4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from mdio_catalog.core.chunks import default_chunks
from mdio_catalog.core.headers import TRACE_HEADER_FIELDS, TRACE_HEADER_SIZE
from mdio_catalog.exceptions import GridOverrideError, SegyError, SegyFormatError
from mdio_catalog.segy.overrides import apply_grid_overrides
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.source import open_source
from mdio_catalog.segy.trace_headers import columns_from_raw
from mdio_catalog.settings import get_settings
from mdio_catalog.specs.base import dump_yaml
from mdio_catalog.specs.catalog import DatasetSpec
from mdio_catalog.specs.grid_overrides import GridOverrides
from mdio_catalog.specs.registry import TemplateRegistry
from mdio_catalog.specs.template import TemplateSpec

Endian = Literal["big", "little"]

#: Traces read at most by a scan; larger files are sampled.
DEFAULT_MAX_TRACES: Final = 200_000
#: Consecutive traces per sampled block (whole lines and records stay together, reads stay sequential).
SAMPLE_BLOCK: Final = 1000
#: Traces whose samples are looked at to check the sample format.
FORMAT_CHECK_TRACES: Final = 64
#: Index values this large are not line, record or channel numbers.
PLAUSIBLE_LIMIT: Final = 10**7
#: A dimension whose values come in this few runs (distinct values / runs) is one the file is sorted by.
GROUPED_RATIO: Final = 0.9
#: Below this fill (traces / cells) a grid counts as sparse.
DENSE_FILL: Final = 0.5


class GeometryKind(StrEnum):
    """The geometries a proposal can name."""

    POST_STACK_3D = "post_stack_3d"
    POST_STACK_2D = "post_stack_2d"
    CDP_OFFSET_3D = "cdp_offset_3d"
    CDP_OFFSET_2D = "cdp_offset_2d"
    SHOT_GATHERS_2D = "shot_gathers_2d"
    STREAMER_SHOTS_WRAPPED = "streamer_shots_wrapped"
    STREAMER_SHOTS_UNWRAPPED = "streamer_shots_unwrapped"
    UNSTRUCTURED = "unstructured"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS: Final = {
    GeometryKind.POST_STACK_3D: "post-stack 3D (inline x crossline)",
    GeometryKind.POST_STACK_2D: "post-stack 2D (CDP)",
    GeometryKind.CDP_OFFSET_3D: "pre-stack CDP/offset gathers 3D",
    GeometryKind.CDP_OFFSET_2D: "pre-stack CDP/offset gathers 2D",
    GeometryKind.SHOT_GATHERS_2D: "shot gathers (shot x channel)",
    GeometryKind.STREAMER_SHOTS_WRAPPED: "streamer shots, channels restart on every cable",
    GeometryKind.STREAMER_SHOTS_UNWRAPPED: "streamer shots, channels run on across cables",
    GeometryKind.UNSTRUCTURED: "unstructured (one trace after another)",
}
_POST_STACK: Final = (GeometryKind.POST_STACK_3D, GeometryKind.POST_STACK_2D)
_SHOTS: Final = (
    GeometryKind.SHOT_GATHERS_2D,
    GeometryKind.STREAMER_SHOTS_WRAPPED,
    GeometryKind.STREAMER_SHOTS_UNWRAPPED,
)


# --- the header sample ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class HeaderSample:
    """Raw standard trace headers of the scanned traces (file order) and their columns on demand.

    ``raw`` is ``(m, 240)`` ``uint8``; ``block_starts`` are the rows where a new run of consecutive traces
    starts (row 0 always), so that sort-order checks do not count the jumps between sampled blocks.
    """

    raw: npt.NDArray[np.uint8]
    endian: Endian
    n_traces: int
    block_starts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    _columns: dict[tuple[int, str], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Number of scanned traces."""
        return int(self.raw.shape[0])

    @property
    def sampled(self) -> bool:
        """True when only part of the file was scanned."""
        return self.size < self.n_traces

    def column(self, byte: int, kind: str = "int32") -> np.ndarray:
        """The word at 1-based ``byte`` of type ``kind`` for every scanned trace (cached)."""
        key = (int(byte), kind)
        if key not in self._columns:
            self._columns[key] = columns_from_raw(self.raw, [("w", int(byte), kind)], self.endian)["w"]
        return self._columns[key]

    @classmethod
    def from_words(
        cls,
        words: Mapping[int, npt.ArrayLike],
        *,
        types: Mapping[int, str] | None = None,
        endian: Endian = "big",
        n_traces: int | None = None,
    ) -> HeaderSample:
        """Headers holding ``words`` (``{byte: values}``, int32 unless ``types`` says int16) and zeros elsewhere:
        for working out geometries without a file."""
        cols = {int(b): np.asarray(v).reshape(-1) for b, v in words.items()}
        m = max((c.size for c in cols.values()), default=0)
        raw = np.zeros((m, TRACE_HEADER_SIZE), dtype=np.uint8)
        for byte, values in cols.items():
            kind = (types or {}).get(byte, "int32")
            dtype = np.dtype(kind).newbyteorder(">" if endian == "big" else "<")
            raw[:, byte - 1 : byte - 1 + dtype.itemsize] = values.astype(dtype).view(np.uint8).reshape(m, -1)
        return cls(raw=raw, endian=endian, n_traces=m if n_traces is None else n_traces)


def read_header_sample(segy: SegyFile, max_traces: int = DEFAULT_MAX_TRACES) -> HeaderSample:
    """Every trace header when the file has at most ``max_traces`` traces, else evenly spaced blocks of
    :data:`SAMPLE_BLOCK` consecutive traces adding up to about ``max_traces``."""
    n = segy.n_traces
    if max_traces < 1:
        raise ValueError(f"max_traces must be at least 1, got {max_traces}")
    if n <= max_traces:
        return HeaderSample(raw=segy.raw_trace_headers(0, n), endian=segy.endian, n_traces=n)
    block = max(1, min(SAMPLE_BLOCK, max_traces // 16))
    n_blocks = max(1, max_traces // block)
    starts = np.unique(np.linspace(0, n - block, n_blocks).round().astype(np.int64))
    raw = np.concatenate([segy.raw_trace_headers(int(s), int(s) + block) for s in starts])
    return HeaderSample(
        raw=raw, endian=segy.endian, n_traces=n, block_starts=np.arange(starts.size, dtype=np.int64) * block
    )


# --- the header summary ---------------------------------------------------------------------------------------------
Monotonic = Literal["constant", "increasing", "decreasing", "non-decreasing", "non-increasing", "no"]


@dataclass(frozen=True)
class FieldSummary:
    """One standard trace-header word over the scanned traces."""

    name: str
    byte: int
    type: str
    min: int | float
    max: int | float
    n_unique: int
    constant: bool
    monotonic: Monotonic
    examples: tuple[int | float, ...]

    @property
    def empty(self) -> bool:
        """All zero."""
        return self.constant and self.min == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "byte": self.byte,
            "type": self.type,
            "min": self.min,
            "max": self.max,
            "n_unique": self.n_unique,
            "constant": self.constant,
            "monotonic": self.monotonic,
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class SampleFormatCheck:
    """What the samples say about the sample format the binary header declares.

    ``suggested`` is a format code to use instead of ``used`` (None: the samples agree with it, or nothing could
    be told); ``evidence`` says why.
    """

    declared: int
    used: int
    suggested: int | None
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"declared": self.declared, "used": self.used, "suggested": self.suggested, "evidence": self.evidence}


@dataclass(frozen=True)
class HeaderSummary:
    """The file's facts and every standard trace-header word summarised (see :func:`scan_headers`)."""

    url: str
    size: int
    n_traces: int
    n_samples: int
    sample_interval: float
    sample_format: int
    sample_format_name: str
    endian: Endian
    revision: tuple[int, int]
    text_encoding: str
    data_offset: int
    trace_size: int
    extended_text_headers: int
    extra_trace_headers: int
    n_scanned: int
    fields: tuple[FieldSummary, ...]
    notes: tuple[str, ...]
    format_check: SampleFormatCheck | None = None
    text_lines: tuple[str, ...] = field(default=(), repr=False)
    headers: HeaderSample | None = field(default=None, repr=False, compare=False)

    @property
    def sampled(self) -> bool:
        return self.n_scanned < self.n_traces

    @property
    def varying(self) -> tuple[FieldSummary, ...]:
        """The words that are not constant over the scanned traces (the ones worth a table row)."""
        return tuple(f for f in self.fields if not f.constant)

    def field(self, key: int | str) -> FieldSummary:
        """The summary of the word at byte ``key`` (an int) or called ``key`` (a standard name)."""
        for item in self.fields:
            if key in (item.byte, item.name):
                return item
        raise KeyError(f"no standard trace-header word {key!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts (without the raw headers)."""
        return {
            "url": self.url,
            "size": self.size,
            "n_traces": self.n_traces,
            "n_samples": self.n_samples,
            "sample_interval_us": self.sample_interval,
            "sample_format": self.sample_format,
            "sample_format_name": self.sample_format_name,
            "endian": self.endian,
            "revision": list(self.revision),
            "text_encoding": self.text_encoding,
            "data_offset": self.data_offset,
            "trace_size": self.trace_size,
            "extended_text_headers": self.extended_text_headers,
            "extra_trace_headers": self.extra_trace_headers,
            "n_scanned": self.n_scanned,
            "sampled": self.sampled,
            "format_check": self.format_check.to_dict() if self.format_check else None,
            "notes": list(self.notes),
            "fields": [f.to_dict() for f in self.fields],
        }


def scan_headers(
    segy: SegyFile,
    max_traces: int = DEFAULT_MAX_TRACES,
    *,
    check_format: bool = True,
    declared_format: int | None = None,
) -> HeaderSummary:
    """Summarise every standard trace-header word of ``segy`` and the file's facts.

    Files with more than ``max_traces`` traces are sampled (evenly spaced blocks of consecutive traces; the
    notes say so and counts are then counts over the sample). ``check_format`` decodes a few traces to check the
    declared sample format; ``declared_format`` is the code the binary header holds when the file was opened
    with a ``sample_format`` override (e.g. the obsolete format 4).
    """
    sample = read_header_sample(segy, max_traces)
    fields = tuple(_summarise(sample, name, byte, kind) for name, kind, byte in TRACE_HEADER_FIELDS)
    notes = list(segy.notes)
    if sample.sampled:
        notes.append(
            f"scanned {sample.size} of {segy.n_traces} traces ({sample.block_starts.size} evenly spaced blocks of "
            f"{sample.size // max(sample.block_starts.size, 1)} consecutive traces): counts are over the sample, grid "
            "sizes are estimates"
        )
    binary_dt = segy.binary_header.get("sample_interval", 0)
    trace_dt = next(f for f in fields if f.byte == 117)
    if trace_dt.constant and trace_dt.min not in (0, binary_dt):
        notes.append(
            f"trace headers (byte 117) say the sample interval is {trace_dt.min} us, the binary header "
            f"{binary_dt} us; using {segy.sample_interval:g} us"
        )
    if segy.layout.extra_trace_headers:
        notes.append(
            f"{segy.layout.extra_trace_headers} trace-header extension(s) per trace; only the standard header is "
            "scanned and kept"
        )
    declared = int(segy.binary_header.get("data_sample_format", segy.sample_format))
    if declared_format is not None:
        declared = declared_format
    check = _check_sample_format(segy, declared) if check_format else None
    if check is not None and check.suggested is not None:
        notes.append(f"sample format: {check.evidence}")
    return HeaderSummary(
        url=segy.url,
        size=segy.size,
        n_traces=segy.n_traces,
        n_samples=segy.n_samples,
        sample_interval=float(segy.sample_interval),
        sample_format=segy.sample_format,
        sample_format_name=segy.format_info.name,
        endian=segy.endian,
        revision=tuple(segy.layout.revision),  # type: ignore[arg-type]
        text_encoding=str(segy.text_encoding),
        data_offset=segy.data_offset,
        trace_size=segy.trace_size,
        extended_text_headers=len(segy.layout.extended_text),
        extra_trace_headers=segy.layout.extra_trace_headers,
        n_scanned=sample.size,
        fields=fields,
        notes=tuple(notes),
        format_check=check,
        text_lines=tuple(segy.text_header),
        headers=sample,
    )


def _summarise(sample: HeaderSample, name: str, byte: int, kind: str) -> FieldSummary:
    col = sample.column(byte, kind)
    if col.size == 0:
        return FieldSummary(name, byte, kind, 0, 0, 0, True, "constant", ())
    unique = np.unique(col)
    return FieldSummary(
        name=name,
        byte=byte,
        type=kind,
        min=unique[0].item(),
        max=unique[-1].item(),
        n_unique=int(unique.size),
        constant=unique.size == 1,
        monotonic=_monotonic(col, sample.block_starts) if unique.size > 1 else "constant",
        examples=tuple(v.item() for v in unique[:5]),
    )


def _within_blocks(n: int, block_starts: np.ndarray) -> npt.NDArray[np.bool_]:
    """For each pair of neighbours (i-1, i), True when both lie in the same sampled block."""
    keep = np.ones(max(n - 1, 0), dtype=bool)
    starts = block_starts[(block_starts > 0) & (block_starts < n)]
    keep[starts - 1] = False
    return keep


def _monotonic(col: np.ndarray, block_starts: np.ndarray) -> Monotonic:
    keep = _within_blocks(col.size, block_starts)
    up = (col[1:] > col[:-1])[keep]
    down = (col[1:] < col[:-1])[keep]
    if not up.any() and not down.any():
        return "constant"
    if not down.any():
        return "increasing" if up.all() else "non-decreasing"
    if not up.any():
        return "decreasing" if down.all() else "non-increasing"
    return "no"


# --- the sample format check ------------------------------------------------------------------------------------------
def _check_sample_format(segy: SegyFile, declared: int) -> SampleFormatCheck | None:
    """Decode a few traces' 4-byte words as IBM and as IEEE floats and see which reading the bytes support."""
    used = segy.sample_format
    if segy.format_info.itemsize != 4 or segy.n_traces == 0 or (used != 1 and declared != 4):
        return None
    rows = np.unique(np.linspace(0, segy.n_traces - 1, min(segy.n_traces, FORMAT_CHECK_TRACES)).astype(np.int64))
    start = segy.layout.trace_header_size
    raw = np.concatenate([segy.read_raw_traces(int(i), int(i) + 1)[:, start:] for i in rows])
    words = np.ascontiguousarray(raw).view(">u4" if segy.endian == "big" else "<u4").astype(np.uint32).reshape(-1)
    fraction = words[(words & 0x00FFFFFF) != 0]
    nonzero = words[(words & 0x7FFFFFFF) != 0]
    if fraction.size < 64:
        if declared == 4:
            return SampleFormatCheck(declared, used, 1, "obsolete format 4; too few non-zero samples to tell: IBM")
        return None
    unnormalised = float(np.mean((fraction & 0x00F00000) == 0))
    exponent = (nonzero >> 23) & 0xFF
    ieee_sane = float(np.mean((exponent > 127 - 70) & (exponent < 127 + 70)))
    if declared == 4:
        if unnormalised <= 0.001:
            return SampleFormatCheck(
                declared, used, 1, "labelled with the obsolete format 4; every sample word is a normalised IBM float"
            )
        if ieee_sane > 0.99:
            return SampleFormatCheck(
                declared, used, 5, "labelled with the obsolete format 4; the sample words read as ordinary IEEE floats"
            )
        return SampleFormatCheck(
            declared, used, 2, "labelled with the obsolete format 4; the words are neither IBM nor IEEE floats: int32"
        )
    if unnormalised > 0.02 and ieee_sane > 0.99:
        return SampleFormatCheck(
            declared,
            used,
            5,
            f"the binary header says IBM float (1), but {unnormalised:.0%} of the non-zero sample words are "
            "unnormalised IBM numbers (no IBM writer produces them) and all of them read as ordinary IEEE floats: "
            "the samples look like IEEE float (5)",
        )
    return SampleFormatCheck(declared, used, None, "the sample words are normalised IBM floats, as declared")


# --- geometry proposals -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexWord:
    """An index dimension: its name and the header word (1-based byte, type) it is read from."""

    name: str
    byte: int
    type: str = "int32"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "byte": self.byte, "type": self.type}


@dataclass(frozen=True)
class DimensionFacts:
    """One dimension of an evaluated candidate (after grid overrides), over the scanned traces."""

    name: str
    byte: int | None
    type: str | None
    n_unique: int
    size: int
    min: int
    max: int
    grouped: bool
    issue: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "byte": self.byte,
            "type": self.type,
            "n_unique": self.n_unique,
            "size": self.size,
            "min": self.min,
            "max": self.max,
            "grouped": self.grouped,
            "issue": self.issue,
        }


@dataclass(frozen=True)
class Candidate:
    """One index tried on the headers: the grid it gives, and whether (and why not) it works."""

    kind: GeometryKind
    index: tuple[IndexWord, ...]
    grid_overrides: Mapping[str, Any]
    accepted: bool
    verdict: str
    dims: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    n_cells: int = 0
    fill: float = 0.0
    facts: tuple[DimensionFacts, ...] = ()
    prior: float = 0.0
    implausible: bool = False
    rank: tuple[float, ...] = field(default=(), compare=False)

    @property
    def index_bytes(self) -> tuple[int, ...]:
        return tuple(w.byte for w in self.index)

    @property
    def varying(self) -> int:
        """Dimensions (without the 'trace' axis of overrides) whose values vary."""
        return sum(1 for f in self.facts if f.byte is not None and f.n_unique > 1)

    def describe(self) -> str:
        words = ", ".join(f"{w.name} {w.byte}" + ("" if w.type == "int32" else f" ({w.type})") for w in self.index)
        extra = f" + {dict(self.grid_overrides)}" if self.grid_overrides else ""
        return f"{self.kind.value} [{words}]{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "index": [w.to_dict() for w in self.index],
            "grid_overrides": dict(self.grid_overrides),
            "accepted": self.accepted,
            "verdict": self.verdict,
            "dims": list(self.dims),
            "shape": list(self.shape),
            "n_cells": self.n_cells,
            "fill": self.fill,
        }


@dataclass(frozen=True)
class GeometryProposal:
    """The proposed geometry of a file: kind, index words, grid overrides and the grid they give.

    ``dims``/``shape`` are the spatial dimensions as ingestion makes them (the 'trace' axis of HasDuplicates /
    NonBinned included, the sample axis not: see :attr:`full_shape`). ``fill`` is traces / cells.
    ``alternatives`` are the other candidates, best first, each with its verdict.
    """

    kind: GeometryKind
    index: tuple[IndexWord, ...]
    grid_overrides: Mapping[str, Any]
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    n_traces: int
    n_samples: int
    n_cells: int
    fill: float
    confidence: float
    reasons: tuple[str, ...]
    alternatives: tuple[Candidate, ...]
    domain: Literal["time", "depth"] = "time"
    endian: Endian = "big"
    sample_format: int | None = None
    sampled: bool = False
    dimensions: tuple[DimensionFacts, ...] = ()

    @property
    def index_bytes(self) -> tuple[int, ...]:
        return tuple(w.byte for w in self.index)

    @property
    def index_shape(self) -> tuple[int, ...]:
        """Sizes of the index dimensions only (without the 'trace' axis of HasDuplicates / NonBinned)."""
        return self.shape[: len(self.index)]

    @property
    def full_shape(self) -> tuple[int, ...]:
        """Shape of the ingested data: the spatial shape plus the sample axis."""
        return (*self.shape, self.n_samples)

    @property
    def confidence_label(self) -> str:
        return "high" if self.confidence >= 0.8 else "medium" if self.confidence >= 0.5 else "low"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "index": [w.to_dict() for w in self.index],
            "grid_overrides": dict(self.grid_overrides),
            "dims": list(self.dims),
            "shape": list(self.shape),
            "index_shape": list(self.index_shape),
            "full_shape": list(self.full_shape),
            "n_traces": self.n_traces,
            "n_cells": self.n_cells,
            "fill": self.fill,
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "domain": self.domain,
            "endian": self.endian,
            "sample_format": self.sample_format,
            "sampled": self.sampled,
            "reasons": list(self.reasons),
            "dimensions": [d.to_dict() for d in self.dimensions],
            "alternatives": [a.to_dict() for a in self.alternatives],
        }


@dataclass(frozen=True)
class _Plan:
    kind: GeometryKind
    index: tuple[IndexWord, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    prior: float = 0.0
    may_be_constant: frozenset[str] = frozenset()


#: (inline byte, crossline byte, prior): the standard pair first, then conventions seen in the wild.
_LINE_PAIRS: Final = ((189, 193, 0.0), (9, 21, 2.0), (5, 21, 2.2), (9, 17, 2.4))
_CDP_WORDS: Final = ((21, 1.0),)
_OFFSET_WORDS: Final = ((37, 0.0),)
_SHOT_WORDS: Final = ((9, "shot", 1.0), (17, "shot_point", 1.1))
_CHANNEL_WORDS: Final = ((13, 0.0),)
_CABLE_WORDS: Final = ((137, 0.0), (213, 0.2), (217, 0.4))
_SEQUENCE_WORDS: Final = ((5, 10.0), (1, 10.2))
#: Extra prior of 2-byte readings of 4-byte words, of post-stack kinds when offsets vary, of shot kinds when
#: nothing says the data is pre-stack, and bonus of words the text header names.
_INT16_PENALTY: Final = 0.5
_KIND_MISMATCH: Final = 3.0
_TEXT_HINT_BONUS: Final = 0.5


def propose_geometry(summary: HeaderSummary, columns: HeaderSample | None = None) -> GeometryProposal:
    """Propose how to index the file ``summary`` describes.

    ``columns`` are the scanned headers (default: the ones the summary kept). Every candidate index is
    evaluated on them exactly as ingestion would (grid overrides applied, duplicates and sparsity checked), the
    working ones are ranked, and the best becomes the proposal; see the module docstring for the ranking.
    """
    sample = columns if columns is not None else summary.headers
    if sample is None:
        raise ValueError("the summary keeps no headers; pass the columns (a HeaderSample) explicitly")
    n_traces = summary.n_traces
    domain, domain_reason = _guess_domain(summary.text_lines)
    hints = text_byte_hints(summary.text_lines)
    check = summary.format_check
    common: dict[str, Any] = {
        "n_traces": n_traces,
        "n_samples": summary.n_samples,
        "domain": domain,
        "endian": summary.endian,
        "sample_format": check.suggested if check is not None else None,
        "sampled": sample.sampled,
    }
    extra: list[str] = []
    if check is not None and check.suggested is not None:
        extra.append(f"Sample format {check.suggested} proposed: {check.evidence}.")
    if sample.size <= 1:
        return _trivial_proposal(sample, common, domain_reason, extra)

    prestack, prestack_reason = _prestack_evidence(sample)
    plans = _plans(sample, prestack, hints)
    evaluated = [
        evaluate_candidate(
            sample, p.kind, p.index, p.overrides, n_traces=n_traces, prior=p.prior, may_be_constant=p.may_be_constant
        )
        for p in plans
    ]
    results = _rank(evaluated)
    results = _with_duplicate_variants(sample, plans, results, prestack, n_traces)
    accepted = [r for r in results if r.accepted]
    if not accepted:  # cannot happen: the unstructured fallback always works
        raise SegyError(f"{summary.url}: no index gives a usable grid")
    if _weak(accepted[0]):  # no standard word gives a clean grid: try every other pair of standard words
        covered = {tuple((w.byte, w.type) for w in r.index) for r in results}
        generic = [
            evaluate_candidate(sample, p.kind, p.index, n_traces=n_traces, prior=p.prior)
            for p in _generic_plans(sample, covered, n_traces)
        ]
        results = _rank([*results, *generic])
        accepted = [r for r in results if r.accepted]
    best = accepted[0]
    reasons = _reasons(summary, sample, best, results, prestack_reason, hints)
    reasons += [domain_reason, *extra]
    if sample.sampled:
        reasons.append(
            f"Only {sample.size} of {n_traces} traces were scanned: sizes are estimated from the sample (regular "
            "line numbering assumed); run ingestion's own checks before trusting the shape."
        )
    return GeometryProposal(
        kind=best.kind,
        index=best.index,
        grid_overrides=dict(best.grid_overrides),
        dims=best.dims,
        shape=best.shape,
        n_cells=best.n_cells,
        fill=best.fill,
        confidence=_confidence(best, accepted, sample),
        reasons=tuple(reasons),
        alternatives=tuple(_explained(r, best, prestack) for r in results if r is not best),
        dimensions=best.facts,
        **common,
    )


def _trivial_proposal(
    sample: HeaderSample, common: Mapping[str, Any], domain_reason: str, extra: list[str]
) -> GeometryProposal:
    """Zero or one trace: nothing varies, so nothing tells geometries apart."""
    n = sample.size
    il, xl = (sample.column(189), sample.column(193)) if n else (np.zeros(0), np.zeros(0))
    lines_ok = n == 1 and all(abs(int(c[0])) < 10**6 for c in (il, xl))
    index: tuple[IndexWord, ...]
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    if lines_ok:
        kind, index = GeometryKind.POST_STACK_3D, (IndexWord("inline", 189), IndexWord("crossline", 193))
        why = (
            f"A single trace: nothing varies, so nothing tells geometries apart; it sits at inline {int(il[0])}, "
            f"crossline {int(xl[0])} (bytes 189/193, the standard position), a 1 x 1 grid."
        )
        dims, shape = ("inline", "crossline"), (1, 1)
    else:
        kind, index = GeometryKind.UNSTRUCTURED, (IndexWord("trace_sequence", 5),)
        why = (
            "A single trace whose inline/crossline words (189/193) hold no believable line numbers: indexed by its "
            "trace sequence number (byte 5)."
            if n
            else "The file holds no traces."
        )
        dims, shape = ("trace_sequence",), (n,)
    values = [int(sample.column(w.byte)[0]) if n else 0 for w in index]
    facts = tuple(DimensionFacts(w.name, w.byte, w.type, n, n, v, v, True) for w, v in zip(index, values, strict=True))
    return GeometryProposal(
        kind=kind,
        index=index,
        grid_overrides={},
        dims=dims,
        shape=shape,
        n_cells=int(np.prod(shape)),
        fill=1.0 if n else 0.0,
        confidence=0.3 if n else 0.0,
        reasons=(why, domain_reason, *extra),
        alternatives=(),
        dimensions=facts,
        **common,
    )


def _prestack_evidence(sample: HeaderSample) -> tuple[bool, str]:
    offsets = np.unique(sample.column(37))
    if offsets.size > 1:
        return True, f"offsets (byte 37) vary ({offsets.size} values, {offsets[0]}..{offsets[-1]}): pre-stack data"
    src = np.stack([sample.column(73), sample.column(77)], axis=1)
    grp = np.stack([sample.column(81), sample.column(85)], axis=1)
    if np.unique(src, axis=0).shape[0] > 1 and np.unique(grp, axis=0).shape[0] > 1 and np.any(src != grp):
        return True, "source and receiver coordinates (73/77, 81/85) both vary and differ: pre-stack data"
    return False, f"offsets (byte 37) are constant ({offsets[0] if offsets.size else 0}): nothing says pre-stack"


def _bad_int32(sample: HeaderSample, byte: int) -> bool:
    return _implausible(np.unique(sample.column(byte))) is not None


def _int16_variant(sample: HeaderSample, byte: int) -> bool:
    """The 2-byte reading of a 4-byte word is worth trying: the 4-byte one is implausible, the 2-byte one not."""
    if not _bad_int32(sample, byte):
        return False
    values = np.unique(sample.column(byte, "int16"))
    return values.size > 1 and _implausible(values) is None


def _word_options(sample: HeaderSample, byte: int) -> list[tuple[str, float]]:
    options = [("int32", 0.0)]
    if _int16_variant(sample, byte):
        options.append(("int16", _INT16_PENALTY))
    return options


def _plans(sample: HeaderSample, prestack: bool, hints: Mapping[str, int]) -> list[_Plan]:
    post_penalty = _KIND_MISMATCH if prestack else 0.0
    shot_penalty = 0.0 if prestack else _KIND_MISMATCH
    plans: list[_Plan] = []
    line_pairs: list[tuple[IndexWord, IndexWord, float]] = []
    for il_byte, xl_byte, prior in _LINE_PAIRS:
        hinted = hints.get("inline") == il_byte and hints.get("crossline") == xl_byte
        bonus = _TEXT_HINT_BONUS if prior > 0 and hinted else 0.0
        for il_type, il_pen in _word_options(sample, il_byte):
            for xl_type, xl_pen in _word_options(sample, xl_byte):
                pair_prior = prior + il_pen + xl_pen - bonus
                il = IndexWord("inline", il_byte, il_type)
                line_pairs.append((il, IndexWord("crossline", xl_byte, xl_type), pair_prior))
    lines_constant = frozenset({"inline", "crossline"})
    for il, xl, prior in line_pairs:
        plans.append(_Plan(GeometryKind.POST_STACK_3D, (il, xl), {}, prior + post_penalty, lines_constant))
        for off_byte, off_prior in _OFFSET_WORDS:
            offset = IndexWord("offset", off_byte)
            plans.append(_Plan(GeometryKind.CDP_OFFSET_3D, (il, xl, offset), {}, prior + off_prior, lines_constant))
    for cdp_byte, cdp_prior in _CDP_WORDS:
        cdp = IndexWord("cdp", cdp_byte)
        plans.append(_Plan(GeometryKind.POST_STACK_2D, (cdp,), {}, cdp_prior + post_penalty))
        for off_byte, off_prior in _OFFSET_WORDS:
            plans.append(
                _Plan(GeometryKind.CDP_OFFSET_2D, (cdp, IndexWord("offset", off_byte)), {}, cdp_prior + off_prior)
            )
    for shot_byte, shot_name, shot_prior in _SHOT_WORDS:
        shot = IndexWord(shot_name, shot_byte)
        for ch_byte, ch_prior in _CHANNEL_WORDS:
            channel = IndexWord("channel", ch_byte)
            base = shot_prior + ch_prior + shot_penalty
            plans.append(_Plan(GeometryKind.SHOT_GATHERS_2D, (shot, channel), {}, base, frozenset({shot_name})))
            for cable_byte, cable_prior in _CABLE_WORDS:
                cable = IndexWord("cable", cable_byte, "int16")
                words = (shot, cable, channel)
                plans.append(
                    _Plan(GeometryKind.STREAMER_SHOTS_WRAPPED, words, {}, base + cable_prior, frozenset({shot_name}))
                )
                plans.append(
                    _Plan(
                        GeometryKind.STREAMER_SHOTS_UNWRAPPED,
                        words,
                        {"AutoChannelWrap": True},
                        base + cable_prior,
                        frozenset({shot_name}),
                    )
                )
    for seq_byte, seq_prior in _SEQUENCE_WORDS:
        plans.append(_Plan(GeometryKind.UNSTRUCTURED, (IndexWord("trace_sequence", seq_byte),), {}, seq_prior))
    return plans


#: Standard words never tried as generic index words: samples per trace and sample interval.
_NOT_KEYS: Final = frozenset({115, 117})
#: At most this many distinct varying words take part in the generic pair search.
_GENERIC_WORDS: Final = 24
#: Prior of generic pairs: below every standard convention, above unstructured.
_GENERIC_PRIOR: Final = 6.0


def _weak(best: Candidate) -> bool:
    """No standard index gives a clean grid: the best is a trace sequence or needs a 'trace' axis."""
    return best.kind is GeometryKind.UNSTRUCTURED or GridOverrides.parse(best.grid_overrides).adds_trace_dimension


def _generic_plans(sample: HeaderSample, covered: set[tuple[tuple[int, str], ...]], n_traces: int) -> list[_Plan]:
    """Post-stack pairs of any two varying standard words (identical columns once) that could give a unique,
    not too sparse grid, the word the file is grouped by first."""
    words: list[tuple[IndexWord, np.ndarray, float]] = []
    seen: list[np.ndarray] = []
    for _, kind, byte in TRACE_HEADER_FIELDS:
        if kind not in ("int16", "int32") or byte in _NOT_KEYS:
            continue
        col = sample.column(byte, kind)
        unique, inverse = np.unique(col, return_inverse=True)
        if not 1 < unique.size < sample.size or _implausible(unique) is not None:
            continue
        if any(np.array_equal(col, other) for other in seen):
            continue
        seen.append(col)
        grouping = _contiguity(inverse.reshape(-1), unique.size, sample.block_starts)
        words.append((IndexWord("w", byte, kind), unique, grouping))
        if len(words) >= _GENERIC_WORDS:
            break
    limit = get_settings().sparsity.error_ratio * max(n_traces, 1)
    plans = []
    for i, (a, ua, ga) in enumerate(words):
        for b, ub, gb in words[i + 1 :]:
            cells = _estimated_size(ua, sample.sampled) * _estimated_size(ub, sample.sampled)
            if not n_traces <= cells <= limit:
                continue
            first, second = (a, b) if ga >= gb else (b, a)
            index = (IndexWord("inline", first.byte, first.type), IndexWord("crossline", second.byte, second.type))
            if tuple((w.byte, w.type) for w in index) in covered:
                continue
            plans.append(_Plan(GeometryKind.POST_STACK_3D, index, {}, _GENERIC_PRIOR))
    return plans


def evaluate_candidate(
    sample: HeaderSample,
    kind: GeometryKind,
    index: Sequence[IndexWord],
    grid_overrides: Mapping[str, Any] | None = None,
    *,
    n_traces: int | None = None,
    prior: float = 0.0,
    may_be_constant: Iterable[str] = (),
) -> Candidate:
    """Build the grid ``index`` (+ ``grid_overrides``) gives on the scanned headers, as ingestion would.

    Rejected (``accepted=False``, the verdict says why) when a dimension that must vary is constant, when all
    are, when two traces share a cell without HasDuplicates/NonBinned, when a dimension adds nothing (the others
    already give each trace its own cell), when grid overrides change nothing, or when the grid is so much
    larger than the trace count that ingestion would refuse it.
    """
    index = tuple(index)
    overrides = dict(grid_overrides or {})
    total = sample.n_traces if n_traces is None else n_traces
    allowed = set(may_be_constant)

    def reject(verdict: str, **kw: Any) -> Candidate:
        return Candidate(kind, index, overrides, False, verdict, prior=prior, **kw)

    raw_cols = {w.name: sample.column(w.byte, w.type) for w in index}
    uniques = {name: np.unique(col) for name, col in raw_cols.items()}
    constant = [w for w in index if uniques[w.name].size <= 1]
    if kind is GeometryKind.UNSTRUCTURED:
        constant = []  # a trace counter that never changes still works with HasDuplicates: the last resort
    if constant and len(constant) == len(index):
        return reject(f"{_words(constant)} never change{'s' if len(constant) == 1 else ''}")
    for word in constant:
        if word.name not in allowed or len(constant) > 1:
            value = uniques[word.name][0] if uniques[word.name].size else 0
            return reject(f"{word.name} (byte {word.byte}) is constant ({value})")
    try:
        rules = GridOverrides.parse(overrides)
        result = apply_grid_overrides(raw_cols, [w.name for w in index], rules)
    except GridOverrideError as exc:
        return reject(str(exc))
    cols = {name: np.asarray(result.columns[name]) for name in result.index_names}
    if rules.auto_channel_wrap and np.array_equal(cols["channel"], raw_cols["channel"]):
        return reject("AutoChannelWrap changes nothing: the channel numbers already restart on every cable")
    names = [w.name for w in index]
    inverse = {name: np.unique(cols[name], return_inverse=True) for name in names}
    keys = _combined_key([inverse[n][1].reshape(-1) for n in names], [inverse[n][0].size for n in names])
    _, counts = np.unique(keys, return_counts=True)
    clashing = int(np.count_nonzero(counts > 1))
    implausible = False
    facts: list[DimensionFacts] = []
    for word in index:
        values = inverse[word.name][0]
        issue = None if kind is GeometryKind.UNSTRUCTURED else _implausible(values)  # a sequence only counts
        implausible = implausible or issue is not None
        grouped = _contiguity(inverse[word.name][1].reshape(-1), values.size, sample.block_starts) >= GROUPED_RATIO
        facts.append(
            DimensionFacts(
                word.name,
                word.byte,
                word.type,
                int(values.size),
                _estimated_size(values, sample.sampled),
                int(values[0]),
                int(values[-1]),
                grouped and values.size > 1,
                issue,
            )
        )
    if rules.adds_trace_dimension:
        if clashing == 0:
            return reject(f"{_names(index)} already give every trace its own cell: no need for {_on(overrides)}")
        fold = int(counts.max())
        facts.append(DimensionFacts("trace", None, None, fold, fold, 1, fold, False))
    elif clashing:
        example = _clash_example(cols, names, keys, counts)
        return reject(
            f"{clashing} cells of {_names(index)} hold several traces (up to {int(counts.max())}), e.g. {example}",
            implausible=implausible,
        )
    else:
        redundant = _redundant(index, inverse, facts)
        if redundant is not None:
            return reject(
                f"{redundant.name} (byte {redundant.byte}) adds nothing: the other words already give every trace "
                "its own cell",
                implausible=implausible,
            )
    shape = tuple(f.size for f in facts)
    n_cells = math.prod(shape)
    fill = total / n_cells if n_cells else 0.0
    dims = tuple(f.name for f in facts)
    common: dict[str, Any] = {
        "dims": dims,
        "shape": shape,
        "n_cells": n_cells,
        "fill": fill,
        "facts": tuple(facts),
        "implausible": implausible,
    }
    settings = get_settings()
    if n_cells > settings.sparsity.error_ratio * max(total, 1):
        return reject(
            f"{_shape(shape)} = {n_cells} cells for {total} traces (fill {fill:.1%}): too sparse, ingestion refuses "
            f"more than {settings.sparsity.error_ratio:g} cells per trace",
            **common,
        )
    verdict = f"{_shape(shape)} = {n_cells} cells for {total} traces, fill {fill:.1%}"
    return Candidate(kind, index, overrides, True, verdict, prior=prior, **common)


def _combined_key(ranks: Sequence[np.ndarray], sizes: Sequence[int]) -> npt.NDArray[np.int64]:
    """One int64 per trace that is equal exactly when all the ranks are."""
    n = ranks[0].size if ranks else 0
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for rank, count in zip(ranks, sizes, strict=True):
        size = max(int(count), 1)
        if span * size >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if key.size else 1
        key = key * size + rank.astype(np.int64)
        span *= size
    return key


def _redundant(
    index: Sequence[IndexWord], inverse: Mapping[str, tuple[np.ndarray, np.ndarray]], facts: Sequence[DimensionFacts]
) -> IndexWord | None:
    varying = [w for w, f in zip(index, facts, strict=False) if f.n_unique > 1]
    if len(varying) < 2:
        return None
    for word in varying:
        others = [w.name for w in index if w.name != word.name]
        keys = _combined_key([inverse[n][1].reshape(-1) for n in others], [inverse[n][0].size for n in others])
        if np.unique(keys).size == keys.size:
            return word
    return None


def _clash_example(cols: Mapping[str, np.ndarray], names: Sequence[str], keys: np.ndarray, counts: np.ndarray) -> str:
    _, first = np.unique(keys, return_index=True)
    k = int(np.argmax(counts))
    trace = int(first[k])
    return "(" + ", ".join(f"{n}={cols[n][trace]}" for n in names) + f") x{int(counts[k])}"


def _contiguity(inverse: np.ndarray, n_unique: int, block_starts: np.ndarray) -> float:
    """Distinct values / runs of equal values in file order (1.0: the file is sorted or grouped by this word)."""
    if inverse.size == 0:
        return 0.0
    changes = (inverse[1:] != inverse[:-1]) & _within_blocks(inverse.size, block_starts)
    runs = 1 + int(np.count_nonzero(changes))
    return min(1.0, n_unique / runs)


def _estimated_size(values: np.ndarray, sampled: bool) -> int:
    """Distinct values; for a sample, the count of the regular progression they lie on (when it is not far off)."""
    count = int(values.size)
    if not sampled or count < 2:
        return count
    ints = values.astype(np.int64)
    step = int(np.gcd.reduce(np.diff(ints)))
    if step <= 0:
        return count
    span = int((ints[-1] - ints[0]) // step) + 1
    return span if span <= 4 * count else count


def _implausible(values: np.ndarray) -> str | None:
    """Why sorted distinct ``values`` cannot be line, record, channel or offset numbers (None: they can)."""
    if values.size == 0:
        return None
    big = max(abs(int(values[0])), abs(int(values[-1])))
    if big >= PLAUSIBLE_LIMIT:
        return f"values reach {big}: too large for line, record or channel numbers"
    nonzero = values[values != 0].astype(np.int64)
    if values.size >= 2 and nonzero.size and np.all(nonzero % 256 == 0):
        return "every value is a multiple of 256: the word looks byte-swapped or holds a 2-byte number"
    return None


def _rank(results: list[Candidate]) -> list[Candidate]:
    ranked = []
    for r in results:
        rank: tuple[float, ...]
        if r.accepted:
            rank = (
                float(r.implausible),
                -float(r.varying),
                float(bool(GridOverrides.parse(r.grid_overrides).adds_trace_dimension)),
                float(r.fill < DENSE_FILL),
                float(not any(f.grouped for f in r.facts)),
                r.prior,
            )
        else:
            rank = (math.inf,)
        ranked.append(_replace(r, rank=rank))
    return sorted(ranked, key=lambda c: (c.rank, c.prior))


def _replace(candidate: Candidate, **changes: Any) -> Candidate:
    from dataclasses import replace

    return replace(candidate, **changes)


def _with_duplicate_variants(
    sample: HeaderSample, plans: Sequence[_Plan], results: list[Candidate], prestack: bool, n_traces: int
) -> list[Candidate]:
    """Add HasDuplicates / NonBinned versions of candidates rejected only because traces share cells."""
    by_key = {(p.kind, p.index, tuple(sorted(p.overrides.items()))): p for p in plans}
    extra: list[Candidate] = []
    for r in results:
        if r.accepted or "hold several traces" not in r.verdict:
            continue
        plan = by_key[(r.kind, r.index, tuple(sorted(r.grid_overrides.items())))]
        kind, overrides = r.kind, {**plan.overrides, "HasDuplicates": True}
        if prestack and kind in _POST_STACK:
            kind = GeometryKind.CDP_OFFSET_3D if kind is GeometryKind.POST_STACK_3D else GeometryKind.CDP_OFFSET_2D
            overrides = {**plan.overrides, "NonBinned": True, "chunksize": 64}
        if "AutoChannelWrap" in plan.overrides and ("HasDuplicates" in overrides):
            continue  # keep duplicate variants to plain indexes: enough alternatives already
        extra.append(
            evaluate_candidate(
                sample,
                kind,
                plan.index,
                overrides,
                n_traces=n_traces,
                prior=plan.prior + 0.5,
                may_be_constant=plan.may_be_constant,
            )
        )
    fixed = [
        _replace(c, grid_overrides={**c.grid_overrides, "chunksize": max(1, min(64, c.shape[-1]))})
        if c.accepted and c.grid_overrides.get("NonBinned")
        else c
        for c in extra
    ]
    return _rank([*results, *fixed])


def _explained(candidate: Candidate, best: Candidate, prestack: bool) -> Candidate:
    """An accepted alternative with the reason it ranks below ``best`` added to its verdict."""
    if not candidate.accepted:
        return candidate
    why = "ranked lower: "
    a, b = candidate.rank, best.rank
    if a[0] > b[0]:
        why += "its values are not believable line, record or channel numbers"
    elif a[1] > b[1]:
        why += f"it explains fewer dimensions ({candidate.varying} varying vs {best.varying})"
    elif a[2] > b[2]:
        why += "it needs a 'trace' axis (HasDuplicates/NonBinned) where the proposal gives every trace its own cell"
    elif a[3] > b[3]:
        why += f"its grid is sparser (fill {candidate.fill:.0%} vs {best.fill:.0%})"
    elif a[4] > b[4]:
        why += "the file is not sorted by any of its words, while it is by the proposal's"
    elif prestack and candidate.kind in _POST_STACK:
        why += "a post-stack geometry, but the offsets vary"
    elif not prestack and candidate.kind in _SHOTS:
        why += "shot gathers, but nothing says the data is pre-stack"
    else:
        why += "less conventional words for this geometry (standard positions first)"
    return _replace(candidate, verdict=f"{candidate.verdict}; {why}")


def _confidence(best: Candidate, accepted: Sequence[Candidate], sample: HeaderSample) -> float:
    score = 1.0
    if best.implausible:
        score -= 0.4
    if GridOverrides.parse(best.grid_overrides).adds_trace_dimension:
        score -= 0.2
    if best.fill < DENSE_FILL:
        score -= 0.25
    elif best.fill < 0.9:
        score -= 0.1
    if not any(f.grouped for f in best.facts):
        score -= 0.1
    if best.prior >= _GENERIC_PRIOR:
        score -= 0.35
    elif best.prior >= 2:
        score -= 0.15
    if sample.sampled:
        score -= 0.15
    rivals = [
        c
        for c in accepted[1:]
        if c.rank[:5] == best.rank[:5] and c.prior - best.prior < 1.0 and (c.kind, c.shape) != (best.kind, best.shape)
    ]
    if rivals:
        score -= 0.15
    if best.kind is GeometryKind.UNSTRUCTURED:
        score = min(score, 0.5)
    return round(max(0.05, min(1.0, score)), 2)


# --- explanations -----------------------------------------------------------------------------------------------------
def _reasons(
    summary: HeaderSummary,
    sample: HeaderSample,
    best: Candidate,
    results: Sequence[Candidate],
    prestack_reason: str,
    hints: Mapping[str, int],
) -> list[str]:
    out = [f"{best.kind.label}: {_words(best.index)} give {best.verdict}."]
    if best.prior >= _GENERIC_PRIOR:
        out.append(
            "No conventional index word gives a clean grid; these two standard words do, so they are proposed as "
            "inline/crossline - check the names against the survey's documentation."
        )
    holes = best.fill < 1.0 and not GridOverrides.parse(best.grid_overrides).adds_trace_dimension
    if holes:
        missing = "Some" if sample.sampled else str(best.n_cells - summary.n_traces)
        out.append(f"{missing} cells have no trace (missing traces are fine: the live mask records them).")
    out.append(prestack_reason[0].upper() + prestack_reason[1:] + ".")
    if not sample.column(189).any() and not sample.column(193).any():
        out.append("Bytes 189/193 (inline/crossline) are empty (all zero): other words carry the geometry.")
    elif any(w.byte in (189, 193) and w.type == "int16" for w in best.index):
        out.append(
            "Bytes 189/193 hold 2-byte numbers: read as 4-byte words they give implausible values, read as int16 "
            "they give line numbers."
        )
    for fact in best.facts:
        if fact.issue:
            out.append(f"{fact.name} (byte {fact.byte}): {fact.issue}; no believable alternative worked.")
    grouped = [f.name for f in best.facts if f.grouped]
    if grouped:
        out.append(f"The traces are grouped by {grouped[0]} (the file is sorted by it).")
    elif best.varying:
        out.append("The traces are in no particular order of the index words (shuffled or interleaved).")
    overrides = dict(best.grid_overrides)
    if overrides.get("AutoChannelWrap"):
        per_cable = _channels_per_cable(sample, best)
        out.append(
            "Channel numbers run on across cables; AutoChannelWrap renumbers them from 1 on every cable"
            + (f" (or ChannelWrap with ChannelsPerCable: {per_cable})." if per_cable else ".")
        )
    if overrides.get("HasDuplicates"):
        out.append(
            "Some traces share an index tuple and no header word tells them apart: HasDuplicates adds a 'trace' axis "
            "counting them."
        )
    if overrides.get("NonBinned"):
        out.append(
            "Offsets are not binned (each gather has its own): NonBinned indexes the gathers and adds a 'trace' axis "
            "for the traces of each."
        )
    if hints:
        out.append(_hint_reason(hints, best, results))
    same = [c for c in results if c is not best and c.accepted and c.rank[:2] == best.rank[:2]]
    if same:
        out.append(f"Also works, ranked lower: {same[0].describe()} ({same[0].verdict}).")
    return out


def _hint_reason(hints: Mapping[str, int], best: Candidate, results: Sequence[Candidate]) -> str:
    named = "the text header names " + ", ".join(f"{k} at byte {v}" for k, v in sorted(hints.items()))
    hinted = set(hints.values())
    if hinted <= set(best.index_bytes):
        return named[0].upper() + named[1:] + ": agreed."
    if any(c.accepted and hinted <= set(c.index_bytes) for c in results):
        return f"Also, {named}: they give a usable grid too, ranked below the proposal (see the alternatives)."
    return f"Note: {named}, but those words give no usable grid here."


def _channels_per_cable(sample: HeaderSample, best: Candidate) -> int | None:
    cable = next(w for w in best.index if w.name == "cable")
    channel = next(w for w in best.index if w.name == "channel")
    cab, ch = sample.column(cable.byte, cable.type), sample.column(channel.byte, channel.type).astype(np.int64)
    counts = {int(c): np.unique(ch[cab == c]) for c in np.unique(cab)}
    sizes = {v.size for v in counts.values()}
    lows = sorted(int(v[0]) for v in counts.values())
    if len(sizes) != 1:
        return None
    size = sizes.pop()
    return size if lows == [1 + k * size for k in range(len(lows))] else None


def _words(index: Sequence[IndexWord]) -> str:
    parts = [f"{w.name} (byte {w.byte}{'' if w.type == 'int32' else ', ' + w.type})" for w in index]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _names(index: Sequence[IndexWord]) -> str:
    return "/".join(f"{w.name} {w.byte}" for w in index)


def _on(overrides: Mapping[str, Any]) -> str:
    return ", ".join(k for k, v in overrides.items() if v is True) or "grid overrides"


def _shape(shape: Sequence[int]) -> str:
    return " x ".join(str(s) for s in shape)


_DEPTH_PATTERNS: Final = (
    r"\bIN DEPTH\b",
    r"\bDEPTH (MIN|MAX|RANGE|DOMAIN)\b",
    r"\bDEPTH MIGRAT",
    r"\bPSDM\b",
    r"\bSAMPLE INTERVAL\W+[\d.]+\s*(M|FT|METRES?|METERS?|FEET)\b",
)
_TIME_PATTERNS: Final = (
    r"\bIN TIME\b",
    r"\bTIME (MIN|MAX|RANGE|DOMAIN)\b",
    r"\bTWT\b",
    r"\bPSTM\b",
    r"\bSAMPLE INTERVAL\W+[\d.]+\s*(MS|MSEC|US|SEC|S)\b",
)


def _guess_domain(lines: Sequence[str]) -> tuple[Literal["time", "depth"], str]:
    text = "\n".join(lines).upper()
    depth = sum(len(re.findall(p, text)) for p in _DEPTH_PATTERNS)
    time = sum(len(re.findall(p, text)) for p in _TIME_PATTERNS)
    if depth > time:
        return "depth", "Domain: depth (the text header speaks of depth); change the template if it is time."
    if time:
        return "time", "Domain: time (the text header speaks of time)."
    return "time", "Domain: time (assumed: the text header does not say); use a *Depth template for depth data."


_HINT_ROLES: Final = {
    "inline": r"\b(?:3D\s+)?(?:IN-?LINE|ILINE|INL)(?:\s+(?:NUMBER|NO\.?|NUM))?\b",
    "crossline": r"\b(?:3D\s+)?(?:X-?LINE|CROSS-?LINE|XLINE|CRL|XL)(?:\s+(?:NUMBER|NO\.?|NUM))?\b",
}


def text_byte_hints(lines: Sequence[str]) -> dict[str, int]:
    """Bytes the text header names for inline and crossline ("INLINE: 189-192", "Xline number : bytes 21-24")."""
    hints: dict[str, int] = {}
    for line in lines:
        upper = line.upper()
        for role, pattern in _HINT_ROLES.items():
            for match in re.finditer(pattern, upper):
                tail = upper[match.end() : match.end() + 40]
                found = re.match(r"[^0-9A-Z]*(?:BYTES?|POS(?:ITION)?S?)?[^0-9A-Z]*(\d{1,3})\s*[-–]\s*(\d{1,3})\b", tail)
                if not found:
                    continue
                first, last = int(found.group(1)), int(found.group(2))
                if last - first in (1, 3) and 1 <= first <= TRACE_HEADER_SIZE - 1:
                    hints.setdefault(role, first)
    return hints


# --- the ingestion spec -----------------------------------------------------------------------------------------------
#: Where the dataset schema is, relative to a catalog at the top of the repository.
DATASET_SCHEMA: Final = "schemas/dataset.schema.json"


def matching_template(proposal: GeometryProposal, registry: TemplateRegistry | None = None) -> TemplateSpec | None:
    """The ready template whose index (names, bytes, types) is the proposal's, preferring the proposal's domain."""
    registry = registry if registry is not None else TemplateRegistry.default()
    wanted = tuple((w.name, w.byte, w.type) for w in proposal.index)
    found = []
    for name in registry.names():
        template = registry.get(name)
        if tuple((f.name, f.byte, f.type) for f in template.index) == wanted:
            found.append(template)
    found.sort(key=lambda t: (t.domain != proposal.domain, t.name))
    return found[0] if found else None


def _same_overrides(template: Mapping[str, Any], proposed: Mapping[str, Any], n_traces: int) -> bool:
    a, b = dict(template), dict(proposed)
    qc = a.pop("AutoChannelTraceQC", None)
    b.pop("AutoChannelTraceQC", None)
    return a == b and (qc is None or not a.get("AutoChannelWrap") or qc >= n_traces)


def suggested_chunks(proposal: GeometryProposal, template: TemplateSpec | None = None) -> list[int]:
    """Chunks for the index dimensions plus the sample axis (the 'trace' axis of overrides excluded): the
    template's defaults or the converter's, no larger than the data (spatial sizes too, unless sampled)."""
    n_index = len(proposal.index)
    sizes = [*proposal.shape[:n_index], proposal.n_samples]
    if template is not None and template.default_chunks is not None:
        base = list(template.default_chunks)
    else:
        base = list(default_chunks(sizes))
    out = []
    for axis, (chunk, size) in enumerate(zip(base, sizes, strict=True)):
        spatial = axis < n_index
        out.append(max(1, min(int(chunk), int(size))) if (not spatial or not proposal.sampled) else int(chunk))
    return out


def proposed_spec(
    proposal: GeometryProposal,
    segy_url: str,
    template_registry: TemplateRegistry | None = None,
    *,
    chunks: bool = True,
) -> dict[str, Any]:
    """A catalog dataset entry (``DatasetSpec`` data) that ingests the file as ``proposal`` says.

    Uses a ready template when one has the proposal's index (its grid overrides kept unless they differ), an
    explicit ``source.index`` otherwise; ``endian`` when little-endian, ``sample_format`` when the samples
    contradict the binary header; ``chunks`` sized to the data. The result validates as a DatasetSpec.
    """
    template = matching_template(proposal, template_registry)
    source: dict[str, Any] = {"segy": str(segy_url)}
    overrides = dict(proposal.grid_overrides)
    if template is None:
        source["index"] = [w.to_dict() for w in proposal.index]
        if overrides:
            source["grid_overrides"] = overrides
    elif not _same_overrides(template.grid_overrides.to_reference(), overrides, proposal.n_traces):
        source["grid_overrides"] = overrides
    if proposal.endian == "little":
        source["endian"] = "little"
    if proposal.sample_format is not None:
        source["sample_format"] = proposal.sample_format
    spec: dict[str, Any] = {}
    if template is not None:
        spec["template"] = template.name
    spec["source"] = source
    if chunks:
        spec["chunks"] = suggested_chunks(proposal, template)
    shape = " x ".join(str(s) for s in proposal.full_shape)
    spec["description"] = (
        f"Proposed by segy scan: {proposal.kind.label}, {shape} ({', '.join((*proposal.dims, 'sample'))}), fill "
        f"{proposal.fill:.0%}, confidence {proposal.confidence_label}."
    )
    DatasetSpec.from_data(spec)  # a proposal that does not validate is a bug here, not the user's problem
    return spec


def proposed_spec_yaml(
    proposal: GeometryProposal,
    segy_url: str,
    template_registry: TemplateRegistry | None = None,
    *,
    name: str | None = None,
    schema: str | None = None,
) -> str:
    """:func:`proposed_spec` as YAML headed by comments (kind, shape, confidence, the main reasons).

    ``name`` nests the entry under ``datasets: {name: ...}`` ready to paste into a catalog; ``schema`` adds the
    ``# yaml-language-server: $schema=...`` line (e.g. :data:`DATASET_SCHEMA` relative to where it is saved).
    """
    spec = proposed_spec(proposal, segy_url, template_registry)
    words = ", ".join(f"{w.name}={w.byte}" + ("" if w.type == "int32" else f"/{w.type}") for w in proposal.index)
    comments = [
        f"# segy scan: {proposal.kind.label}",
        f"#   index {words}"
        f"; shape {' x '.join(str(s) for s in proposal.full_shape)}; fill {proposal.fill:.1%}; "
        f"confidence {proposal.confidence_label} ({proposal.confidence:.2f})",
    ]
    comments += [f"#   - {r}" for r in proposal.reasons[:3]]
    body = dump_yaml({"datasets": {name: spec}} if name else spec)
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return head + "\n".join(_wrap_comment(c) for c in comments) + "\n" + body


def _wrap_comment(line: str, width: int = 118) -> str:
    if len(line) <= width:
        return line
    words, out, current = line.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = "#       " + word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return "\n".join(out)


# --- everything from a path -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScanReport:
    """What :func:`scan_file` found: the header summary, the geometry proposal and the proposed spec."""

    summary: HeaderSummary
    proposal: GeometryProposal
    spec: dict[str, Any]
    segy_url: str

    def spec_yaml(
        self, *, name: str | None = None, schema: str | None = None, template_registry: TemplateRegistry | None = None
    ) -> str:
        """The proposed spec as YAML (see :func:`proposed_spec_yaml`)."""
        return proposed_spec_yaml(self.proposal, self.segy_url, template_registry, name=name, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.to_dict(), "proposal": self.proposal.to_dict(), "spec": self.spec}


def scan_file(
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    endian: Endian | None = None,
    sample_format: int | str | None = None,
    max_traces: int = DEFAULT_MAX_TRACES,
    template_registry: TemplateRegistry | None = None,
    segy_url: str | None = None,
) -> ScanReport:
    """Open ``path``, scan its headers, propose a geometry and a spec (``segy_url`` goes into the spec; default
    ``path``). A file labelled with the obsolete sample format 4 is opened as a 4-byte format and its samples
    decide which. Unreadable files raise the reader's errors (SegyTruncatedError, SegyFormatError, ...)."""
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
    proposal = propose_geometry(summary)
    url = str(path) if segy_url is None else segy_url
    return ScanReport(summary, proposal, proposed_spec(proposal, url, template_registry), url)


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


__all__ = [
    "DATASET_SCHEMA",
    "DEFAULT_MAX_TRACES",
    "Candidate",
    "DimensionFacts",
    "FieldSummary",
    "GeometryKind",
    "GeometryProposal",
    "HeaderSample",
    "HeaderSummary",
    "IndexWord",
    "SampleFormatCheck",
    "ScanReport",
    "evaluate_candidate",
    "matching_template",
    "propose_geometry",
    "proposed_spec",
    "proposed_spec_yaml",
    "read_header_sample",
    "scan_file",
    "scan_headers",
    "suggested_chunks",
    "text_byte_hints",
]
