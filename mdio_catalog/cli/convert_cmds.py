"""``mdio-catalog convert``: move a dataset between the MDIO v0 and v1 layouts (see mdio_catalog/v1/convert.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from mdio_catalog.cli.common import (
    CatalogOption,
    JsonOption,
    QuietOption,
    StorageOptionsOption,
    StorageOptionsOutputOption,
    emit_json,
    open_target,
    parse_storage_options,
    set_quiet,
)


def convert(
    source: Annotated[str, typer.Argument(help="Source MDIO path/URL (v0 or v1) or catalog dataset name.")],
    destination: Annotated[str, typer.Argument(help="Destination MDIO path/URL.")],
    to: Annotated[str, typer.Option("--to", help="Layout to write: v1 (multidimio 1.x) or v0.")] = "v1",
    sample_dim: Annotated[
        str | None, typer.Option("--sample-dim", help="v1 name of the sample axis (default: time).")
    ] = None,
    catalog: CatalogOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing destination.")] = False,
    storage_options: StorageOptionsOption = None,
    storage_options_output: StorageOptionsOutputOption = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Convert a dataset to the v1 layout (Zarr v3, opens in multidimio 1.x) or back to v0 (opens in 0.9.3).
    Trace chunks are copied as stored bytes where the codecs allow."""
    from mdio_catalog.v1.convert import convert_mdio

    set_quiet(quiet)
    reader, label = open_target(source, catalog, storage_options=parse_storage_options(storage_options))
    report = convert_mdio(
        reader.url,
        destination,
        to=to,  # type: ignore[arg-type]  # checked by convert_mdio
        storage_options_input=reader.storage_options or None,
        storage_options_output=parse_storage_options(storage_options_output),
        overwrite=overwrite,
        access_pattern=reader.access_pattern,
        sample_dim=sample_dim,
    )
    if json_output:
        emit_json({"source": label, "destination": destination, "to": to, **vars(report)})
    elif not quiet:
        typer.echo(
            f"Converted {label} to {destination} ({to}): {report.raw_chunks} chunks copied as stored, "
            f"{report.reencoded_chunks} re-encoded."
        )
