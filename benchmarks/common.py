"""Shared helpers for the benchmarks: synthetic SEG-Y files, a process-tree RSS sampler, subprocess runs.

Everything here runs in *our* virtual environment. The only code that runs in the reference's environment is the
small worker script in :data:`WORKER_SOURCE`, written to the work directory and executed as a file (the
reference uses a process pool, so its entry point must be guarded by ``if __name__ == "__main__"``).

Units: MB means 10**6 bytes everywhere (sizes, throughput and RSS).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_WORKDIR: Final = Path(__file__).resolve().parent / "out"
MB: Final = 1_000_000

#: Bump when the generator changes: cached files made by an older generator are rebuilt.
GENERATOR_VERSION: Final = 3

FILE_HEADER_BYTES: Final = 3600
TRACE_HEADER_BYTES: Final = 240

#: Traces generated (and written) per block; the file is produced in whole inlines of about this many traces.
TARGET_BLOCK_TRACES: Final = 4096

# --------------------------------------------------------------------------------------------------------------
# SEG-Y layout (big-endian, revision 0 like segyio.create, IBM floats)
# --------------------------------------------------------------------------------------------------------------

#: Binary header fields we fill: name -> (1-based byte in the file, numpy type).
BINARY_FIELDS: Final[dict[str, tuple[int, str]]] = {
    "job_id": (3201, ">i4"),
    "line_num": (3205, ">i4"),
    "reel_num": (3209, ">i4"),
    "data_traces_per_ensemble": (3213, ">i2"),
    "aux_traces_per_ensemble": (3215, ">i2"),
    "sample_interval": (3217, ">i2"),
    "orig_sample_interval": (3219, ">i2"),
    "samples_per_trace": (3221, ">i2"),
    "orig_samples_per_trace": (3223, ">i2"),
    "data_sample_format": (3225, ">i2"),
    "ensemble_fold": (3227, ">i2"),
    "trace_sorting_code": (3229, ">i2"),
    "measurement_system_code": (3255, ">i2"),
    "segy_revision": (3501, ">i2"),
    "fixed_length_trace_flag": (3503, ">i2"),
    "num_extended_text_headers": (3505, ">i2"),
}

#: Trace header fields we fill: name -> (1-based byte in the trace header, numpy type).
TRACE_FIELDS: Final[dict[str, tuple[int, str]]] = {
    "trace_seq_num_line": (1, ">i4"),
    "trace_seq_num_reel": (5, ">i4"),
    "orig_field_record_num": (9, ">i4"),
    "trace_num_orig_record": (13, ">i4"),
    "ensemble_num": (21, ">i4"),
    "trace_num_ensemble": (25, ">i4"),
    "trace_id_code": (29, ">i2"),
    "data_use": (35, ">i2"),
    "offset": (37, ">i4"),
    "coordinate_scalar": (71, ">i2"),
    "source_coord_x": (73, ">i4"),
    "source_coord_y": (77, ">i4"),
    "group_coord_x": (81, ">i4"),
    "group_coord_y": (85, ">i4"),
    "coordinate_unit": (89, ">i2"),
    "samples_per_trace": (115, ">i2"),
    "sample_interval": (117, ">i2"),
    "cdp_x": (181, ">i4"),
    "cdp_y": (185, ">i4"),
    "inline": (189, ">i4"),
    "crossline": (193, ">i4"),
    "shot_point": (197, ">i4"),
}

COORDINATE_SCALAR: Final = -100  # coordinates are stored in centimetres


def record_dtype(n_samples: int) -> np.dtype:
    """One trace record (240-byte header + IBM samples as big-endian words) as a structured dtype."""
    names = [*TRACE_FIELDS, "samples"]
    formats: list[Any] = [fmt for _, fmt in TRACE_FIELDS.values()] + [(">u4", (n_samples,))]
    offsets = [byte - 1 for byte, _ in TRACE_FIELDS.values()] + [TRACE_HEADER_BYTES]
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": TRACE_HEADER_BYTES + 4 * n_samples}
    )


def text_header(lines: Sequence[str]) -> bytes:
    """A 3200-byte EBCDIC text header: 40 card images ``C 1 ...`` of 80 characters."""
    cards = [f"C{i + 1:2d} {lines[i] if i < len(lines) else ''}"[:80].ljust(80) for i in range(40)]
    cards[-1] = "C40 END TEXTUAL HEADER".ljust(80)
    data = "".join(cards).encode("cp037")
    assert len(data) == 3200
    return data


def binary_header(values: dict[str, int]) -> bytes:
    names = list(BINARY_FIELDS)
    dtype = np.dtype(
        {
            "names": names,
            "formats": [BINARY_FIELDS[n][1] for n in names],
            "offsets": [BINARY_FIELDS[n][0] - 3201 for n in names],
            "itemsize": 400,
        }
    )
    header = np.zeros(1, dtype=dtype)
    for name, value in values.items():
        header[name] = value
    return header.tobytes()


# --------------------------------------------------------------------------------------------------------------
# Synthetic surveys
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Survey:
    """A regular synthetic survey, traces sorted inline, crossline, offset (the usual file order)."""

    name: str
    n_il: int
    n_xl: int
    n_off: int  # 0 for post-stack
    n_samples: int
    interval_us: int = 4000
    il0: int = 1000
    xl0: int = 2000
    off0: int = 50  # metres
    off_step: int = 50
    seed: int = 20240601

    @property
    def prestack(self) -> bool:
        return self.n_off > 0

    @property
    def traces_per_cell(self) -> int:
        return max(self.n_off, 1)

    @property
    def n_traces(self) -> int:
        return self.n_il * self.n_xl * self.traces_per_cell

    @property
    def trace_bytes(self) -> int:
        return TRACE_HEADER_BYTES + 4 * self.n_samples

    @property
    def file_bytes(self) -> int:
        return FILE_HEADER_BYTES + self.n_traces * self.trace_bytes

    @property
    def shape(self) -> tuple[int, ...]:
        spatial = (self.n_il, self.n_xl, self.n_off) if self.prestack else (self.n_il, self.n_xl)
        return (*spatial, self.n_samples)

    @property
    def inlines_per_block(self) -> int:
        return max(1, TARGET_BLOCK_TRACES // (self.n_xl * self.traces_per_cell))

    @property
    def n_blocks(self) -> int:
        return -(-self.n_il // self.inlines_per_block)

    @property
    def filename(self) -> str:
        dims = "x".join(str(n) for n in self.shape)
        return f"{self.name}_{dims}.sgy"

    def block_traces(self, block: int) -> tuple[int, int]:
        """Global trace range ``[start, stop)`` of generation block ``block``."""
        per_inline = self.n_xl * self.traces_per_cell
        first = block * self.inlines_per_block
        last = min(first + self.inlines_per_block, self.n_il)
        return first * per_inline, last * per_inline

    def trace_position(self, traces: npt.NDArray[np.int64]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inline, crossline and offset *indices* of global trace numbers."""
        cell, off = np.divmod(traces, self.traces_per_cell)
        il, xl = np.divmod(cell, self.n_xl)
        return il, xl, off


def poststack_survey(scale: float = 1.0) -> Survey:
    """400 x 400 x 1001 samples at 4 ms (679 MB); ``scale`` multiplies the trace count (side x sqrt(scale))."""
    side = round(400 * math.sqrt(scale))
    name = "poststack" if scale == 1 else f"poststack_x{scale:g}"
    return Survey(name=name, n_il=side, n_xl=side, n_off=0, n_samples=1001)


def prestack_survey() -> Survey:
    """50 inlines x 50 crosslines x 48 offsets (50..2400 m) x 751 samples at 4 ms (389 MB)."""
    return Survey(name="prestack", n_il=50, n_xl=50, n_off=48, n_samples=751)


@dataclass(frozen=True)
class Geology:
    """Survey-wide earth model: dipping, undulating horizons and a laterally shifted background reflectivity."""

    t0: np.ndarray  # (K,) horizon two-way time at the survey centre, ms
    dip_il: np.ndarray  # (K,) ms per inline
    dip_xl: np.ndarray  # (K,) ms per crossline
    bump: np.ndarray  # (K,) amplitude of the undulation, ms
    phase: np.ndarray  # (K, 2) undulation phases
    refl: np.ndarray  # (K,) reflection coefficient
    avo: np.ndarray  # (K,) gradient of the amplitude with offset**2
    background: np.ndarray  # (n_samples + 2 * pad,) fine-layered reflectivity
    pad: int


def make_geology(survey: Survey) -> Geology:
    rng = np.random.default_rng(survey.seed)
    t_max = survey.n_samples * survey.interval_us / 1000.0
    n_horizons = max(8, int(t_max / 50))
    pad = 40
    return Geology(
        t0=np.sort(rng.uniform(40.0, t_max * 1.05, n_horizons)),
        dip_il=rng.normal(0.0, 0.25, n_horizons),
        dip_xl=rng.normal(0.0, 0.15, n_horizons),
        bump=rng.uniform(2.0, 25.0, n_horizons),
        phase=rng.uniform(0.0, 2 * np.pi, (n_horizons, 2)),
        refl=rng.laplace(0.0, 0.12, n_horizons),
        avo=rng.uniform(-1.0, 1.0, n_horizons),
        background=rng.laplace(0.0, 0.02, survey.n_samples + 2 * pad),
        pad=pad,
    )


def _velocity(t_ms: np.ndarray) -> np.ndarray:
    """Stacking velocity (m/s) increasing with time."""
    return 1600.0 + 0.7 * t_ms


def _ricker_spectrum(n_fft: int, dt_s: float, peak_hz: float) -> np.ndarray:
    f = np.fft.rfftfreq(n_fft, dt_s)
    return (f / peak_hz) ** 2 * np.exp(1.0 - (f / peak_hz) ** 2)


def synthetic_block(survey: Survey, geology: Geology, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Global trace numbers and float32 samples ``(n, n_samples)`` of generation block ``block``.

    Reflectivity (horizons with dip, undulation, amplitude variation and AVO, plus a fine-layered background,
    with hyperbolic moveout and a top mute for pre-stack) plus some white noise, convolved with a 25 Hz Ricker
    wavelet, with a time-decaying and laterally varying gain, plus a little broadband noise. Deterministic for a
    given ``(survey, block)``.
    """
    start, stop = survey.block_traces(block)
    traces = np.arange(start, stop, dtype=np.int64)
    il, xl, off = survey.trace_position(traces)
    n, ns = traces.size, survey.n_samples
    dt_ms = survey.interval_us / 1000.0
    rng = np.random.default_rng([survey.seed, block])
    ilc, xlc = il - survey.n_il / 2.0, xl - survey.n_xl / 2.0
    offset_m = (survey.off0 + off * survey.off_step).astype(np.float64) if survey.prestack else np.zeros(n)
    x_max = float(survey.off0 + max(survey.n_off - 1, 0) * survey.off_step) or 1.0

    # Horizons: zero-offset time at this (il, xl), then moveout to the trace's offset.
    g = geology
    t0 = (
        g.t0[None, :]
        + g.dip_il[None, :] * ilc[:, None]
        + g.dip_xl[None, :] * xlc[:, None]
        + g.bump[None, :]
        * np.sin(2 * np.pi * il[:, None] / 97.0 + g.phase[None, :, 0])
        * np.cos(2 * np.pi * xl[:, None] / 131.0 + g.phase[None, :, 1])
    )
    x_ms = offset_m[:, None] / _velocity(t0) * 1000.0
    t_event = np.sqrt(t0**2 + x_ms**2)
    amp = g.refl[None, :] * (
        1.0 + 0.35 * np.sin(2 * np.pi * (il[:, None] + 0.7 * xl[:, None]) / 61.0 + g.phase[None, :, 0])
    )
    amp = amp * (1.0 + g.avo[None, :] * (offset_m[:, None] / x_max) ** 2)
    pos = t_event / dt_ms
    i0 = np.floor(pos).astype(np.int64)
    w = pos - i0
    rows = np.broadcast_to(np.arange(n)[:, None], i0.shape)
    spikes = np.zeros(n * ns)
    for idx, weight in ((i0, amp * (1.0 - w)), (i0 + 1, amp * w)):
        keep = (idx >= 0) & (idx < ns)
        spikes += np.bincount((rows * ns + idx)[keep], weights=weight[keep], minlength=n * ns)
    reflectivity = spikes.reshape(n, ns)

    # Background: one fine-layered series, shifted laterally, stretched by moveout, muted above the direct wave.
    t = np.arange(ns) * dt_ms
    shift = 0.5 * g.pad * np.sin(2 * np.pi * il / 173.0) * np.cos(2 * np.pi * xl / 151.0)
    if survey.prestack:
        x_t = offset_m[:, None] / _velocity(t)[None, :] * 1000.0
        t_zero = np.sqrt(np.maximum(t[None, :] ** 2 - x_t**2, 0.0))
        live = t[None, :] > 1.15 * x_t  # top (stretch) mute
    else:
        t_zero = np.broadcast_to(t[None, :], (n, ns))
        live = np.ones((n, ns), dtype=bool)
    index = np.rint(t_zero / dt_ms + g.pad + shift[:, None]).astype(np.int64)
    reflectivity += g.background[np.clip(index, 0, g.background.size - 1)]
    reflectivity += rng.normal(0.0, 0.006, (n, ns))  # incoherent "noise reflectivity": band-limited below

    n_fft = 1 << (ns + 64 - 1).bit_length()
    spectrum = np.fft.rfft(reflectivity, n_fft, axis=1) * _ricker_spectrum(n_fft, dt_ms / 1000.0, 25.0)
    # zero-phase wavelet: no shift needed because the spectrum is real
    seismic = np.fft.irfft(spectrum, n_fft, axis=1)[:, :ns]

    gain = 3000.0 / (1.0 + t / 800.0)
    lateral = 1.0 + 0.25 * np.sin(2 * np.pi * il / 211.0 + 1.0) * np.sin(2 * np.pi * xl / 97.0 + 0.5)
    seismic = seismic * gain[None, :] * lateral[:, None]
    seismic += rng.normal(0.0, 4.0, (n, ns))
    seismic[~live] = 0.0
    return traces, seismic.astype(np.float32)


def block_records(survey: Survey, geology: Geology, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The trace records (headers + IBM samples) of one block, and the float32 samples they encode."""
    traces, samples = synthetic_block(survey, geology, block)
    il, xl, off = survey.trace_position(traces)
    records = np.zeros(traces.size, dtype=record_dtype(survey.n_samples))
    cell = il * survey.n_xl + xl
    inline = survey.il0 + il
    crossline = survey.xl0 + xl
    # Grid: origin (500 km, 6000 km), 25 m between inlines, 12.5 m between crosslines, rotated by 30 degrees.
    angle = np.deg2rad(30.0)
    along_il, along_xl = xl * 12.5, il * 25.0
    x = 500_000.0 + along_il * np.cos(angle) - along_xl * np.sin(angle)
    y = 6_000_000.0 + along_il * np.sin(angle) + along_xl * np.cos(angle)
    offset = survey.off0 + off * survey.off_step if survey.prestack else np.zeros_like(off)
    half = offset / 2.0
    records["trace_seq_num_line"] = traces + 1
    records["trace_seq_num_reel"] = traces + 1
    records["orig_field_record_num"] = cell + 1
    records["trace_num_orig_record"] = off + 1
    records["ensemble_num"] = cell + 1
    records["trace_num_ensemble"] = off + 1
    records["trace_id_code"] = 1
    records["data_use"] = 1
    records["offset"] = offset
    records["coordinate_scalar"] = COORDINATE_SCALAR
    records["source_coord_x"] = np.rint((x - half * np.cos(angle)) * 100)
    records["source_coord_y"] = np.rint((y - half * np.sin(angle)) * 100)
    records["group_coord_x"] = np.rint((x + half * np.cos(angle)) * 100)
    records["group_coord_y"] = np.rint((y + half * np.sin(angle)) * 100)
    records["coordinate_unit"] = 1
    records["samples_per_trace"] = survey.n_samples
    records["sample_interval"] = survey.interval_us
    records["cdp_x"] = np.rint(x * 100)
    records["cdp_y"] = np.rint(y * 100)
    records["inline"] = inline
    records["crossline"] = crossline
    records["shot_point"] = crossline
    records["samples"] = float_to_ibm(samples)
    return records, samples


def file_header(survey: Survey) -> bytes:
    kind = "PRE-STACK CDP GATHERS" if survey.prestack else "POST-STACK 3D VOLUME"
    dims = " x ".join(str(n) for n in survey.shape)
    text = text_header(
        [
            f"MDIO_CATALOG SYNTHETIC {kind} (benchmarks/common.py v{GENERATOR_VERSION})",
            f"SHAPE {dims}, {survey.interval_us} US SAMPLING, IBM FLOAT",
            "INLINE BYTE 189, CROSSLINE BYTE 193, CDP X/Y BYTES 181/185 (SCALAR -100)",
            "OFFSET BYTE 37 (METRES)" if survey.prestack else "",
            f"SEED {survey.seed}",
        ]
    )
    binary = binary_header(
        {
            "job_id": 1,
            "line_num": 1,
            "reel_num": 1,
            "data_traces_per_ensemble": survey.traces_per_cell,
            "sample_interval": survey.interval_us,
            "orig_sample_interval": survey.interval_us,
            "samples_per_trace": survey.n_samples,
            "orig_samples_per_trace": survey.n_samples,
            "data_sample_format": 1,
            "ensemble_fold": survey.traces_per_cell,
            "trace_sorting_code": 2 if survey.prestack else 4,
            "measurement_system_code": 1,
        }
    )
    return text + binary


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _cache_key(survey: Survey) -> dict[str, Any]:
    return {"generator_version": GENERATOR_VERSION, "survey": asdict(survey), "bytes": survey.file_bytes}


def ensure_segy(survey: Survey, workdir: Path, log: Any = print) -> Path:
    """Generate ``survey`` into ``workdir`` unless an identical file is cached there; verify it with segyio."""
    path = workdir / survey.filename
    key = _cache_key(survey)
    sidecar = _sidecar(path)
    if path.exists() and sidecar.exists() and path.stat().st_size == survey.file_bytes:
        try:
            cached = json.loads(sidecar.read_text())
        except json.JSONDecodeError:
            cached = None
        if cached == key:
            log(f"  using cached {path} ({survey.file_bytes / MB:.0f} MB)")
            return path
    workdir.mkdir(parents=True, exist_ok=True)
    sidecar.unlink(missing_ok=True)
    geology = make_geology(survey)
    partial = path.with_suffix(".sgy.partial")
    started = time.perf_counter()
    with partial.open("wb") as handle:
        handle.write(file_header(survey))
        for block in range(survey.n_blocks):
            records, _ = block_records(survey, geology, block)
            records.tofile(handle)
    partial.replace(path)
    elapsed = time.perf_counter() - started
    if path.stat().st_size != survey.file_bytes:
        raise RuntimeError(f"{path}: {path.stat().st_size} bytes, expected {survey.file_bytes}")
    log(f"  generated {path} ({survey.file_bytes / MB:.0f} MB) in {elapsed:.1f} s")
    verify_segy(survey, path, geology)
    log("  verified with segyio: geometry, headers and one trace match the generator")
    sidecar.write_text(json.dumps(key, indent=2) + "\n")
    return path


def verify_segy(survey: Survey, path: Path, geology: Geology | None = None) -> None:
    """Open ``path`` with segyio (inline 189, crossline 193, offset 37) and check geometry, headers and a trace."""
    import segyio

    geology = geology or make_geology(survey)
    with segyio.open(str(path), "r", iline=189, xline=193) as f:
        if f.tracecount != survey.n_traces or len(f.samples) != survey.n_samples:
            raise AssertionError(f"segyio sees {f.tracecount} traces of {len(f.samples)} samples")
        if f.bin[segyio.BinField.Format] != 1:
            raise AssertionError(f"sample format {f.bin[segyio.BinField.Format]}, expected 1 (IBM)")
        expected_il = np.arange(survey.il0, survey.il0 + survey.n_il)
        expected_xl = np.arange(survey.xl0, survey.xl0 + survey.n_xl)
        if not (np.array_equal(f.ilines, expected_il) and np.array_equal(f.xlines, expected_xl)):
            raise AssertionError("segyio inline/crossline geometry differs from the survey")
        n_off = len(f.offsets)
        if n_off != survey.traces_per_cell:
            raise AssertionError(f"segyio finds {n_off} offsets, expected {survey.traces_per_cell}")
        # One trace from the middle of the file: regenerate its block and compare bit for bit.
        trace = survey.n_traces // 2 + survey.n_xl * survey.traces_per_cell // 3 + 1
        block = trace // (survey.inlines_per_block * survey.n_xl * survey.traces_per_cell)
        records, samples = block_records(survey, geology, block)
        start, _ = survey.block_traces(block)
        wanted = ibm_to_float(float_to_ibm(samples[trace - start]))
        got = f.trace[trace]
        if not np.array_equal(got, wanted):
            raise AssertionError(f"trace {trace}: max |diff| {np.max(np.abs(got - wanted))}")
        if float(np.std(got)) == 0.0:
            raise AssertionError(f"trace {trace} is constant")
        head = f.header[trace]
        record = records[trace - start]
        for field_name, key in (
            ("inline", segyio.TraceField.INLINE_3D),
            ("crossline", segyio.TraceField.CROSSLINE_3D),
            ("offset", segyio.TraceField.offset),
            ("cdp_x", segyio.TraceField.CDP_X),
            ("cdp_y", segyio.TraceField.CDP_Y),
        ):
            if head[key] != int(record[field_name]):
                raise AssertionError(f"trace {trace}: {field_name} {head[key]} != {int(record[field_name])}")


# --------------------------------------------------------------------------------------------------------------
# Page cache
# --------------------------------------------------------------------------------------------------------------


def warm_file(path: Path, block: int = 16 * 1024 * 1024) -> float:
    """Read ``path`` once so it sits in the page cache; returns the seconds taken."""
    started = time.perf_counter()
    buffer = bytearray(block)
    with path.open("rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass
    return time.perf_counter() - started


def drop_caches() -> None:
    """``sync; echo 3 > /proc/sys/vm/drop_caches`` (needs root)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


# --------------------------------------------------------------------------------------------------------------
# Machine load: the benchmark shares the CPUs with whatever else runs
# --------------------------------------------------------------------------------------------------------------

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def cpu_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (user, nice, system, irq, softirq; all CPUs)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def wait_for_idle(max_wait: float, threshold: float = 0.15, window: float = 1.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine's busy CPUs over ``window`` s fall below ``threshold``.

    Returns the last measured load in busy CPUs.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_busy_seconds()
        time.sleep(window)
        load = (cpu_busy_seconds() - before) / window
        if load < threshold or time.monotonic() >= deadline:
            return load


# --------------------------------------------------------------------------------------------------------------
# Process-tree memory sampler (reads /proc directly)
# --------------------------------------------------------------------------------------------------------------


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces or parentheses, so split after the last ')'.
        ppid = int(stat[stat.rfind(b")") + 2 :].split(maxsplit=2)[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that exist right now."""
    children = _parent_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _status_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of ``pid`` in KiB; zeros for a process that is gone or a zombie."""
    rss = anon = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"RssAnon:"):
                    anon = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, anon


@dataclass
class MemoryPeak:
    rss_bytes: int = 0  # peak over time of the tree's summed VmRSS
    anon_bytes: int = 0  # peak over time of the tree's summed RssAnon (heap etc., without file-backed pages)
    max_processes: int = 0
    samples: int = 0


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants every ``interval`` seconds in a thread.

    The sum counts pages shared between processes (e.g. forked workers) once per process, as the brief asks:
    an upper bound on the memory the tree needs.
    """

    def __init__(self, root: int, interval: float = 0.02) -> None:
        self.root = root
        self.interval = interval
        self.peak = MemoryPeak()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        pids = process_tree(self.root)
        rss = anon = 0
        for pid in pids:
            r, a = _status_kib(pid)
            rss += r
            anon += a
        peak = self.peak
        peak.rss_bytes = max(peak.rss_bytes, rss * 1024)
        peak.anon_bytes = max(peak.anon_bytes, anon * 1024)
        peak.max_processes = max(peak.max_processes, len(pids))
        peak.samples += 1


# --------------------------------------------------------------------------------------------------------------
# Running one ingestion in a subprocess
# --------------------------------------------------------------------------------------------------------------

WORKER_NAME: Final = "_ingest_worker.py"

#: Runs in either environment (ours or the reference's); only the standard library at import time.
WORKER_SOURCE: Final = '''# mypy: ignore-errors
"""Generated by benchmarks/common.py: run one segy_to_mdio call and print a JSON line."""
import json
import resource
import sys
import time


def high_water_kib() -> int:
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so it would include the parent's peak.
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    spec = json.loads(sys.argv[1])
    started = time.perf_counter()
    if spec["impl"] == "ours":
        from mdio_catalog.converters.segy import segy_to_mdio
    else:
        from mdio import segy_to_mdio
    imported = time.perf_counter()
    segy_to_mdio(
        spec["segy"],
        spec["out"],
        index_bytes=tuple(spec["index_bytes"]),
        index_names=tuple(spec["index_names"]),
        chunksize=tuple(spec["chunksize"]),
    )
    done = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "import_s": imported - started,
        "ingest_s": done - imported,
        "self_hwm_kib": high_water_kib(),
        "cpu_s": usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime,
    }))


if __name__ == "__main__":
    main()
'''


def worker_script(workdir: Path) -> Path:
    path = workdir / WORKER_NAME
    if not path.exists() or path.read_text() != WORKER_SOURCE:
        path.write_text(WORKER_SOURCE)
    return path


def code_state() -> dict[str, str]:
    """Which mdio_catalog was measured: git HEAD, and a hash of the package sources (the tree may be dirty)."""
    digest = hashlib.sha256()
    package = REPO_ROOT / "mdio_catalog"
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "mdio_catalog"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"git_head": head or "?", "mdio_catalog_dirty": str(bool(dirty)), "sources_sha256": digest.hexdigest()[:12]}


def clean_env() -> dict[str, str]:
    """Environment for child interpreters: nothing from the calling virtual environment leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def our_python() -> Path:
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def reference_python() -> Path:
    """The reference venv's python (multidimio 0.9.3), created like the interop tests do if missing."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.interop.conftest import ensure_reference_venv, interop_venv_dir

    return ensure_reference_venv(interop_venv_dir())


@dataclass
class IngestRun:
    impl: str
    dataset: str
    segy: str
    out: str
    input_bytes: int
    ingest_s: float = math.nan  # the segy_to_mdio call alone
    wall_s: float = math.nan  # the whole subprocess, interpreter start and imports included
    import_s: float = math.nan
    cpu_s: float = math.nan
    peak_rss_bytes: int = 0
    peak_anon_bytes: int = 0
    max_processes: int = 0
    rss_samples: int = 0
    self_hwm_bytes: int = 0  # VmHWM of the main process (cross-check of the sampler)
    output_bytes: int = 0
    output_files: int = 0
    other_load: float = math.nan  # CPUs kept busy by other processes during the run (contention)
    ok: bool = False
    error: str = ""
    check: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mb_per_s(self) -> float:
        return self.input_bytes / MB / self.ingest_s if self.ok and self.ingest_s > 0 else math.nan


def tree_size(path: Path) -> tuple[int, int]:
    """Total bytes (apparent sizes) and number of files under ``path``."""
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(root, name)).st_size
            files += 1
    return total, files


def run_ingest(
    impl: str,
    python: Path,
    dataset: str,
    segy: Path,
    out: Path,
    index_bytes: Sequence[int],
    index_names: Sequence[str],
    chunksize: Sequence[int],
    workdir: Path,
    log_path: Path,
    interval: float = 0.02,
    extra_env: dict[str, str] | None = None,
) -> IngestRun:
    """Run one ingestion in a fresh interpreter, sampling its process tree's memory."""
    segy, out, workdir = segy.resolve(), out.resolve(), workdir.resolve()
    if out.exists():
        shutil.rmtree(out)
    spec = {
        "impl": impl,
        "segy": str(segy),
        "out": str(out),
        "index_bytes": list(index_bytes),
        "index_names": list(index_names),
        "chunksize": list(chunksize),
    }
    run = IngestRun(impl=impl, dataset=dataset, segy=str(segy), out=str(out), input_bytes=segy.stat().st_size)
    env = clean_env()
    env.update(extra_env or {})
    os.sync()  # earlier runs' dirty pages are flushed now, not during this run
    with log_path.open("w") as log:
        busy_before = cpu_busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(python), str(worker_script(workdir)), json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=str(workdir),
            text=True,
        )
        with TreeSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
        run.wall_s = time.perf_counter() - started
        busy = cpu_busy_seconds() - busy_before
    peak = sampler.peak
    run.peak_rss_bytes, run.peak_anon_bytes = peak.rss_bytes, peak.anon_bytes
    run.max_processes, run.rss_samples = peak.max_processes, peak.samples
    if proc.returncode != 0:
        tail = log_path.read_text()[-3000:]
        run.error = f"exit {proc.returncode}; log {log_path}:\n{tail}"
        return run
    report = json.loads(stdout.strip().splitlines()[-1])
    run.ingest_s, run.import_s, run.cpu_s = report["ingest_s"], report["import_s"], report["cpu_s"]
    run.other_load = max(busy - run.cpu_s, 0.0) / run.wall_s
    run.self_hwm_bytes = report["self_hwm_kib"] * 1024
    run.output_bytes, run.output_files = tree_size(out)
    run.ok = True
    return run


def inline_check(survey: Survey, segy: Path, mdio: Path, inline_index: int | None = None) -> str:
    """Read one inline with our MDIOReader and the same traces with segyio; raise if they differ."""
    import segyio

    from mdio_catalog import MDIOReader

    index = survey.n_il // 2 if inline_index is None else inline_index
    per_inline = survey.n_xl * survey.traces_per_cell
    start = index * per_inline
    pattern = "".join(str(axis) for axis in range(len(survey.shape)))
    reader = MDIOReader(str(mdio), access_pattern=pattern)
    ours = np.asarray(reader[index]).reshape(per_inline, survey.n_samples)
    with segyio.open(str(segy), "r", ignore_geometry=True) as f:
        theirs = f.trace.raw[start : start + per_inline]
        inlines = f.attributes(segyio.TraceField.INLINE_3D)[start : start + per_inline]
    if not np.all(inlines == survey.il0 + index):
        raise AssertionError(f"segyio traces {start}.. are not inline {survey.il0 + index}")
    if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
        diff = np.max(np.abs(ours - theirs)) if ours.shape == theirs.shape else "shape"
        raise AssertionError(f"inline {survey.il0 + index}: MDIOReader differs from segyio (max |diff| {diff})")
    return f"inline {survey.il0 + index}: {per_inline} traces equal to segyio"


# --------------------------------------------------------------------------------------------------------------
# Generic worker runs (any script, either environment) and file helpers, used by export_read.py
# --------------------------------------------------------------------------------------------------------------


@dataclass
class WorkerResult:
    """One run of a worker script in a fresh interpreter: its JSON report (last stdout line) and what we sampled."""

    returncode: int = -1
    report: dict[str, Any] = field(default_factory=dict)
    wall_s: float = math.nan  # the whole subprocess, interpreter start and imports included
    other_load: float = math.nan  # CPUs kept busy by other processes during the run
    peak: MemoryPeak = field(default_factory=MemoryPeak)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error


def run_worker(
    python: Path,
    script: Path,
    argument: str,
    workdir: Path,
    log_path: Path,
    interval: float = 0.02,
    extra_env: dict[str, str] | None = None,
) -> WorkerResult:
    """Run ``python script argument`` in a fresh interpreter, sampling its process tree's memory.

    The worker prints a JSON object as its last stdout line; a ``cpu_s`` key in it (user + system of the worker and
    its children) is used to estimate the CPUs other processes took meanwhile (:attr:`WorkerResult.other_load`).
    """
    env = clean_env()
    env.update(extra_env or {})
    result = WorkerResult()
    os.sync()  # earlier runs' dirty pages are flushed now, not during this run
    with log_path.open("w") as log:
        busy_before = cpu_busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(python), str(script), argument],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=str(workdir),
            text=True,
        )
        with TreeSampler(proc.pid, interval) as sampler:
            stdout, _ = proc.communicate()
        result.wall_s = time.perf_counter() - started
        busy = cpu_busy_seconds() - busy_before
    result.returncode = proc.returncode
    result.peak = sampler.peak
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        result.error = f"exit {proc.returncode}; log {log_path}:\n{log_path.read_text()[-3000:]}"
        return result
    try:
        result.report = json.loads(lines[-1])
    except json.JSONDecodeError:
        result.error = f"no JSON report on stdout (last line {lines[-1][:200]!r}); log {log_path}"
        return result
    cpu = float(result.report.get("cpu_s", 0.0))
    result.other_load = max(busy - cpu, 0.0) / result.wall_s
    return result


def warm_tree(path: Path) -> tuple[float, int]:
    """Read every file under ``path`` once (page cache); returns the seconds taken and the bytes read."""
    started = time.perf_counter()
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with open(os.path.join(root, name), "rb", buffering=0) as handle:
                total += len(handle.read())
    return time.perf_counter() - started, total


def compare_files(produced: Path, expected: Path, block: int = 16 * 1024 * 1024) -> str:
    """``"identical"``, or where ``produced`` first differs from ``expected`` (byte offset and sizes)."""
    size_a, size_b = produced.stat().st_size, expected.stat().st_size
    offset = 0
    with produced.open("rb") as a, expected.open("rb") as b:
        while True:
            chunk_a, chunk_b = a.read(block), b.read(block)
            if chunk_a != chunk_b:
                n = min(len(chunk_a), len(chunk_b))
                diff = np.flatnonzero(
                    np.frombuffer(chunk_a[:n], dtype=np.uint8) != np.frombuffer(chunk_b[:n], dtype=np.uint8)
                )
                at = offset + (int(diff[0]) if diff.size else n)
                return f"differs from byte {at} on ({size_a} vs {size_b} bytes)"
            if not chunk_a:
                return "identical" if size_a == size_b else f"sizes differ ({size_a} vs {size_b} bytes)"
            offset += len(chunk_a)


def write_json_report(payload: dict[str, Any], target: str, log: Any) -> None:
    """Write a benchmark's results as JSON to ``target`` ('-' prints them on stdout)."""
    text = json.dumps(payload, indent=2, default=str)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n")
        log(f"\nJSON written to {target}")
