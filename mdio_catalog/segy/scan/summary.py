"""Step 1 of a scan: the file's facts and every standard trace-header word summarised.

Also checks the declared sample format against the sample words (IBM vs IEEE, the obsolete format 4), because a
wrong label is the most common reason a file ingests to nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np

from mdio_catalog.core.headers import TRACE_HEADER_FIELDS
from mdio_catalog.segy.reader import SegyFile
from mdio_catalog.segy.scan.arrays import within_blocks
from mdio_catalog.segy.scan.sample import DEFAULT_MAX_TRACES, Endian, HeaderSample, read_header_sample

#: Traces whose samples are looked at to check the sample format.
FORMAT_CHECK_TRACES: Final = 64


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
            "scanned (ingestion keeps the extensions as raw bytes and exports them back)"
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


def _monotonic(col: np.ndarray, block_starts: np.ndarray) -> Monotonic:
    keep = within_blocks(col.size, block_starts)
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
