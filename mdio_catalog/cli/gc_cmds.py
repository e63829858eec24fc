"""``mdio-catalog gc``: list and delete what dead writers left behind (staging folders, displaced old versions,
partial SEG-Y exports, owner markers and lock files), never what a running writer still uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    CatalogOption,
    JsonOption,
    StorageOptionsOption,
    emit_json,
    find_catalog,
    parse_storage_options,
    print_table,
)
from mdio_catalog.humanize import human_size


def gc(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Folders or URLs to clean (default: the catalog's root).", show_default=False),
    ] = None,
    catalog: CatalogOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted, delete nothing.")] = False,
    min_age: Annotated[
        float,
        typer.Option(
            "--min-age",
            help="Seconds a leftover without an owner marker (or on an object store) must be unchanged to count "
            "as abandoned.",
        ),
    ] = 3600.0,
    storage_options: StorageOptionsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the leftovers of interrupted writes under the catalog root (and/or the given paths) and delete those
    whose writer is gone: a writer holds a lock on its owner marker while it runs, so running builds, exports and
    copies are never touched. Symbolic links are never followed. Kept versions (keep: N) beyond their dataset's
    keep, left by a build because a reader had them open, are removed once nobody reads them (not with --dry-run)."""
    from mdio_catalog.core.publish import find_leftovers, remove_leftovers
    from mdio_catalog.core.store import Location

    options = parse_storage_options(storage_options)
    places: list[Location] = [Location.of(p, options) for p in paths or []]
    if catalog is not None or not places:
        from mdio_catalog.catalog import Catalog

        cat = Catalog.from_file(find_catalog(catalog))
        root = cat.spec.root_url(cat.base)
        places.insert(0, Location.of(root, cat.spec.root_storage_options(cat.env)))
    pruned: dict[str, list[str]] = {}
    in_use: dict[str, list[str]] = {}
    if (catalog is not None or not paths) and not dry_run:  # kept versions beyond keep (a reader had them
        for name, retention in cat.prune_versions().items():  # open); first: a displaced build is kept, not swept
            if retention.pruned:
                pruned[name] = retention.pruned
            if retention.in_use:
                in_use[name] = retention.in_use
    found = []
    freed = 0
    if catalog is not None or not paths:  # the catalog's own lock folder: entries whose writer died unrenamed
        from mdio_catalog.catalog.lockfile import LockStore

        assert cat.path is not None
        entries = LockStore(cat.path, cat.name).leftovers(min_age)
        found.extend(entries)
        if not dry_run:
            freed += remove_leftovers(entries)
    for place in places:
        items = find_leftovers(place, min_age=min_age)
        found.extend(items)
        if not dry_run:
            freed += remove_leftovers(items, dict(place.storage_options))
    dead = [f for f in found if f.dead]
    data: dict[str, Any] = {
        "dry_run": dry_run,
        "places": [p.url for p in places],
        "leftovers": [f.to_data() for f in found],
        "dead_bytes": sum(f.size for f in dead),
        "removed_bytes": 0 if dry_run else freed,
        "versions_pruned": pruned,
        "versions_in_use": in_use,
    }
    if as_json:
        emit_json(data)
        return
    action = "would delete" if dry_run else "deleted"
    print_table(
        f"{len(dead)} leftovers of dead writers ({human_size(data['dead_bytes'])}), {len(found) - len(dead)} in use",
        ["path", "kind", "size", "owner", "state", "why"],
        (
            [_short(f.path, places), f.kind, human_size(f.size), f.owner, action if f.dead else "kept", f.why]
            for f in found
        ),
    )
    if not dry_run:
        typer.echo(f"freed {human_size(freed)}", err=True)
    for name, ids in pruned.items():
        typer.echo(f"{name}: removed kept versions beyond keep: {', '.join(ids)}", err=True)
    for name, ids in in_use.items():
        typer.echo(f"{name}: kept versions beyond keep still open by a reader (left for later): {', '.join(ids)}",
                   err=True)  # fmt: skip


def _short(path: str, places: list[Any]) -> str:
    for place in places:
        if path.startswith(place.url.rstrip("/") + "/"):
            return path[len(place.url.rstrip("/")) + 1 :]
    return str(Path(path))
