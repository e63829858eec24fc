"""verify against the floor: reading the same chunk objects' bytes with nothing else done; and the cost of recording.

* Local: the 679 MB post-stack ingested by us (``benchmarks/out/derive-source.mdio``, made by ``derive.py`` or here).
  ``verify_dataset`` (listing, fetching every recorded object on the chunk pool, CRC32C, comparing) against
  fetching the same objects through the same chunk path with a handler that does nothing (the floor), best of N.
* S3: the same dataset uploaded to the benchmarks' moto server (``s3_server.py``), same two measurements.
* Recording: ``segy_to_mdio`` of the cached SEG-Y with ``MDIO_CATALOG_CHECKSUMS`` on and off (best of N each,
  alternating), the ratio against the bar of 1.05.

Bars (issue 17): verify <= 1.5 x the floor; ingestion with checksums <= 1.05 x without::

    .venv/bin/python benchmarks/verify.py --json benchmarks/out/verify.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEFAULT_WORKDIR, MB, code_state, ensure_segy, our_python, poststack_survey, write_json_report
from objectstore import S3Server

from mdio_catalog import segy_to_mdio
from mdio_catalog.core.checksums import read_record
from mdio_catalog.core.chunkfetch import ChunkTask, chunk_objects
from mdio_catalog.core.store import Location, open_root
from mdio_catalog.core.verify import record_existing, verify_dataset

INGEST = r"""
import os, sys, time
from mdio_catalog import segy_to_mdio
started = time.perf_counter()
segy_to_mdio(sys.argv[1], sys.argv[2], index_bytes=(189, 193), index_names=("inline", "crossline"),
              chunksize=(64, 64, 64), overwrite=True)
print(time.perf_counter() - started)
"""


def floor_read(url: str, options: dict[str, Any] | None) -> tuple[float, int]:
    """Seconds to fetch every recorded chunk object through the chunk path doing nothing with the bytes."""
    location = Location.of(url, options)
    record = read_record(open_root(location))
    assert record is not None
    started = time.perf_counter()
    total = 0
    for path, grid in record.items():
        objects = chunk_objects(location.url, dict(location.storage_options), location.is_local, path)
        assert objects is not None
        tasks = [
            ChunkTask(index=tuple(int(i) for i in idx), inside=(), target=())
            for idx in zip(*grid.nonzero(), strict=True)
        ]

        def nothing(task: ChunkTask, raw: Any) -> None:
            pass

        objects.fetch(tasks, nothing)
        total += len(tasks)
    return time.perf_counter() - started, total


def best(fn: Any, repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--ingest-only", action="store_true", help="only the recording cost (ingest on / off)")
    parser.add_argument("--ingest-repeat", type=int, default=None, help="alternating ingest pairs (default: --repeat)")
    parser.add_argument("--json", help="write the results as JSON to this path ('-' for stdout)")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr if args.json == "-" else sys.stdout, flush=True)

    workdir = args.workdir.resolve()
    segy = ensure_segy(poststack_survey(), workdir, log)
    dataset = workdir / "derive-source.mdio"
    if not (dataset / ".zmetadata").exists():
        segy_to_mdio(segy, dataset, index_bytes=(189, 193), index_names=("inline", "crossline"),
                     chunksize=(64, 64, 64), overwrite=True)  # fmt: skip
    if read_record(open_root(Location.of(dataset))) is None:
        record_existing(str(dataset))
    results: dict[str, Any] = {"code": code_state()}

    def measure(label: str, url: str, options: dict[str, Any] | None) -> None:
        floor = best(lambda: floor_read(url, options)[0], args.repeat)
        report = verify_dataset(url, options)
        assert report.ok, report.to_dict()
        checked = best(lambda: verify_dataset(url, options).seconds, args.repeat)
        results[label] = {
            "floor_s": floor,
            "verify_s": checked,
            "ratio": checked / floor,
            "objects": report.objects_read,
            "mb": report.bytes_read / MB,
        }
        log(f"{label:6s} verify {checked:6.2f} s  floor {floor:6.2f} s  ratio {checked / floor:4.2f}  "
            f"({report.objects_read} objects, {report.bytes_read / MB:.0f} MB)")  # fmt: skip

    if not args.ingest_only:
        measure("local", str(dataset), None)
    if not args.no_s3 and not args.ingest_only:
        server = S3Server(workdir)
        try:
            import s3fs

            fs = s3fs.S3FileSystem(**server.options)
            fs.call_s3("create_bucket", Bucket="verify")
            fs.put(str(dataset), "verify/stack.mdio", recursive=True)
            measure("s3", "s3://verify/stack.mdio", server.options)
        finally:
            server.close()

    script = workdir / "verify_ingest_worker.py"
    script.write_text(INGEST)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for round_ in range(args.ingest_repeat or args.repeat):
        for state in ("off", "on") if round_ % 2 == 0 else ("on", "off"):  # alternate the order too
            env = {**os.environ, "MDIO_CATALOG_CHECKSUMS": "1" if state == "on" else "0", "MDIO_CATALOG_PROGRESS": "0"}
            out = workdir / f"verify-ingest-{state}.mdio"
            done = subprocess.run([str(our_python()), str(script), str(segy), str(out)], env=env, check=True,
                                  capture_output=True, text=True)  # fmt: skip
            times[state].append(float(done.stdout.strip().splitlines()[-1]))
    best_ratio = min(times["on"]) / min(times["off"])
    median_on, median_off = statistics.median(times["on"]), statistics.median(times["off"])
    pairs = [on / off for on, off in zip(times["on"], times["off"], strict=True)]
    ratio = statistics.median(pairs)  # each pair ran back to back: the steadiest estimate on a noisy machine
    results["ingest"] = {
        "with_s": min(times["on"]), "without_s": min(times["off"]), "best_ratio": best_ratio,
        "median_with_s": median_on, "median_without_s": median_off, "median_pair_ratio": ratio,
        "ratio": ratio, "runs": times,
    }  # fmt: skip
    log(f"ingest with checksums: best {min(times['on']):.2f} s vs {min(times['off']):.2f} s ({best_ratio:.3f}), "
        f"median {median_on:.2f} vs {median_off:.2f} s, median of {len(pairs)} pairs {ratio:.3f}")  # fmt: skip
    ok = all(results[k]["ratio"] <= 1.5 for k in ("local", "s3") if k in results) and ratio <= 1.05
    results["pass"] = ok
    log("PASS" if ok else "FAIL")
    if args.json:
        write_json_report(results, args.json, log)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
