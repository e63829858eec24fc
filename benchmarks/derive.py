"""Derived datasets: crop and recompress of the 400 x 400 x 1001 post-stack cube, against copy_mdio of the volume.

Measured in this process, one after the other, on the local disk (each output removed before the next run):

* ``copy_mdio(copy_traces=True, copy_headers=True)`` of the whole dataset (chunks copied as bytes: the floor);
* ``derive_mdio`` crop: inlines/crosslines 100..299 (a quarter of the traces), every sample, same chunks;
* ``derive_mdio`` recompress: the whole volume, lossless -> ZFP at SNR targets 30/40/50 dB. For each: MB/s (bytes
  of the selection / seconds), the size ratio (raw / stored trace bytes), the SNR measured over the whole result
  by the build, an SNR recomputed here with numpy from both datasets read back (the oracle), and the seconds
  spent choosing the tolerance (bar: < 10% of the build).

The input dataset is our ingestion of the cached SEG-Y (``benchmarks/out/poststack_400x400x1001.sgy``, made by
``ingest.py``/``objectstore.py``), ingested here when missing::

    .venv/bin/python benchmarks/derive.py --json benchmarks/out/derive.json
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEFAULT_WORKDIR, MB, code_state, ensure_segy, poststack_survey, write_json_report

from mdio_catalog import MDIOReader, copy_mdio, segy_to_mdio
from mdio_catalog.converters.derive import derive_mdio
from mdio_catalog.core.quality import snr_db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--targets", type=float, nargs="+", default=[30.0, 40.0, 50.0])
    parser.add_argument("--json", help="write the results as JSON to this path ('-' for stdout)")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr if args.json == "-" else sys.stdout, flush=True)

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    segy = ensure_segy(poststack_survey(), workdir, log)
    source = workdir / "derive-source.mdio"
    if not (source / ".zmetadata").exists():
        segy_to_mdio(segy, source, index_bytes=(189, 193), index_names=("inline", "crossline"),
                     chunksize=(64, 64, 64), overwrite=True)  # fmt: skip
    reader = MDIOReader(str(source))
    whole_bytes = reader.shape[0] * reader.shape[1] * reader.shape[2] * reader.dtype.itemsize
    results: dict[str, Any] = {"code": code_state(), "shape": list(reader.shape), "chunks": list(reader.chunks)}
    out = workdir / "derive-out.mdio"

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)

    fresh()
    started = time.perf_counter()
    copy_mdio(source, out, copy_traces=True, copy_headers=True)
    seconds = time.perf_counter() - started
    results["copy"] = {"seconds": seconds, "mb_s": whole_bytes / MB / seconds}
    log(f"copy_mdio            {whole_bytes / MB / seconds:7.1f} MB/s  {seconds:5.2f} s")

    fresh()
    inlines = reader.grid.select_dim("inline").values
    crosslines = reader.grid.select_dim("crossline").values
    select = {
        "inline": [int(inlines[100]), int(inlines[299])],
        "crossline": [int(crosslines[100]), int(crosslines[299])],
    }
    report = derive_mdio(str(source), str(out), select=select)
    crop_bytes = 200 * 200 * reader.shape[2] * reader.dtype.itemsize
    results["crop"] = {"seconds": report.seconds, "mb_s": crop_bytes / MB / report.seconds, "select": select}
    log(
        f"derive crop          {crop_bytes / MB / report.seconds:7.1f} MB/s  {report.seconds:5.2f} s  (200 x 200)"
    )

    exact = reader[...]
    for target in args.targets:
        fresh()
        report = derive_mdio(str(source), str(out), lossless=False, snr_db=target)
        lossy = MDIOReader(str(out))[...]
        oracle = snr_db(exact, lossy)
        entry = {
            "seconds": report.seconds,
            "mb_s": whole_bytes / MB / report.seconds,
            "tolerance": report.tolerance,
            "size_ratio": report.size_ratio,
            "snr_db_measured_by_build": report.snr_db,
            "snr_db_numpy": oracle,
            "tolerance_seconds": report.tolerance_seconds,
            "tolerance_share": report.tolerance_seconds / report.seconds,
            "attempts": report.attempts,
        }
        results[f"recompress_{target:g}dB"] = entry
        log(
            f"derive snr {target:4.0f} dB   {entry['mb_s']:7.1f} MB/s  {report.seconds:5.2f} s  ratio "
            f"{report.size_ratio:5.2f}  SNR {report.snr_db:.2f} dB (numpy {oracle:.2f})  choosing "
            f"{report.tolerance_seconds:.2f} s ({100 * entry['tolerance_share']:.1f}%)  attempts {report.attempts}"
        )
    fresh()
    ok = all(
        results[k]["snr_db_numpy"] >= float(k.split("_")[1][:-2]) and results[k]["tolerance_share"] < 0.10
        for k in results
        if k.startswith("recompress_")
    )
    results["pass"] = ok
    log("PASS" if ok else "FAIL")
    if args.json:
        write_json_report(results, args.json, log)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
