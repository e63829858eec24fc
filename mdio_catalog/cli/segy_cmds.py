"""SEG-Y commands: look inside a file (text, binary and trace headers), scan it for a geometry and a spec, ingest."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    ClusterOption,
    JsonOption,
    QuietOption,
    SchedulerOption,
    StorageOptionsOption,
    StorageOptionsOutputOption,
    dask_client,
    emit_json,
    parse_int,
    parse_ints,
    parse_json_option,
    parse_storage_options,
    print_table,
    set_quiet,
)

segy_app = typer.Typer(help="Inspect, scan and ingest SEG-Y files.", no_args_is_help=True)

SegyPath = Annotated[str, typer.Argument(help="SEG-Y path or URL.", show_default=False)]


def _open(path: str, storage_options: str | None) -> Any:
    from mdio_catalog.segy.reader import SegyFile

    return SegyFile(path, storage_options=parse_storage_options(storage_options))


@segy_app.command("text-header")
def text_header(path: SegyPath, storage_options: StorageOptionsOption = None, as_json: JsonOption = False) -> None:
    """Print the textual header (EBCDIC or ASCII, detected) and any extended textual headers."""
    with _open(path, storage_options) as segy:
        if as_json:
            emit_json(
                {"encoding": segy.text_encoding, "lines": segy.text_header, "extended": segy.extended_text_headers}
            )
            return
        typer.echo("\n".join(line.rstrip() for line in segy.text_header))
        for i, block in enumerate(segy.extended_text_headers, start=1):
            typer.echo(f"--- extended textual header {i}")
            typer.echo("\n".join(line.rstrip() for line in block))


@segy_app.command("binary-header")
def binary_header(path: SegyPath, storage_options: StorageOptionsOption = None, as_json: JsonOption = False) -> None:
    """Print every binary-header field, and what the reader decided (format, byte order, samples, interval)."""
    with _open(path, storage_options) as segy:
        facts = {
            "traces": segy.n_traces,
            "samples": segy.n_samples,
            "sample_interval_us": segy.sample_interval,
            "sample_format": f"{segy.sample_format} ({segy.format_info.name})",
            "endian": segy.endian,
            "notes": list(segy.notes),
        }
        header = dict(segy.binary_header)
    if as_json:
        emit_json({"file": facts, "binary_header": header})
        return
    print_table(f"{path}", ["field", "value"], [[k, v] for k, v in facts.items() if k != "notes"])
    for note in facts["notes"]:
        typer.echo(f"note: {note}")
    print_table("binary header", ["field", "value"], ([k, v] for k, v in header.items() if v))


@segy_app.command("trace-headers")
def trace_headers(
    path: SegyPath,
    fields: Annotated[
        str, typer.Option("--fields", "-f", help="Comma-separated standard names or NAME:BYTE[:TYPE].")
    ] = "inline,crossline,cdp_x,cdp_y,source_to_receiver_distance",
    traces: Annotated[str, typer.Option("--traces", "-t", help="Trace range START:STOP (0-based).")] = "0:10",
    storage_options: StorageOptionsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print chosen trace-header words for a range of traces."""
    from mdio_catalog.segy.trace_headers import header_field, standard_field

    specs = []
    for item in (part.strip() for part in fields.split(",") if part.strip()):
        name, *rest = item.split(":")
        if not rest:
            specs.append(standard_field(name))
        else:
            specs.append(header_field(name, parse_int(rest[0], f"--fields {item}"), *rest[1:2]))
    start_text, _, stop_text = traces.partition(":")
    start = parse_int(start_text, "--traces START", "0:10") if start_text.strip() else 0
    stop_given = parse_int(stop_text, "--traces STOP", "0:10") if stop_text.strip() else None
    with _open(path, storage_options) as segy:
        stop = min(stop_given if stop_given is not None else start + 10, segy.n_traces)
        if not 0 <= start <= stop:
            raise typer.BadParameter(f"--traces {traces} is outside 0:{segy.n_traces}.")
        columns = segy.header_columns(specs, start, stop)
    rows = [{"trace": start + i, **{s.name: columns[s.name][i].item() for s in specs}} for i in range(stop - start)]
    if as_json:
        emit_json(rows)
        return
    print_table(f"{path}: traces {start}..{stop - 1}", ["trace", *(f"{s.name} ({s.byte})" for s in specs)],
                ([r["trace"], *(r[s.name] for s in specs)] for r in rows))  # fmt: skip


@segy_app.command("ingest")
def ingest(
    path: SegyPath,
    output: Annotated[str, typer.Argument(help="MDIO path or URL to write.", show_default=False)],
    index: Annotated[
        list[str], typer.Option("--index", "-i", help="NAME:BYTE[:TYPE] of an index dimension (repeatable, in order).")
    ],
    chunks: Annotated[str | None, typer.Option("--chunks", help="Chunk shape, e.g. 64,64,64.")] = None,
    grid_overrides: Annotated[str | None, typer.Option("--grid-overrides", help="JSON object.")] = None,
    lossy: Annotated[float | None, typer.Option("--lossy", help="ZFP with this tolerance (default lossless).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing dataset.")] = False,
    storage_options: StorageOptionsOption = None,
    storage_options_output: StorageOptionsOutputOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Ingest one SEG-Y file without a catalog. With --scheduler or --cluster the header scan and the chunk
    writing run on the dask workers."""
    from mdio_catalog.converters.segy import segy_to_mdio

    set_quiet(quiet)
    names, bytes_, types = [], [], []
    for item in index:
        name, _, rest = item.partition(":")
        byte, _, kind = rest.partition(":")
        names.append(name)
        bytes_.append(parse_int(byte, f"--index {item}") if byte and byte.lower() != "none" else None)
        types.append(kind or "int32")
    overrides = parse_json_option(grid_overrides, "--grid-overrides")
    chunk_shape = parse_ints(chunks, "--chunks") if chunks else None
    with dask_client(scheduler, cluster, quiet=quiet) as client:
        segy_to_mdio(
            path, output, index_bytes=bytes_, index_names=names, index_types=types,
            chunksize=chunk_shape,
            lossless=lossy is None, compression_tolerance=lossy or 0.01,
            storage_options_input=parse_storage_options(storage_options),
            storage_options_output=parse_storage_options(storage_options_output),
            overwrite=overwrite, grid_overrides=overrides, client=client,
        )  # fmt: skip
    if not quiet:
        typer.echo(f"Wrote {output}.")


@segy_app.command("scan")
def scan(
    path: SegyPath,
    name: Annotated[str | None, typer.Option("--name", help="Dataset name: nest the spec under datasets:.")] = None,
    spec_out: Annotated[
        str | None, typer.Option("--spec-out", help="Also write the proposed spec (YAML) to this file.")
    ] = None,
    segy_url: Annotated[
        str | None, typer.Option("--source-as", help="Source path to write into the spec (default: as given).")
    ] = None,
    max_traces: Annotated[int, typer.Option("--max-traces", help="Trace headers read at most (sampled).")] = 200_000,
    endian: Annotated[str | None, typer.Option("--endian", help="Override the detected byte order.")] = None,
    sample_format: Annotated[int | None, typer.Option("--sample-format", help="Override the format code.")] = None,
    storage_options: StorageOptionsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise every standard header word, detect format/endianness/interval, and propose the geometry and a
    ready ingestion spec (YAML) to drop into a catalog."""
    from pathlib import Path

    from mdio_catalog.catalog.proposal import scan_file

    if endian not in (None, "big", "little"):
        raise typer.BadParameter("--endian must be big or little.")
    report = scan_file(
        path,
        storage_options=parse_storage_options(storage_options),
        endian=endian,  # type: ignore[arg-type]  # checked above
        sample_format=sample_format,
        max_traces=max_traces,
        segy_url=segy_url or path,
    )
    spec_yaml = report.spec_yaml(name=name)
    if spec_out is not None:
        Path(spec_out).write_text(spec_yaml, encoding="utf-8")
    if as_json:
        emit_json({**report.to_dict(), "spec_yaml": spec_yaml})
        return
    summary, proposal = report.summary, report.proposal
    facts: list[list[Any]] = [
        ["traces", f"{summary.n_traces}" + (f" ({summary.n_scanned} headers scanned)" if summary.sampled else "")],
        ["samples", summary.n_samples],
        ["interval", f"{summary.sample_interval:g} us"],
        ["format", f"{summary.sample_format} ({summary.sample_format_name})"],
        ["endian", summary.endian],
        ["revision", summary.revision],
        ["text header", summary.text_encoding],
    ]
    print_table(str(path), ["", ""], facts)
    print_table(
        "header words that vary",
        ["field", "byte", "type", "min", "max", "unique", "order"],
        ([f.name, f.byte, f.type, f.min, f.max, f.n_unique, f.monotonic] for f in summary.varying),
    )
    typer.echo(
        f"geometry: {proposal.kind.label}; shape {' x '.join(map(str, proposal.full_shape))}; "
        f"fill {proposal.fill:.0%}; confidence {proposal.confidence_label}"
    )
    for reason in proposal.reasons:
        typer.echo(f"  - {reason}")
    typer.echo("")
    typer.echo(spec_yaml.rstrip())
    if spec_out is not None:
        typer.echo(f"\n(spec written to {spec_out})", err=True)
