"""The synthetic SEG-Y files: written once into the work directory, cached (JSON sidecar), checked with segyio.

Also :func:`inline_check`, which compares one inline of an ingested store with the same traces read by segyio.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import numpy as np

from mdio_catalog.segy.ibm import float_to_ibm, ibm_to_float

from . import MB
from .segy import binary_header, text_header
from .surveys import Geology, Survey, block_records, make_geology

__all__ = ["GENERATOR_VERSION", "ensure_segy", "file_header", "inline_check", "verify_segy"]

#: Bump when the generator changes: cached files made by an older generator are rebuilt.
GENERATOR_VERSION: Final = 3


def file_header(survey: Survey) -> bytes:
    kind = "PRE-STACK CDP GATHERS" if survey.prestack else "POST-STACK 3D VOLUME"
    dims = " x ".join(str(n) for n in survey.shape)
    # Still names benchmarks/common.py: the files' bytes stay those of the cached files.
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
