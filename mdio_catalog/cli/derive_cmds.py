"""``mdio-catalog derive``: a crop, decimation, rechunk or recompression of a dataset as a new dataset."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    CatalogOption,
    ClusterOption,
    JsonOption,
    QuietOption,
    SchedulerOption,
    StorageOptionsOption,
    StorageOptionsOutputOption,
    dask_client,
    emit_json,
    open_target,
    parse_ints,
    parse_storage_options,
    print_table,
    set_quiet,
)
from mdio_catalog.exceptions import ArgumentError


def _number(text: str, option: str, whole: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ArgumentError(f"{option} {whole!r}: {text!r} is not a number") from None


def parse_select(items: list[str] | None) -> dict[str, list[int | float]]:
    """``inline=110:129`` (inclusive coordinate values) per item."""
    out: dict[str, list[int | float]] = {}
    for item in items or []:
        name, sep, bounds = item.partition("=")
        first, colon, last = bounds.partition(":")
        if not sep or not colon or not name.strip():
            raise ArgumentError(f"--select {item!r}: write NAME=FIRST:LAST, e.g. inline=110:129 (values inclusive)")
        out[name.strip()] = [_number(first.strip(), "--select", item), _number(last.strip(), "--select", item)]
    return out


def parse_step(items: list[str] | None) -> dict[str, int]:
    """``sample=2`` per item."""
    out: dict[str, int] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ArgumentError(f"--step {item!r}: write NAME=N, e.g. sample=2")
        try:
            out[name.strip()] = int(value)
        except ValueError:
            raise ArgumentError(f"--step {item!r}: {value!r} is not a whole number") from None
    return out


def derive(
    source: Annotated[str, typer.Argument(help="Upstream dataset: a catalog name or an MDIO path/URL.")],
    destination: Annotated[str, typer.Argument(help="Where the derived dataset goes (path/URL).")],
    select: Annotated[
        list[str] | None, typer.Option("--select", help="NAME=FIRST:LAST coordinate values to keep (inclusive).")
    ] = None,
    step: Annotated[list[str] | None, typer.Option("--step", help="NAME=N: keep every N-th value.")] = None,
    chunks: Annotated[str | None, typer.Option("--chunks", help="Chunks of the result, e.g. 16,16,64.")] = None,
    snr_db: Annotated[float | None, typer.Option("--snr-db", help="Lossy ZFP meeting this SNR (dB).")] = None,
    psnr_db: Annotated[float | None, typer.Option("--psnr-db", help="Lossy ZFP meeting this PSNR (dB).")] = None,
    tolerance: Annotated[float | None, typer.Option("--tolerance", help="Lossy ZFP with this absolute error.")] = None,
    catalog: CatalogOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing destination.")] = False,
    storage_options: StorageOptionsOption = None,
    storage_options_output: StorageOptionsOutputOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write a selection of a dataset (crop by coordinate values, decimate, rechunk, recompress) as a new dataset,
    chunk by chunk; lossy output by quality (--snr-db/--psnr-db) is measured over the whole result."""
    from mdio_catalog.converters.derive import derive_mdio

    set_quiet(quiet or as_json)
    reader, label = open_target(source, catalog, storage_options=parse_storage_options(storage_options))
    lossy = snr_db is not None or psnr_db is not None or tolerance is not None
    with dask_client(scheduler, cluster, quiet=quiet or as_json) as client:
        report = derive_mdio(
            reader.url,
            destination,
            select=parse_select(select),
            step=parse_step(step),
            chunks=parse_ints(chunks, "--chunks", "16,16,64") if chunks else None,
            lossless=not lossy,
            compression_tolerance=tolerance,
            snr_db=snr_db,
            psnr_db=psnr_db,
            access_pattern=reader.access_pattern,
            storage_options_input=reader.storage_options or None,
            storage_options_output=parse_storage_options(storage_options_output),
            overwrite=overwrite,
            client=client,
        )
    summary: dict[str, Any] = {"source": label, "destination": destination, **report.__dict__}
    summary["shape"], summary["chunks"] = list(report.shape), list(report.chunks)
    if as_json:
        emit_json(summary)
        return
    rows: list[list[Any]] = [
        ["shape", " x ".join(map(str, report.shape))],
        ["chunks", " x ".join(map(str, report.chunks))],
        ["live traces", report.trace_count],
        ["compression", "lossless" if report.lossless else f"ZFP tolerance {report.tolerance:.6g}"],
    ]
    if report.snr_db is not None:
        rows.append(["measured SNR / PSNR", f"{report.snr_db:.2f} dB / {report.psnr_db:.2f} dB"])
    if report.size_ratio is not None:
        rows.append(["size ratio", f"{report.size_ratio:.2f}x"])
    rows.append(["seconds", f"{report.seconds:.2f}"])
    print_table(f"{label} -> {destination}", ["", ""], rows)
