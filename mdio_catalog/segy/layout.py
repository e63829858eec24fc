"""Where everything is in a SEG-Y file: byte order, sample format, trace size, first trace, trace count.

Real files contradict themselves (a binary header that says 0 samples, trace headers that say 1500 when the
traces hold 600, rev 2 fields full of garbage), so every quantity is taken from the most authoritative place
that agrees with the file size, and each fallback is written down in :attr:`SegyLayout.notes`. A file whose
size does not fit a whole number of traces under any reading is refused with the numbers that do not add up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from mdio_catalog.core.headers import FILE_HEADER_SIZE, TEXT_HEADER_SIZE, TRACE_HEADER_SIZE
from mdio_catalog.exceptions import SegyError, SegyFormatError, SegyTruncatedError
from mdio_catalog.segy.binary_header import BYTE_ORDER_CONSTANT, endian_scores, read_word
from mdio_catalog.segy.formats import SampleFormat, get_format, is_known_format
from mdio_catalog.segy.text_header import read_extended_text_headers

Endian = Literal["big", "little"]

#: Upper bounds beyond which a rev 2 count is treated as garbage rather than believed.
_MAX_EXTRA_TRACE_HEADERS: Final = 1000
_MAX_TRAILER_STANZAS: Final = 1000

ReadFn = Callable[[int, int], bytes]


@dataclass(frozen=True)
class SegyLayout:
    """The resolved geometry of a SEG-Y file on disk (all offsets in bytes from the start of the file)."""

    endian: Endian
    sample_format: SampleFormat
    n_samples: int
    sample_interval: float
    n_traces: int
    data_offset: int
    trace_header_size: int = TRACE_HEADER_SIZE
    extended_text: tuple[bytes, ...] = ()
    trailer_size: int = 0
    revision: tuple[int, int] = (0, 0)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def trace_size(self) -> int:
        """Bytes per trace: the standard header, any rev 2 extension headers, and the samples."""
        return self.trace_header_size + self.n_samples * self.sample_format.itemsize

    @property
    def extra_trace_headers(self) -> int:
        """Number of 240-byte trace-header extensions after the standard header (SEG-Y rev 2)."""
        return self.trace_header_size // TRACE_HEADER_SIZE - 1

    def trace_offset(self, index: int) -> int:
        """File offset of trace ``index``."""
        return self.data_offset + index * self.trace_size


def resolve_layout(
    file_header: bytes,
    file_size: int,
    read: ReadFn,
    *,
    endian: Endian | None = None,
    sample_format: int | str | None = None,
    url: str = "<segy>",
) -> SegyLayout:
    """Work out the layout of a file from its 3600-byte file header, its size and ranged reads.

    ``endian`` and ``sample_format`` override what the binary header says (for mislabelled files).
    """
    if file_size < FILE_HEADER_SIZE or len(file_header) < FILE_HEADER_SIZE:
        raise SegyTruncatedError(
            f"{url}: {file_size} bytes is shorter than the {FILE_HEADER_SIZE}-byte SEG-Y file header "
            "(3200-byte text + 400-byte binary header)"
        )
    binary = bytes(file_header[TEXT_HEADER_SIZE:FILE_HEADER_SIZE])
    if endian is not None:
        return _resolve(binary, file_size, read, endian, "given", sample_format, url)
    scores = endian_scores(binary)
    guess: Endian = "little" if scores["little"] > scores["big"] else "big"
    how = _endian_reason(binary, guess, scores)
    try:
        return _resolve(binary, file_size, read, guess, how, sample_format, url)
    except SegyError:
        if abs(scores["big"] - scores["little"]) >= 10:
            raise
        other: Endian = "little" if guess == "big" else "big"
        try:  # an undecided guess: the other byte order may be the one that fits the file size
            return _resolve(binary, file_size, read, other, "only reading that fits the file size", sample_format, url)
        except SegyError:
            pass
        raise


def _endian_reason(binary: bytes, endian: Endian, scores: dict[Endian, int]) -> str:
    if max(scores.values()) == 100:
        return "rev 2 byte-order constant at byte 3297"
    if scores[endian] >= 10 and scores[endian] - scores["big" if endian == "little" else "little"] >= 10:
        return f"sample format code at byte 3225 is valid only as {endian}-endian"
    return "weak evidence (plausible sample count and interval)"


def _resolve(
    binary: bytes,
    file_size: int,
    read: ReadFn,
    endian: Endian,
    endian_how: str,
    sample_format: int | str | None,
    url: str,
) -> SegyLayout:
    notes = [f"byte order {endian}-endian ({endian_how})"]

    def word(byte: int, kind: str) -> int:
        return int(read_word(binary, byte, kind, endian))

    # --- sample format --------------------------------------------------------------------------------------
    code = word(3225, "int16")
    if sample_format is not None:
        fmt = get_format(sample_format)
        if fmt.code != code:
            notes.append(f"sample format {fmt.code} ({fmt.name}) given; the binary header says {code}")
    else:
        if not is_known_format(code):
            raise SegyFormatError(
                f"{url}: binary header byte 3225 holds sample format code {code} (read {endian}-endian), which "
                "is not a SEG-Y format; the file may not be SEG-Y (Seismic Unix files have no file header), "
                "or pass sample_format= and endian= explicitly"
            )
        try:
            fmt = get_format(code)
        except SegyFormatError as exc:
            raise SegyFormatError(f"{url}: {exc}") from None

    # --- revision and rev 2 extras ----------------------------------------------------------------------------
    major, minor = binary[300], binary[301]
    has_constant = word(3297, "uint32") == BYTE_ORDER_CONSTANT
    rev2 = major in (2, 3) or has_constant

    # --- extended textual headers: the first trace follows them --------------------------------------------
    n_ext = word(3505, "int16")
    extended = read_extended_text_headers(
        lambda i: read(FILE_HEADER_SIZE + i * TEXT_HEADER_SIZE, TEXT_HEADER_SIZE), n_ext
    )
    data_offset = FILE_HEADER_SIZE + len(extended) * TEXT_HEADER_SIZE
    if extended:
        notes.append(f"{len(extended)} extended textual header(s); traces start at byte {data_offset}")

    trace_header_size = TRACE_HEADER_SIZE
    trailer = 0
    if rev2:
        extra = word(3507, "int16")  # rev 2.0/2.1: a 2-byte count (3509 is the survey type)
        if 0 < extra <= _MAX_EXTRA_TRACE_HEADERS:
            trace_header_size = TRACE_HEADER_SIZE * (1 + extra)
            notes.append(f"{extra} trace-header extension(s) of 240 bytes after each standard trace header")
        stanzas = word(3529, "int32")
        if 0 < stanzas <= _MAX_TRAILER_STANZAS:
            trailer = stanzas * TEXT_HEADER_SIZE

    # --- samples per trace: the first reading that fits the file size wins ------------------------------------
    first_header = read(data_offset, TRACE_HEADER_SIZE) if file_size >= data_offset + TRACE_HEADER_SIZE else b""
    trace_ns = _trace_word(first_header, 115, endian)
    candidates: list[tuple[int, str]] = []
    ext_ns = word(3269, "int32")
    if rev2 and ext_ns > 0:
        candidates.append((ext_ns, "binary header byte 3269 (rev 2 extended samples per trace)"))
    candidates.append((word(3221, "uint16"), "binary header byte 3221"))
    candidates.append((trace_ns, "first trace header byte 115"))
    if not rev2 and ext_ns > 0:
        candidates.append((ext_ns, "binary header byte 3269 (extended samples per trace)"))
    said = [(n, where) for n, where in candidates if n > 0 or where == "binary header byte 3221"]
    candidates = [(n, where) for n, where in candidates if n > 0]
    if not candidates:
        raise SegyFormatError(
            f"{url}: zero samples per trace (binary header bytes 3221 and 3269 and the first trace header "
            "byte 115 are all 0)"
        )

    trailers = [trailer, 0] if trailer else [0]
    chosen: tuple[int, str, int] | None = None
    for n_samples, where in candidates:
        for tail in trailers:
            payload = file_size - data_offset - tail
            if payload >= 0 and payload % (trace_header_size + n_samples * fmt.itemsize) == 0:
                chosen = (n_samples, where, tail)
                break
        if chosen:
            break
    if chosen is None:
        raise SegyTruncatedError(_size_mismatch(url, file_size, data_offset, trace_header_size, fmt, candidates))
    n_samples, where, trailer = chosen
    others = [f"{w} says {n}" for n, w in said if n != n_samples]
    if others:
        notes.append(f"samples per trace {n_samples} from {where} (fits the file size); " + ", ".join(others))
    trace_size = trace_header_size + n_samples * fmt.itemsize
    n_traces = (file_size - data_offset - trailer) // trace_size
    if trailer:
        notes.append(f"{trailer // TEXT_HEADER_SIZE} data trailer stanza(s) after the last trace")

    # --- sample interval (microseconds, or 0.0 when unknown) ------------------------------------------------------
    interval = _sample_interval(binary, first_header, endian, rev2, notes)
    return SegyLayout(
        endian=endian,
        sample_format=fmt,
        n_samples=n_samples,
        sample_interval=interval,
        n_traces=n_traces,
        data_offset=data_offset,
        trace_header_size=trace_header_size,
        extended_text=tuple(extended),
        trailer_size=trailer,
        revision=(major, minor),
        notes=tuple(notes),
    )


def _trace_word(header: bytes, byte: int, endian: Endian) -> int:
    if len(header) < byte + 1:
        return 0
    return int.from_bytes(header[byte - 1 : byte + 1], endian, signed=False)


def _sample_interval(binary: bytes, first_header: bytes, endian: Endian, rev2: bool, notes: list[str]) -> float:
    dt_bin = int(read_word(binary, 3217, "uint16", endian))
    if rev2:
        dt_ext = float(read_word(binary, 3273, "float64", endian))
        # rev 2 says a non-zero extended interval overrides; believe it where it is sane and agrees
        if math.isfinite(dt_ext) and dt_ext > 0 and (dt_bin == 0 or abs(dt_ext - dt_bin) < 1.0):
            return dt_ext
    if dt_bin > 0:
        return float(dt_bin)
    dt_trace = int.from_bytes(first_header[116:118], endian, signed=True) if len(first_header) >= 118 else 0
    if dt_trace > 0:
        notes.append(f"sample interval {dt_trace} us from the first trace header (binary header says 0)")
        return float(dt_trace)
    notes.append("sample interval unknown (0 in the binary and first trace header)")
    return 0.0


def _size_mismatch(
    url: str,
    file_size: int,
    data_offset: int,
    trace_header_size: int,
    fmt: SampleFormat,
    candidates: list[tuple[int, str]],
) -> str:
    n_samples, where = candidates[0]
    trace_size = trace_header_size + n_samples * fmt.itemsize
    payload = file_size - data_offset
    if payload < 0:
        return (
            f"{url}: the file has {file_size} bytes but its headers announce {data_offset} bytes before the "
            "first trace; the file is truncated"
        )
    whole, rest = divmod(payload, trace_size)
    others = "; ".join(f"{n} ({w})" for n, w in candidates[1:])
    alt = f" (other sample counts tried: {others})" if others else ""
    return (
        f"{url}: file size {file_size} bytes does not hold a whole number of traces: {payload} bytes after "
        f"byte {data_offset} / {trace_size} bytes per trace ({trace_header_size} header + {n_samples} samples "
        f"from {where} x {fmt.itemsize} bytes) = {whole} traces + {rest} bytes{alt}; the file is truncated "
        "or its traces vary in length"
    )
