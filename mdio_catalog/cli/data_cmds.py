"""Dataset commands: info, export, copy, rechunk, plot (each takes a catalog dataset name or a path/URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    AccessPatternOption,
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
from mdio_catalog.humanize import human_size

Target = Annotated[str, typer.Argument(help="A catalog dataset name, or an MDIO path/URL.", show_default=False)]


def _chunks(text: str) -> tuple[int, ...]:
    return parse_ints(text, "--chunks", "1,1024,1024")


def info(
    target: Target,
    catalog: CatalogOption = None,
    access_pattern: AccessPatternOption = None,
    storage_options: StorageOptionsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise a dataset: dimensions, chunks, access patterns, trace count and statistics."""
    from mdio_catalog.core.statistics import ATTR_NONFINITE

    reader, label = open_target(
        target, catalog, access_pattern=access_pattern, storage_options=parse_storage_options(storage_options)
    )
    nonfinite = reader.root.attrs.get(ATTR_NONFINITE)
    summary: dict[str, Any] = {
        "dataset": label,
        "url": reader.url,
        "access_pattern": reader.access_pattern,
        "access_patterns": reader.access_patterns,
        "shape": list(reader.shape),
        "chunks": list(reader.chunks),
        "dtype": str(reader.dtype),
        "trace_count": reader.trace_count,
        "dimensions": [
            {
                "name": d.name,
                "size": d.size,
                "min": d.min().item() if d.size else None,
                "max": d.max().item() if d.size else None,
            }
            for d in reader.grid.dims
        ],
        "stats": reader.stats,
        "nonfinite_count": nonfinite if isinstance(nonfinite, int) else 0,  # NaN/inf samples the stats skip
    }
    if as_json:
        emit_json(summary)
        return
    print_table(
        f"{label} ({reader.access_pattern})",
        ["dimension", "size", "min", "max"],
        ([d["name"], d["size"], d["min"], d["max"]] for d in summary["dimensions"]),
    )
    typer.echo(f"chunks {tuple(reader.chunks)}  dtype {reader.dtype}  live traces {reader.trace_count}")
    typer.echo(f"access patterns {', '.join(reader.access_patterns)}")
    typer.echo("stats  " + "  ".join(f"{k}={v:.6g}" for k, v in reader.stats.items() if v is not None))
    if summary["nonfinite_count"]:
        typer.echo(f"non-finite samples (NaN/inf, left out of the stats) {summary['nonfinite_count']}")


def export(
    target: Target,
    output: Annotated[Path, typer.Argument(help="SEG-Y file to write.", show_default=False)],
    catalog: CatalogOption = None,
    endian: Annotated[str, typer.Option("--endian", help="big or little.")] = "big",
    mask: Annotated[
        Path | None, typer.Option("--mask", help="A .npy boolean mask (grid without samples) selecting traces.")
    ] = None,
    access_pattern: AccessPatternOption = None,
    storage_options: StorageOptionsOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Export a dataset to SEG-Y (original headers, stored sample format, grid order). With --scheduler or
    --cluster the blocks are read and encoded on the dask workers; the file is written here."""
    import numpy as np

    from mdio_catalog.converters.mdio_to_segy import mdio_to_segy

    set_quiet(quiet or as_json)
    options = parse_storage_options(storage_options)
    reader, label = open_target(target, catalog, access_pattern=access_pattern, storage_options=options)
    selection = None
    if mask is not None:
        if not mask.is_file():
            raise typer.BadParameter(f"--mask file {mask} does not exist.")
        selection = np.load(mask, allow_pickle=False)
    with dask_client(scheduler, cluster, quiet=quiet or as_json) as client:
        mdio_to_segy(
            reader.url,
            output,
            endian=endian,
            access_pattern=reader.access_pattern,
            storage_options=reader.storage_options or None,
            selection_mask=selection,
            client=client,
        )
    size = output.stat().st_size
    if as_json:
        emit_json({"dataset": label, "output": str(output), "bytes": size, "endian": endian})
    elif not quiet:
        typer.echo(f"Wrote {output} ({human_size(size)}) from {label}.")


def copy(
    source: Annotated[str, typer.Argument(help="Source MDIO path/URL or catalog dataset name.")],
    destination: Annotated[str, typer.Argument(help="Destination MDIO path/URL.")],
    catalog: CatalogOption = None,
    traces: Annotated[bool, typer.Option("--traces/--no-traces", help="Copy the trace data.")] = True,
    headers: Annotated[bool, typer.Option("--headers/--no-headers", help="Copy the trace headers.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing destination.")] = False,
    storage_options: StorageOptionsOption = None,
    storage_options_output: StorageOptionsOutputOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Copy a dataset (every access pattern; traces and headers unless told otherwise). With --scheduler or
    --cluster the chunk objects are copied by the dask workers."""
    from mdio_catalog.api.convenience import copy_mdio

    set_quiet(quiet)
    reader, label = open_target(source, catalog, storage_options=parse_storage_options(storage_options))
    with dask_client(scheduler, cluster, quiet=quiet) as client:
        copy_mdio(
            reader.url,
            destination,
            overwrite=overwrite,
            copy_traces=traces,
            copy_headers=headers,
            storage_options_input=reader.storage_options or None,
            storage_options_output=parse_storage_options(storage_options_output),
            client=client,
        )
    if not quiet:
        typer.echo(f"Copied {label} to {destination}.")


def rechunk(
    target: Target,
    chunks: Annotated[list[str], typer.Option("--chunks", help="New chunk shape, e.g. 1,1024,1024 (repeatable).")],
    suffix: Annotated[list[str], typer.Option("--suffix", help="Name of the new access pattern (repeatable).")],
    catalog: CatalogOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing patterns of these names.")] = False,
    storage_options: StorageOptionsOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Add access patterns (rechunked copies), reading the source once. With --scheduler or --cluster the blocks
    are copied by the dask workers."""
    from mdio_catalog.api.convenience import rechunk_batch

    set_quiet(quiet)
    if len(chunks) != len(suffix):
        raise typer.BadParameter(f"give one --suffix per --chunks ({len(chunks)} chunks, {len(suffix)} suffixes).")
    writer, label = open_target(target, catalog, storage_options=parse_storage_options(storage_options), mode="r+")
    with dask_client(scheduler, cluster, quiet=quiet) as client:
        rechunk_batch(writer, [_chunks(c) for c in chunks], suffix, overwrite=overwrite, client=client)
    if not quiet:
        typer.echo(f"Added access patterns {', '.join(suffix)} to {label}.")


def plot(
    target: Target,
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.", show_default=False)],
    inline: Annotated[float | None, typer.Option("--inline", help="Inline coordinate to show.")] = None,
    crossline: Annotated[float | None, typer.Option("--crossline", help="Crossline coordinate to show.")] = None,
    sample: Annotated[float | None, typer.Option("--sample", help="Time/depth of a horizontal slice.")] = None,
    dim: Annotated[
        str | None, typer.Option("--dim", help="Slice of any dimension: NAME=COORDINATE (e.g. shot_point=1002).")
    ] = None,
    live_mask: Annotated[bool, typer.Option("--live-mask", help="Map of live traces.")] = False,
    across: Annotated[
        str | None, typer.Option("--across", help="Dimension along the horizontal axis (e.g. channel, offset).")
    ] = None,
    at: Annotated[
        list[str] | None, typer.Option("--at", help="Fix another dimension: NAME=COORDINATE (repeatable).")
    ] = None,
    clip: Annotated[float, typer.Option("--clip", help="Symmetric clip at this percentile of |amplitude|.")] = 99.0,
    cmap: Annotated[
        str | None,
        typer.Option("--cmap", help="Colour map (seismic, gray, ...); default: chosen from the data (see README)."),
    ] = None,
    catalog: CatalogOption = None,
    access_pattern: AccessPatternOption = None,
    storage_options: StorageOptionsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a PNG of an inline, crossline or sample slice, or of the live mask."""
    from mdio_catalog.qc.plots import parse_selection, plot_live_mask, plot_slice

    chosen: list[tuple[str, Any]] = [
        (k, v) for k, v in (("inline", inline), ("crossline", crossline), ("sample", sample)) if v is not None
    ]
    if dim is not None:
        chosen += list(parse_selection([dim]).items())
    if len(chosen) + int(live_mask) != 1:
        raise typer.BadParameter("choose exactly one of --inline, --crossline, --sample, --dim, --live-mask.")
    fixed = parse_selection(at) if at else None
    reader, label = open_target(
        target, catalog, access_pattern=access_pattern, storage_options=parse_storage_options(storage_options)
    )
    if live_mask:
        info = plot_live_mask(reader, fixed=fixed, across=across, output=output)
    else:
        dimension, coordinate = chosen[0]
        name = reader.grid.dim_names[-1] if dimension == "sample" else dimension
        value = int(coordinate) if isinstance(coordinate, float) and coordinate.is_integer() else coordinate
        info = plot_slice(
            reader, dimension=name, coordinate=value, fixed=fixed, across=across, clip_percentile=clip, cmap=cmap,
            output=output,
        )  # fmt: skip
    if as_json:
        emit_json({"dataset": label, "output": str(output), **_plain(info)})
    else:
        typer.echo(f"Wrote {output}.")


def _plain(info: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(info) and not isinstance(info, type):
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(info).items()}
    return {}
