"""``mdio-catalog versions`` (the current and the kept versions of a dataset) and ``rollback`` (make a kept version
current again, without a rebuild). Versions are kept with ``keep: N`` in the catalog (local roots only)."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import CatalogOption, JsonOption, emit_json, load_catalog, print_table
from mdio_catalog.humanize import human_size

Name = Annotated[str, typer.Argument(help="A dataset name of the catalog.", show_default=False)]


def versions(name: Name, catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """List the current version of a dataset and the earlier versions it keeps (keep: N), newest build first:
    build id (its UTC start time), spec hash, source, size on disk and verify state ('-': not known; 'no record':
    built without checksums). --json adds times, full hashes, the source identity and paths."""
    cat = load_catalog(catalog)
    found = cat.versions(name)
    if as_json:
        emit_json({"dataset": name, "keep": cat.get(name).keep, "versions": [v.to_data() for v in found]})
        return
    rows: list[list[Any]] = []
    for info in found:
        record = info.record
        rows.append([
            "*" if info.current else "", info.build_id, record.spec_hash[:8], _source(record.source),
            human_size(info.size) if info.size is not None else "-",
            info.verify or ("-" if info.checksums else "no record"),
        ])  # fmt: skip
    keep = cat.get(name).keep
    print_table(
        f"{name}: {len(found) - 1} kept version(s) (keep: {keep}); * is current; build ids are UTC start times",
        ["", "build id", "spec", "source", "size", "verify"],
        rows,
    )


def rollback(
    name: Name,
    to: Annotated[
        str | None, typer.Option("--to", help="Build id to make current (default: the newest kept build).")
    ] = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make an earlier kept version of a dataset current again, atomically and without a rebuild; the version
    that was current is kept in its place. `status` then compares today's spec and source with that build's."""
    cat = load_catalog(catalog)
    report = cat.rollback(name, to)
    if as_json:
        emit_json(report.to_data())
        return
    was = f" (was {report.from_build}, now kept)" if report.from_build else ""
    typer.echo(f"{name}: rolled back to {report.to_build}{was}.")


def _source(source: Any) -> str:
    if source.url is None:
        return source.kind
    name = os.path.basename(str(source.url).rstrip("/")) or str(source.url)
    size = f", {human_size(source.size)}" if source.size is not None else ""
    return f"{name}{size}"
