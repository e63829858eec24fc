"""``mdio-catalog verify`` (compare stored chunk objects with the checksum record) and ``checksum`` (record them
for a dataset built before checksums existed). ``verify`` never modifies anything; it exits 1 when something is
wrong."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    CatalogOption,
    ClusterOption,
    JsonOption,
    SchedulerOption,
    StorageOptionsOption,
    dask_client,
    emit_json,
    open_target,
    parse_storage_options,
    print_table,
)
from mdio_catalog.exceptions import ArgumentError
from mdio_catalog.humanize import human_size

Target = Annotated[str, typer.Argument(help="A catalog dataset name, or an MDIO path/URL.", show_default=False)]


def verify(
    target: Target,
    catalog: CatalogOption = None,
    sample: Annotated[
        float | None, typer.Option("--sample", help="Check this share (0-1] of the recorded chunks, at random.")
    ] = None,
    deep: Annotated[bool, typer.Option("--deep", help="Also decode and recompute statistics and live traces.")] = False,
    storage_options: StorageOptionsOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-read a dataset's chunk objects and compare them with its checksum record: chunks missing, chunks whose
    bytes differ, unexpected objects. Exit 1 when anything is wrong. For a catalog dataset the result is kept
    beside the catalog file (.mdio-catalog/verify/NAME.json), and status shows it."""
    from mdio_catalog.cli.common import load_catalog, looks_like_path
    from mdio_catalog.core.verify import verify_dataset

    if sample is not None and not 0 < sample <= 1:
        raise ArgumentError(f"--sample must be a share in (0, 1], got {sample}")
    with dask_client(scheduler, cluster, quiet=as_json) as client:
        if looks_like_path(target):
            reader, label = open_target(target, catalog, storage_options=parse_storage_options(storage_options))
            report = verify_dataset(reader.url, reader.storage_options or None, sample=sample, deep=deep, client=client)
        else:  # a catalog dataset: verified and its result recorded
            report = load_catalog(catalog).verify(target, sample=sample, deep=deep, client=client)
            label = target
    if as_json:
        emit_json({"dataset": label, **report.to_dict()})
    elif not report.recorded and report.note:
        typer.echo(f"{label}: no checksum record: {report.note}.")
    elif not report.recorded:
        typer.echo(f"{label}: no checksum record (built before checksums existed); `mdio-catalog checksum` adds one.")
    else:
        rows: list[list[Any]] = []
        for array in report.arrays:
            state = "ok" if array.ok else "DAMAGED"
            rows.append([array.path, array.recorded, array.checked, len(array.missing), len(array.differing),
                         len(array.unexpected), state])  # fmt: skip
        print_table(label, ["array", "recorded", "checked", "missing", "differ", "unexpected", "state"], rows)
        for array in report.arrays:
            for kind, keys in (
                ("missing", array.missing),
                ("differs", array.differing),
                ("unexpected", array.unexpected),
            ):
                for key in keys[:20]:
                    typer.echo(f"{kind}: {key}")
                if len(keys) > 20:
                    typer.echo(f"{kind}: ... and {len(keys) - 20} more in {array.path}")
        if report.deep is not None:
            for name, values in report.deep["differences"].items():
                if name == "undecodable_chunks":
                    for key in values["stored"]:
                        typer.echo(f"deep: {key} does not decode")
                else:
                    typer.echo(f"deep: {name} stored {values['stored']} but the data give {values['recomputed']}")
        typer.echo(
            f"{report.objects_read} objects, {human_size(report.bytes_read)} read in {report.seconds:.2f} s: "
            + ("all as recorded" if report.ok else "NOT as recorded")
        )
    if not report.ok and report.recorded:
        raise typer.Exit(1)


def checksum(
    target: Target,
    catalog: CatalogOption = None,
    storage_options: StorageOptionsOption = None,
) -> None:
    """Record the checksums of a dataset's chunk objects as they are now (for datasets built before checksums
    existed; builds record them as they write)."""
    from mdio_catalog.core.verify import record_existing

    reader, label = open_target(target, catalog, storage_options=parse_storage_options(storage_options))
    count = record_existing(reader.url, reader.storage_options or None)
    typer.echo(f"Recorded the checksums of {count} chunk objects of {label}.")
