"""Generator of SEG-Y test files, written with segyio (the oracle), and segyio-based readers for the checks.

A file is described by its trace-header columns (``{byte: values}``, 1-based standard trace-header byte numbers,
which are also segyio's ``TraceField`` values) and its samples ``(n_traces, n_samples)``, in any sample format
segyio can write (1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 16), big or little endian. Missing traces are simply cells the
caller leaves out of the columns (:func:`grid_columns` builds columns from axes and a live mask), and ``order``
writes the traces in any order (:func:`shuffled` gives a random one).

Nothing here uses ``mdio_catalog``: the tests compare the library against these arrays and against segyio.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import segyio

#: Sample formats segyio 1.9 writes.
SEGYIO_WRITABLE_FORMATS = (1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 16)

#: numpy type of each of those formats.
FORMAT_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("float32"),
    2: np.dtype("int32"),
    3: np.dtype("int16"),
    5: np.dtype("float32"),
    6: np.dtype("float64"),
    8: np.dtype("int8"),
    9: np.dtype("int64"),
    10: np.dtype("uint32"),
    11: np.dtype("uint16"),
    12: np.dtype("uint64"),
    16: np.dtype("uint8"),
}

#: Trace-header bytes and the v0 (MDIO) field names stored at them (from the SEG-Y rev 1 standard).
V0_NAME_OF_BYTE: dict[int, str] = {
    1: "trace_seq_num_line",
    5: "trace_seq_num_reel",
    9: "orig_field_record_num",
    13: "trace_num_orig_record",
    17: "energy_source_point_num",
    21: "ensemble_num",
    29: "trace_id_code",
    37: "source_to_receiver_distance",
    71: "coordinate_scalar",
    73: "source_coord_x",
    77: "source_coord_y",
    109: "delay_recording_time",
    115: "samples_per_trace",
    117: "sample_interval",
    133: "sweep_type",
    137: "sweep_taper_end",
    171: "group_num_roll_switch",
    181: "cdp_x",
    185: "cdp_y",
    189: "inline",
    193: "crossline",
    197: "shot_point",
    213: "device_trace_id",
}

#: v0 binary-header keys and segyio's fields for them (the two revision bytes are compared with raw bytes).
V0_BINARY_FIELDS: dict[str, int] = {
    "job_id": segyio.BinField.JobID,
    "line_num": segyio.BinField.LineNumber,
    "reel_num": segyio.BinField.ReelNumber,
    "data_traces_per_ensemble": segyio.BinField.Traces,
    "aux_traces_per_ensemble": segyio.BinField.AuxTraces,
    "sample_interval": segyio.BinField.Interval,
    "orig_sample_interval": segyio.BinField.IntervalOriginal,
    "samples_per_trace": segyio.BinField.Samples,
    "orig_samples_per_trace": segyio.BinField.SamplesOriginal,
    "data_sample_format": segyio.BinField.Format,
    "ensemble_fold": segyio.BinField.EnsembleFold,
    "trace_sorting_code": segyio.BinField.SortingCode,
    "vertical_sum_code": segyio.BinField.VerticalSum,
    "sweep_freq_start": segyio.BinField.SweepFrequencyStart,
    "sweep_freq_end": segyio.BinField.SweepFrequencyEnd,
    "sweep_length": segyio.BinField.SweepLength,
    "sweep_type_code": segyio.BinField.Sweep,
    "sweep_trace_num": segyio.BinField.SweepChannel,
    "sweep_taper_start": segyio.BinField.SweepTaperStart,
    "sweep_taper_end": segyio.BinField.SweepTaperEnd,
    "taper_type_code": segyio.BinField.Taper,
    "correlated_data_code": segyio.BinField.CorrelatedTraces,
    "binary_gain_code": segyio.BinField.BinaryGainRecovery,
    "amp_recovery_code": segyio.BinField.AmplitudeRecovery,
    "measurement_system_code": segyio.BinField.MeasurementSystem,
    "impulse_polarity_code": segyio.BinField.ImpulseSignalPolarity,
    "vibratory_polarity_code": segyio.BinField.VibratoryPolarity,
    "extended_data_traces_per_ensemble": segyio.BinField.ExtTraces,
    "extended_aux_traces_per_ensemble": segyio.BinField.ExtAuxTraces,
    "extended_samples_per_trace": segyio.BinField.ExtSamples,
    "extended_orig_samples_per_trace": segyio.BinField.ExtSamplesOriginal,
    "extended_ensemble_fold": segyio.BinField.ExtEnsembleFold,
    "fixed_length_trace_flag": segyio.BinField.TraceFlag,
    "num_extended_text_headers": segyio.BinField.ExtendedHeaders,
}

#: Distinctive binary-header values that do not change how the file is laid out.
DISTINCT_BINARY: dict[int, int] = {
    segyio.BinField.JobID: 7,
    segyio.BinField.LineNumber: 31,
    segyio.BinField.ReelNumber: 5,
    segyio.BinField.AuxTraces: 2,
    segyio.BinField.IntervalOriginal: 1000,
    segyio.BinField.SamplesOriginal: 1500,
    segyio.BinField.EnsembleFold: 6,
    segyio.BinField.SortingCode: 4,
    segyio.BinField.VerticalSum: 1,
    segyio.BinField.SweepFrequencyStart: 8,
    segyio.BinField.SweepFrequencyEnd: 80,
    segyio.BinField.SweepLength: 12000,
    segyio.BinField.Sweep: 1,
    segyio.BinField.Taper: 2,
    segyio.BinField.CorrelatedTraces: 2,
    segyio.BinField.BinaryGainRecovery: 1,
    segyio.BinField.AmplitudeRecovery: 4,
    segyio.BinField.MeasurementSystem: 1,
    segyio.BinField.ImpulseSignalPolarity: 2,
    segyio.BinField.VibratoryPolarity: 3,
}


@dataclass
class SyntheticSegy:
    """A generated file and the arrays it was made from (file order)."""

    path: Path
    headers: dict[int, npt.NDArray[np.int64]]
    samples: np.ndarray
    fmt: int
    endian: str
    dt: int
    text: list[str] = field(default_factory=list)

    @property
    def n_traces(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    def column(self, byte: int) -> npt.NDArray[np.int64]:
        return self.headers[byte]


def text_lines(title: str) -> dict[int, str]:
    """Text-header card contents for segyio.tools.create_text_header."""
    return {
        1: title[:76],
        2: "GENERATED BY tests/converters/segy_factory.py WITH SEGYIO",
        3: "LINE 3: (A) 1.5% <C> +-*/=_,.;?&\"'",
        40: "END",
    }


def write_segy(
    path: str | Path,
    headers: Mapping[int, npt.ArrayLike],
    samples: npt.ArrayLike,
    *,
    fmt: int = 5,
    endian: str = "big",
    dt: int = 4000,
    order: npt.ArrayLike | None = None,
    title: str = "MDIO CATALOG SEGY_TO_MDIO TEST FILE",
    binary: Mapping[int, int] | None = None,
    per_trace_sample_fields: bool = True,
) -> SyntheticSegy:
    """Write ``samples`` with trace headers ``headers`` (``{byte: column}``) to ``path`` with segyio.

    ``order`` is a permutation of the traces (file order = ``order``); the returned arrays are in file order.
    ``binary`` adds binary-header values (defaults: :data:`DISTINCT_BINARY`).
    """
    path = Path(path)
    data = np.asarray(samples)
    if data.ndim != 2:
        raise ValueError("samples must be (n_traces, n_samples)")
    n_traces, n_samples = data.shape
    dtype = FORMAT_DTYPES[fmt]
    if data.dtype != dtype:
        data = data.astype(dtype)
    cols = {int(byte): np.asarray(values).astype(np.int64).reshape(-1) for byte, values in headers.items()}
    for byte, col in cols.items():
        if col.size != n_traces:
            raise ValueError(f"header column {byte} has {col.size} values for {n_traces} traces")
    if order is not None:
        perm = np.asarray(order, dtype=np.int64)
        data = data[perm]
        cols = {byte: col[perm] for byte, col in cols.items()}
    spec = segyio.spec()
    spec.format = fmt
    spec.samples = list(range(n_samples))
    spec.tracecount = n_traces
    spec.endian = endian
    text = segyio.tools.create_text_header(text_lines(title))
    with segyio.create(str(path), spec) as f:
        f.text[0] = text
        f.bin.update({segyio.BinField.Interval: dt, **DISTINCT_BINARY, **(binary or {})})
        keys = list(cols)
        for i in range(n_traces):
            values = {byte: int(cols[byte][i]) for byte in keys}
            if per_trace_sample_fields:
                values.setdefault(segyio.TraceField.TRACE_SAMPLE_COUNT, n_samples)
                values.setdefault(segyio.TraceField.TRACE_SAMPLE_INTERVAL, dt)
            f.header[i] = values
            f.trace[i] = data[i]
    lines = [text[i : i + 80] for i in range(0, 3200, 80)]
    return SyntheticSegy(path=path, headers=cols, samples=data, fmt=fmt, endian=endian, dt=dt, text=lines)


def grid_columns(
    axes: Mapping[int, Sequence[int]], live: npt.ArrayLike | None = None
) -> tuple[dict[int, npt.NDArray[np.int64]], npt.NDArray[np.int64]]:
    """Columns for the live cells of the grid ``axes`` (``{byte: coordinates}``, first axis slowest), C order.

    Returns the columns and, for each trace, its multi-index in the grid ``(n_traces, n_axes)``.
    """
    bytes_ = list(axes)
    coords = [np.asarray(axes[b], dtype=np.int64) for b in bytes_]
    shape = tuple(c.size for c in coords)
    mask = np.ones(shape, dtype=bool) if live is None else np.asarray(live, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"live mask shape {mask.shape} != grid {shape}")
    index = np.argwhere(mask)
    cols = {b: coords[k][index[:, k]] for k, b in enumerate(bytes_)}
    return cols, index


def shuffled(n: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """A random file order of ``n`` traces."""
    return np.random.default_rng(seed).permutation(n)


def random_samples(n_traces: int, n_samples: int, fmt: int, seed: int = 0, *, zero_fraction: float = 0.0) -> np.ndarray:
    """Samples in the numpy type of ``fmt``: floats in a normal range (no IBM underflow), integers over the whole
    range of the type; ``zero_fraction`` of the samples are set to 0."""
    rng = np.random.default_rng(seed)
    dtype = FORMAT_DTYPES[fmt]
    if dtype.kind == "f":
        scale = 10.0 ** rng.integers(-2, 4, size=(n_traces, 1))
        values = (rng.standard_normal((n_traces, n_samples)) * scale).astype(dtype)
        values[values == 0] = 1.0
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=(n_traces, n_samples), endpoint=True, dtype=dtype)
    if zero_fraction:
        values[rng.random((n_traces, n_samples)) < zero_fraction] = 0
    return values


def ramp_samples(index: npt.ArrayLike, n_samples: int, base: float = 1.0) -> npt.NDArray[np.float32]:
    """Samples that identify their cell: ``base + sum(index_k * 100**k)`` + sample / 1000 (IBM/IEEE exact enough)."""
    idx = np.atleast_2d(np.asarray(index, dtype=np.int64))
    code = np.zeros(idx.shape[0], dtype=np.float64)
    for k in range(idx.shape[1]):
        code = code * 100 + idx[:, k]
    return (base + code[:, None] + np.arange(n_samples)[None, :] / 8.0).astype(np.float32)


# --- segyio-side reading (the oracle) -------------------------------------------------------------------------
@dataclass
class SegyioView:
    """What segyio reads from a file: traces, chosen header words, text and binary headers."""

    traces: np.ndarray
    words: dict[int, npt.NDArray[np.int64]]
    text: list[str]
    binary: dict[int, int]
    raw_binary: bytes


def read_with_segyio(path: str | Path, words: Sequence[int] = (), endian: str = "big") -> SegyioView:
    with segyio.open(str(path), ignore_geometry=True, endian=endian) as f:
        traces = f.trace.raw[:]
        got = {int(b): np.asarray(f.attributes(int(b))[:], dtype=np.int64) for b in words}
        text_bytes = bytes(f.text[0])
        binary = {int(field): int(f.bin[field]) for field in V0_BINARY_FIELDS.values()}
    text = text_bytes.decode("latin-1")
    raw_binary = Path(path).read_bytes()[3200:3600]
    return SegyioView(
        traces=np.atleast_2d(traces),
        words=got,
        text=[text[i : i + 80] for i in range(0, 3200, 80)],
        binary=binary,
        raw_binary=raw_binary,
    )


def expected_grid(columns: Sequence[npt.ArrayLike]) -> tuple[list[np.ndarray], npt.NDArray[np.int64]]:
    """Sorted unique coordinates of each index column and each trace's multi-index (numpy only)."""
    coords: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    for col in columns:
        unique, inverse = np.unique(np.asarray(col), return_inverse=True)
        coords.append(unique)
        positions.append(inverse.reshape(-1))
    return coords, np.stack(positions, axis=1) if positions else np.zeros((0, 0), np.int64)


def occurrence(columns: Sequence[npt.ArrayLike]) -> npt.NDArray[np.int64]:
    """1-based count of each index tuple in file order, with a plain Python loop (independent of the library)."""
    seen: dict[tuple[Any, ...], int] = {}
    out = []
    for key in zip(*(np.asarray(c).tolist() for c in columns), strict=True):
        seen[key] = seen.get(key, 0) + 1
        out.append(seen[key])
    return np.asarray(out, dtype=np.int64)


def chunk_keys(shape: Sequence[int], chunks: Sequence[int]) -> list[tuple[int, ...]]:
    """Every chunk index of an array."""
    return list(itertools.product(*(range(-(-s // c)) for s, c in zip(shape, chunks, strict=True))))


def exact_ibm32(words: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """IBM single-precision words decoded exactly (fractions, one rounding to float32): the oracle where segyio's
    fast conversion is known to be wrong (unnormalised words, results below the float32 normal range)."""
    from fractions import Fraction

    flat = np.asarray(words, dtype=np.uint32).reshape(-1)
    out = np.empty(flat.shape, dtype=np.float32)
    for i, w in enumerate(flat.tolist()):
        value = (-1 if w >> 31 else 1) * Fraction(w & 0xFFFFFF, 1 << 24) * Fraction(16) ** (((w >> 24) & 0x7F) - 64)
        out[i] = np.float32(float(value))
    return out.reshape(np.shape(words))


def ibm_words(path: str | Path, n_samples: int, endian: str = "big", ext_headers: int = 0) -> npt.NDArray[np.uint32]:
    """The raw 4-byte sample words of a fixed-length IBM file ``(n_traces, n_samples)``, read with numpy."""
    raw = np.fromfile(str(path), dtype=np.uint8)[3600 + 3200 * ext_headers :]
    traces = raw.reshape(-1, 240 + 4 * n_samples)[:, 240:]
    return traces.copy().view(">u4" if endian == "big" else "<u4").astype(np.uint32)


def correct_segyio_ibm(traces: np.ndarray, words: npt.NDArray[np.uint32]) -> np.ndarray:
    """segyio's float32 traces with the values it mis-decodes replaced by the exact decode."""
    mantissa = (words & 0x00FFFFFF) != 0
    unnormalised = ((words & 0x00F00000) == 0) & mantissa
    tiny = (np.abs(traces) < np.finfo(np.float32).tiny) & mantissa
    suspect = unnormalised | tiny
    fixed = np.array(traces, dtype=np.float32, copy=True)
    fixed[suspect] = exact_ibm32(words[suspect])
    return fixed


# --- byte-level variants of segyio's files (what segyio 1.9 cannot write) --------------------------------------
def with_additional_headers(src: SyntheticSegy, path: str | Path, count: int, seed: int = 0) -> Path:
    """A rev 2 copy of ``src`` with ``count`` additional 240-byte trace headers of random bytes after each standard
    one: revision 2.0 in bytes 3501-3502, ``count`` in 3507-3508 (int16, the file's byte order)."""
    itemsize = FORMAT_DTYPES[src.fmt].itemsize
    raw = np.fromfile(str(src.path), dtype=np.uint8)
    header = raw[:3600].copy()
    header[3500:3502] = (2, 0)
    header[3506:3508] = np.frombuffer(int(count).to_bytes(2, "big" if src.endian == "big" else "little"), np.uint8)
    records = raw[3600:].reshape(src.n_traces, 240 + src.n_samples * itemsize)
    extra = np.random.default_rng(seed).integers(0, 256, size=(src.n_traces, 240 * count), dtype=np.uint8)
    out = np.concatenate([header, np.concatenate([records[:, :240], extra, records[:, 240:]], axis=1).reshape(-1)])
    Path(path).write_bytes(out.tobytes())
    return Path(path)


def unnormalise_ibm(src: SyntheticSegy, path: str | Path, every: int = 3) -> tuple[Path, int]:
    """A copy of IBM file ``src`` where every ``every``-th sample word that can be written unnormalised (its last
    hex digit is 0 and its exponent below 127) is: fraction >> 4, exponent + 1, the same value. Returns the path
    and how many words were changed."""
    raw = np.fromfile(str(src.path), dtype=np.uint8)
    records = raw[3600:].reshape(src.n_traces, 240 + 4 * src.n_samples)
    order = ">u4" if src.endian == "big" else "<u4"
    words = records[:, 240:].copy().view(order).astype(np.uint32)
    fraction, exponent = words & 0xFFFFFF, (words >> 24) & 0x7F
    can = (fraction != 0) & ((fraction & 0xF) == 0) & (exponent < 127)
    chosen = np.zeros(words.shape, dtype=bool)
    chosen.reshape(-1)[np.flatnonzero(can.reshape(-1))[::every]] = True
    changed = (words & 0x80000000) | ((exponent + 1) << 24) | (fraction >> 4)
    words = np.where(chosen, changed, words).astype(np.uint32)
    records[:, 240:] = words.astype(order).view(np.uint8).reshape(src.n_traces, -1)
    Path(path).write_bytes(raw.tobytes())
    return Path(path), int(chosen.sum())
