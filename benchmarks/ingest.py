"""SEG-Y ingestion benchmark: mdio_catalog.segy_to_mdio against the reference (multidimio 0.9.3).

Generates (and caches) synthetic IBM SEG-Y files, runs each ingestion in a fresh interpreter while sampling the
RSS of its whole process tree from /proc, and prints seconds, MB/s, peak RSS and output size per implementation
and dataset, followed by PASS/FAIL for the targets of the issue:

* speed:  our MB/s >= 2 x the reference's, on both files;
* size:   our store <= 1.05 x the reference's, on both files;
* memory: our peak RSS (process tree) < 400 MB on every run, and flat when the file is 4x larger
  (peak on the scaled post-stack <= 1.25 x the peak on the 1x post-stack).

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py --reference --scale 4 --repeat 3 --json benchmarks/out/ingest.json

See benchmarks/README.md for the options.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DEFAULT_WORKDIR,
    MB,
    IngestRun,
    Survey,
    clean_env,
    code_state,
    drop_caches,
    ensure_segy,
    inline_check,
    our_python,
    poststack_survey,
    prestack_survey,
    reference_python,
    run_ingest,
    wait_for_idle,
    warm_file,
    write_json_report,
)

RSS_LIMIT_BYTES = 400 * MB
SPEED_TARGET = 2.0
SIZE_TOLERANCE = 1.05
FLAT_TOLERANCE = 1.25


@dataclass(frozen=True)
class Dataset:
    key: str
    survey: Survey
    index_bytes: tuple[int, ...]
    index_names: tuple[str, ...]
    chunksize: tuple[int, ...]


def poststack(scale: float = 1.0) -> Dataset:
    survey = poststack_survey(scale)
    return Dataset(survey.name, survey, (189, 193), ("inline", "crossline"), (64, 64, 64))


def prestack() -> Dataset:
    return Dataset("prestack", prestack_survey(), (189, 193, 37), ("inline", "crossline", "offset"), (8, 8, 32, 512))


# --------------------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------------------


def prepare_cache(path: Path, drop: bool, log: Callable[[str], None]) -> str:
    if drop:
        drop_caches()
        return "cold (page cache dropped)"
    seconds = warm_file(path)
    log(f"    warmed page cache: read {path.name} in {seconds:.1f} s")
    return "warm (file read once just before)"


def run_one(
    impl: str, python: Path, dataset: Dataset, segy: Path, args: argparse.Namespace, log: Callable[[str], None]
) -> IngestRun:
    workdir: Path = args.workdir
    out = workdir / "mdio" / f"{impl}_{dataset.key}.mdio"
    (workdir / "mdio").mkdir(parents=True, exist_ok=True)
    cache = prepare_cache(segy, args.drop_caches, log)
    if args.idle_wait > 0:
        load = wait_for_idle(args.idle_wait)
        if load >= 0.15:
            log(f"    machine still busy ({load:.2f} CPUs used by others) after {args.idle_wait:g} s; running anyway")
    log(f"  {impl:9s} {dataset.key}: running ...")
    run = run_ingest(
        impl,
        python,
        dataset.key,
        segy,
        out,
        dataset.index_bytes,
        dataset.index_names,
        dataset.chunksize,
        workdir,
        workdir / f"{impl}_{dataset.key}.log",
        interval=args.interval,
    )
    run.extra["page_cache"] = cache
    if impl == "ours":
        run.extra["sources_sha256"] = code_state()["sources_sha256"]
    if not run.ok:
        log(f"    FAILED: {run.error}")
        return run
    log(
        f"    {run.ingest_s:.1f} s ({run.mb_per_s:.1f} MB/s), wall {run.wall_s:.1f} s, "
        f"peak RSS {run.peak_rss_bytes / MB:.0f} MB over {run.max_processes} process(es), "
        f"output {run.output_bytes / MB:.1f} MB in {run.output_files} files, "
        f"other processes used {run.other_load:.2f} CPUs meanwhile"
    )
    if impl == "ours":
        try:
            run.check = inline_check(dataset.survey, segy, out)
        except Exception as exc:  # report, do not stop the benchmark
            run.check = f"FAILED: {exc}"
        log(f"    check: {run.check}")
    if not args.keep_outputs:
        shutil.rmtree(out, ignore_errors=True)
    return run


def run_repeated(
    impl: str, python: Path, dataset: Dataset, segy: Path, args: argparse.Namespace, log: Callable[[str], None]
) -> IngestRun:
    """``--repeat`` runs; the fastest (``--pick best``) or the median one is reported, with the highest peak RSS."""
    attempts = [run_one(impl, python, dataset, segy, args, log) for _ in range(args.repeat)]
    failed = [run for run in attempts if not run.ok]
    if failed:
        return failed[0]
    ranked = sorted(attempts, key=lambda run: run.ingest_s)
    chosen = ranked[0] if args.pick == "best" else ranked[(len(ranked) - 1) // 2]
    chosen.extra["all_ingest_s"] = [round(run.ingest_s, 3) for run in attempts]
    chosen.extra["best_ingest_s"] = ranked[0].ingest_s
    chosen.extra["median_ingest_s"] = ranked[(len(ranked) - 1) // 2].ingest_s
    chosen.extra["all_other_load"] = [round(run.other_load, 3) for run in attempts]
    chosen.extra["all_sources_sha256"] = sorted({run.extra.get("sources_sha256", "") for run in attempts} - {""})
    chosen.peak_rss_bytes = max(run.peak_rss_bytes for run in attempts)
    chosen.peak_anon_bytes = max(run.peak_anon_bytes for run in attempts)
    chosen.max_processes = max(run.max_processes for run in attempts)
    bad = [run.check for run in attempts if run.check.startswith("FAILED")]
    if bad:
        chosen.check = bad[0]
    return chosen


# --------------------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------------------


def _find(runs: Sequence[IngestRun], impl: str, dataset: str) -> IngestRun | None:
    return next((r for r in runs if r.impl == impl and r.dataset == dataset), None)


def _fmt(value: float, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:>{width}.{digits}f}"


def table(runs: Sequence[IngestRun]) -> str:
    head = (
        f"{'implementation':<18}{'dataset':<14}{'input MB':>9}{'seconds':>9}{'wall s':>8}{'CPU s':>7}{'MB/s':>8}"
        f"{'peak RSS MB':>12}{'anon MB':>9}{'procs':>6}{'output MB':>10}{'speed x':>9}{'size x':>8}{'others':>8}"
    )
    lines = [head, "-" * len(head)]
    for run in runs:
        ref = _find(runs, "reference", run.dataset)
        speed = size = math.nan
        if ref is not None and ref.ok and run.ok:
            speed = run.mb_per_s / ref.mb_per_s
            size = run.output_bytes / ref.output_bytes
        name = "mdio_catalog" if run.impl == "ours" else "multidimio 0.9.3"
        if not run.ok:
            lines.append(f"{name:<18}{run.dataset:<14}{run.input_bytes / MB:>9.0f}  FAILED (see log)")
            continue
        lines.append(
            f"{name:<18}{run.dataset:<14}{run.input_bytes / MB:>9.0f}{run.ingest_s:>9.1f}{run.wall_s:>8.1f}"
            f"{run.cpu_s:>7.1f}{run.mb_per_s:>8.1f}{run.peak_rss_bytes / MB:>12.0f}{run.peak_anon_bytes / MB:>9.0f}"
            f"{run.max_processes:>6d}{run.output_bytes / MB:>10.1f}{_fmt(speed, 9, 2)}{_fmt(size, 8, 3)}"
            f"{_fmt(run.other_load, 8, 2)}"
        )
    return "\n".join(lines)


@dataclass
class Verdict:
    criterion: str
    status: str  # PASS, FAIL or SKIP
    detail: str


def verdicts(
    runs: Sequence[IngestRun], datasets: Sequence[str], scaled: str | None, pick: str = "best"
) -> list[Verdict]:
    out: list[Verdict] = []
    for key in datasets:
        ours, ref = _find(runs, "ours", key), _find(runs, "reference", key)
        if ours is None or not ours.ok:
            out.append(Verdict(f"ingest {key}", "FAIL", "our ingestion failed"))
            continue
        ok = not ours.check.startswith("FAILED")
        out.append(Verdict(f"correct {key}", "PASS" if ok else "FAIL", ours.check))
        if ref is None or not ref.ok:
            why = "no --reference" if ref is None else "the reference run failed"
            out.append(Verdict(f"speed {key}", "SKIP", why))
            out.append(Verdict(f"size {key}", "SKIP", why))
        else:
            speed = ours.mb_per_s / ref.mb_per_s
            detail = f"{ours.mb_per_s:.1f} vs {ref.mb_per_s:.1f} MB/s = {speed:.2f}x (target >= {SPEED_TARGET:g}x)"
            if len(ours.extra.get("all_ingest_s", [])) > 1:
                other = "median" if pick == "best" else "best"
                o_ours = ours.input_bytes / MB / ours.extra[f"{other}_ingest_s"]
                o_ref = ref.input_bytes / MB / ref.extra[f"{other}_ingest_s"]
                detail += f"; {other} runs {o_ours:.1f} vs {o_ref:.1f} MB/s = {o_ours / o_ref:.2f}x"
            out.append(Verdict(f"speed {key}", "PASS" if speed >= SPEED_TARGET else "FAIL", detail))
            size = ours.output_bytes / ref.output_bytes
            out.append(
                Verdict(
                    f"size {key}",
                    "PASS" if size <= SIZE_TOLERANCE else "FAIL",
                    f"{ours.output_bytes / MB:.1f} vs {ref.output_bytes / MB:.1f} MB = {size:.3f}x "
                    f"(target <= {SIZE_TOLERANCE:g}x)",
                )
            )
    for run in runs:
        if run.impl == "ours" and run.ok:
            out.append(
                Verdict(
                    f"memory {run.dataset}",
                    "PASS" if run.peak_rss_bytes < RSS_LIMIT_BYTES else "FAIL",
                    f"peak RSS {run.peak_rss_bytes / MB:.0f} MB (target < {RSS_LIMIT_BYTES / MB:.0f} MB)",
                )
            )
    if scaled is None:
        out.append(Verdict("memory flat", "SKIP", "no --scale"))
    else:
        base, big = _find(runs, "ours", "poststack"), _find(runs, "ours", scaled)
        if base is None or big is None or not (base.ok and big.ok):
            out.append(Verdict("memory flat", "FAIL", "a post-stack run is missing or failed"))
        else:
            growth = big.peak_rss_bytes / base.peak_rss_bytes
            out.append(
                Verdict(
                    "memory flat",
                    "PASS" if growth <= FLAT_TOLERANCE else "FAIL",
                    f"{scaled} ({big.input_bytes / MB:.0f} MB) peak {big.peak_rss_bytes / MB:.0f} MB vs "
                    f"poststack ({base.input_bytes / MB:.0f} MB) {base.peak_rss_bytes / MB:.0f} MB = {growth:.2f}x "
                    f"(target <= {FLAT_TOLERANCE:g}x)",
                )
            )
    return out


# --------------------------------------------------------------------------------------------------------------
# Profiling (ours only): cProfile in every thread, merged
# --------------------------------------------------------------------------------------------------------------


def profile_worker(spec_json: str) -> None:
    """Run our ingestion in this process with a cProfile per thread; dump the merged stats to spec['prof'].

    The profilers time with ``time.thread_time`` (CPU time of the calling thread): with a wall-clock timer, time a
    thread spends waiting for the GIL or for other threads is charged to whatever function it is in, and the sums
    over threads mean nothing. So the totals are CPU seconds, and waiting (I/O, locks) shows up as ~0.
    """
    import cProfile
    import pstats
    import threading

    from mdio_catalog.converters.segy import segy_to_mdio

    spec = json.loads(spec_json)
    profilers: list[cProfile.Profile] = []

    def start_thread_profiler(*_: Any) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.enable()  # replaces this hook for the new thread

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start_thread_profiler)
    main.enable()
    try:
        segy_to_mdio(
            spec["segy"],
            spec["out"],
            index_bytes=tuple(spec["index_bytes"]),
            index_names=tuple(spec["index_names"]),
            chunksize=tuple(spec["chunksize"]),
        )
    finally:
        main.disable()
        threading.setprofile(None)
    stats = pstats.Stats(main)
    for profiler in profilers:
        profiler.create_stats()
        stats.add(profiler)
    stats.dump_stats(spec["prof"])


def run_profile(dataset: Dataset, segy: Path, args: argparse.Namespace, log: Callable[[str], None]) -> None:
    out = args.workdir / "mdio" / f"profile_{dataset.key}.mdio"
    shutil.rmtree(out, ignore_errors=True)
    prof = args.workdir / f"profile_{dataset.key}.prof"
    spec = {
        "segy": str(segy),
        "out": str(out),
        "index_bytes": list(dataset.index_bytes),
        "index_names": list(dataset.index_names),
        "chunksize": list(dataset.chunksize),
        "prof": str(prof),
    }
    warm_file(segy)
    log(
        f"profiling our ingestion of {segy.name}: cProfile in every thread, CPU seconds per thread "
        "(time.thread_time), summed over threads; inflated by the profiler for Python-heavy code"
    )
    subprocess.run(
        [str(our_python()), __file__, "--profile-worker", json.dumps(spec)],
        check=True,
        env={**clean_env(), "MDIO_CATALOG_PROGRESS": "false"},
    )
    shutil.rmtree(out, ignore_errors=True)
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(str(prof), stream=buffer).sort_stats(order).print_stats(25)
        text = buffer.getvalue()
        log(f"--- top 25 by {order} (CPU seconds summed over threads) ---")
        log(text[text.find("ncalls") :].rstrip() if "ncalls" in text else text)
    log(f"(stats saved in {prof}; open with `python -m pstats {prof}`)")


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="cache and output folder")
    parser.add_argument("--reference", action="store_true", help="also run multidimio 0.9.3 (reference venv)")
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="also ingest (ours only) a post-stack file this many times larger (e.g. 4: 800x800x1001)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=("poststack", "prestack"),
        default=["poststack", "prestack"],
        help="which files to benchmark (default both)",
    )
    parser.add_argument("--drop-caches", action="store_true", help="drop the OS page cache before each run (root)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per implementation and file (default 1)")
    parser.add_argument(
        "--pick",
        choices=("best", "median"),
        default="best",
        help="with --repeat: report the fastest run (default; least disturbed on a shared machine) or the median",
    )
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for other processes to leave the CPUs idle (0: no)",
    )
    parser.add_argument("--interval", type=float, default=0.02, help="RSS sampling interval in seconds")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the MDIO stores under WORKDIR/mdio")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH ('-' = stdout)")
    parser.add_argument(
        "--profile",
        choices=("poststack", "prestack", "poststack_small"),
        help="instead of benchmarking, profile our ingestion of one file with cProfile (all threads)",
    )
    parser.add_argument("--profile-worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile_worker:
        profile_worker(args.profile_worker)
        return 0
    quiet = args.json == "-"

    def log(message: str) -> None:
        print(message, file=sys.stderr if quiet else sys.stdout, flush=True)

    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)

    if args.profile:
        dataset = {"poststack": poststack(), "prestack": prestack(), "poststack_small": poststack(0.25)}[args.profile]
        log("SEG-Y input:")
        run_profile(dataset, ensure_segy(dataset.survey, args.workdir, log), args, log)
        return 0

    datasets = [poststack() if key == "poststack" else prestack() for key in args.datasets]
    scaled = poststack(args.scale) if args.scale is not None else None
    log("SEG-Y inputs:")
    files = {d.key: ensure_segy(d.survey, args.workdir, log) for d in datasets}
    if scaled is not None:
        files[scaled.key] = ensure_segy(scaled.survey, args.workdir, log)

    ours = our_python()
    reference = reference_python() if args.reference else None
    cpu = os.cpu_count()
    cache_note = (
        "page cache dropped before every run"
        if args.drop_caches
        else "warm page cache: the SEG-Y file is read once right before every run"
    )
    state = code_state()
    log(
        f"\nmdio_catalog: git {state['git_head']}, uncommitted changes: {state['mdio_catalog_dirty']}, "
        f"sources sha256 {state['sources_sha256']}"
    )
    log(f"ours: {ours}\nreference: {reference or '(not run; use --reference)'}\nCPUs: {cpu}; {cache_note}\n")

    runs: list[IngestRun] = []
    for dataset in datasets:
        if reference is not None:
            runs.append(run_repeated("reference", reference, dataset, files[dataset.key], args, log))
        runs.append(run_repeated("ours", ours, dataset, files[dataset.key], args, log))
    if scaled is not None:
        runs.append(run_repeated("ours", ours, scaled, files[scaled.key], args, log))

    hashes = {sha for run in runs for sha in run.extra.get("all_sources_sha256", [])}
    if len(hashes) > 1:
        log(f"WARNING: mdio_catalog's sources changed during the benchmark ({sorted(hashes)}); see the JSON.")
    results = verdicts(runs, [d.key for d in datasets], scaled.key if scaled else None, args.pick)
    log("")
    legend = [
        f"Results: {cache_note}. MB = 10^6 bytes.",
        "  seconds = the segy_to_mdio call; wall = the whole process; CPU s = user + system of the process tree;",
        "  MB/s = input bytes / seconds; speed x and size x = ours / reference;",
        "  peak RSS = max over time of the summed VmRSS of the process tree, sampled every "
        f"{args.interval * 1000:.0f} ms; anon = the same for RssAnon;",
        "  others = CPUs kept busy by other processes on the machine during the run (contention; ideally 0).",
    ]
    if args.repeat > 1:
        which = "Fastest" if args.pick == "best" else "Median"
        legend.append(f"  {which} of {args.repeat} runs per row; its peak RSS is the highest of the {args.repeat}.")
    for line in legend:
        log(line)
    log(table(runs))
    log("")
    for verdict in results:
        log(f"{verdict.status:4s}  {verdict.criterion:<22} {verdict.detail}")

    if args.json:
        payload = {
            "cpus": cpu,
            "code": state,
            "page_cache": cache_note,
            "rss_interval_s": args.interval,
            "repeat": args.repeat,
            "pick": args.pick,
            "runs": [{**asdict(run), "mb_per_s": run.mb_per_s} for run in runs],
            "criteria": [asdict(v) for v in results],
        }
        write_json_report(payload, args.json, log)
    return 1 if any(v.status == "FAIL" for v in results) else 0


if __name__ == "__main__":
    sys.exit(main())
