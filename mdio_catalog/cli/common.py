"""Shared pieces of the command line: option types, catalog discovery, output in tables or JSON.

Only light imports here (typer, json, os): heavy libraries are imported inside the commands so ``--help`` is instant.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mdio_catalog.api.accessor import MDIOAccessor
    from mdio_catalog.catalog import Catalog

CATALOG_ENV = "MDIO_CATALOG_CATALOG"
DEFAULT_CATALOG = "catalog.yaml"

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog", "-c", help=f"Catalog file (default: ${CATALOG_ENV}, else ./{DEFAULT_CATALOG}).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, only the essentials.")]
StorageOptionsOption = Annotated[
    str | None, typer.Option("--storage-options", help="fsspec storage options as a JSON object.", show_default=False)
]
SCHEDULER_ENV = "MDIO_CATALOG_SCHEDULER"
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help=(
            "Run the work on the dask cluster of this scheduler (e.g. tcp://10.0.0.5:8786; its workers must reach "
            f"the input and output paths). Default: ${SCHEDULER_ENV} (an address or local:N), else this machine's "
            "threads."
        ),
        show_default=False,
    ),
]
StorageOptionsOutputOption = Annotated[
    str | None, typer.Option("--storage-options-output", help="fsspec options of the destination (JSON).")
]
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the work on a dask cluster of N worker processes started on this machine for the command: local:N.",
        show_default=False,
    ),
]
AccessPatternOption = Annotated[
    str | None, typer.Option("--access-pattern", "-a", help="Access pattern to open (default: the dataset's own).")
]


def find_catalog(explicit: Path | None) -> Path:
    """``-c PATH``, else ``$MDIO_CATALOG_CATALOG``, else ``./catalog.yaml``."""
    from mdio_catalog.exceptions import MDIONotFoundError

    path = explicit or (Path(os.environ[CATALOG_ENV]) if os.environ.get(CATALOG_ENV) else Path(DEFAULT_CATALOG))
    if not path.is_file() and os.path.lexists(path):  # a FIFO, a device, a folder, a symlink loop
        from mdio_catalog.localfile import check_regular_file

        check_regular_file(path, "catalog file")
    if not path.is_file():
        how = "given with -c" if explicit else (f"from ${CATALOG_ENV}" if os.environ.get(CATALOG_ENV) else "default")
        raise MDIONotFoundError(f"No catalog file at {path} ({how}); pass -c PATH or set {CATALOG_ENV}.")
    return path


def load_catalog(explicit: Path | None) -> Catalog:
    from mdio_catalog.catalog import Catalog

    return Catalog.from_file(find_catalog(explicit))


def parse_storage_options(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--storage-options is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("--storage-options must be a JSON object.")
    return value


def parse_int(text: str, option: str, example: str = "189") -> int:
    """An integer command-line value; anything else is a one-line ArgumentError naming the option."""
    from mdio_catalog.exceptions import ArgumentError

    try:
        return int(text.strip(), 10)
    except ValueError:
        raise ArgumentError(f"{option}: {text!r} is not an integer (e.g. {example}).") from None


def parse_ints(text: str, option: str, example: str = "64,64,64") -> tuple[int, ...]:
    """Integers separated by commas (or 'x': 64x64x64); anything else is a one-line ArgumentError."""
    from mdio_catalog.exceptions import ArgumentError

    parts = text.replace("x", ",").split(",")
    try:
        values = tuple(int(part.strip(), 10) for part in parts)
    except ValueError:
        raise ArgumentError(
            f"{option}: {text!r} is not a list of integers separated by commas (e.g. {example})."
        ) from None
    if any(v <= 0 for v in values):
        raise ArgumentError(f"{option}: {text!r} must hold positive integers only (e.g. {example}).")
    return values


def parse_json_option(text: str | None, option: str) -> Any:
    """A JSON command-line value (None when not given); invalid JSON is a one-line ArgumentError."""
    from mdio_catalog.exceptions import ArgumentError

    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentError(f"{option} is not valid JSON: {exc.msg} at character {exc.pos}.") from None


def looks_like_path(target: str) -> bool:
    """A URL, or something that exists on disk, or ends like a dataset: a path rather than a dataset name."""
    return "://" in target or target.endswith((".mdio", ".zarr", "/")) or os.path.sep in target or Path(target).exists()


def open_target(
    target: str,
    catalog: Path | None,
    *,
    access_pattern: str | None = None,
    storage_options: dict[str, Any] | None = None,
    mode: str = "r",
    **options: Any,
) -> tuple[MDIOAccessor, str]:
    """Open a dataset given as a path/URL or as a name in the catalog; return the accessor and a display name."""
    from mdio_catalog.api.accessor import MDIOReader, MDIOWriter

    if looks_like_path(target):
        pattern = access_pattern or _default_pattern(target, storage_options)
        cls = MDIOReader if mode == "r" else MDIOWriter
        return cls(target, access_pattern=pattern, storage_options=storage_options, **options), target
    cat = load_catalog(catalog)
    if access_pattern is not None:
        options["access_pattern"] = access_pattern
    return cat.open(target, mode=mode, **options), target


def _default_pattern(target: str, storage_options: dict[str, Any] | None) -> str:
    from mdio_catalog.core import layout
    from mdio_catalog.core.store import Location, open_root
    from mdio_catalog.exceptions import MDIONotFoundError
    from mdio_catalog.v1.reader import v1_access_pattern

    location = Location.of(target, storage_options)
    try:
        root = open_root(location)
    except MDIONotFoundError:
        pattern = v1_access_pattern(location)  # a v1 store in Zarr v3 is no v0 group
        if pattern is None:
            raise
        return pattern
    if layout.ATTR_DIMENSION not in root.attrs:  # v1 in Zarr v2: a group without v0's attributes
        return v1_access_pattern(location) or layout.default_access_pattern(3)
    return layout.default_access_pattern(len(root.attrs.get(layout.ATTR_DIMENSION, [])))  # type: ignore[arg-type]


def emit_json(data: Any) -> None:
    """Strict JSON on stdout: a NaN or infinity shows as null (core/serialization.py says why)."""
    from mdio_catalog.core.serialization import dumps_strict

    typer.echo(dumps_strict(data, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def set_quiet(quiet: bool) -> None:
    """Progress bars off for this process (settings are read from the environment)."""
    if quiet:
        os.environ["MDIO_CATALOG_PROGRESS"] = "false"
        from mdio_catalog.settings import get_settings

        get_settings.cache_clear()


@contextlib.contextmanager
def dask_client(scheduler: str | None, cluster: str | None, *, quiet: bool = False) -> Iterator[Any]:
    """The ``distributed.Client`` of ``--scheduler`` / ``--cluster`` (else of ``$MDIO_CATALOG_SCHEDULER``, an address
    or ``local:N``), or ``None`` to run on this machine's threads. Says on stderr where the work goes."""
    from mdio_catalog.core.cluster import cluster_client

    if scheduler is None and cluster is None:
        from mdio_catalog.settings import get_settings

        configured = (get_settings().scheduler or "").strip() or None
        if configured is not None and configured.startswith("local:"):
            cluster = configured
        else:
            scheduler = configured
    with cluster_client(scheduler, cluster) as client:
        if client is not None and not quiet:
            threads = client.nthreads()
            where = scheduler or f"a local cluster ({cluster})"
            typer.echo(f"dask: {len(threads)} workers, {sum(threads.values())} threads at {where}", err=True)
        yield client


def set_workers(workers: int | None) -> None:
    if workers is not None:
        if workers < 1:
            raise typer.BadParameter("--workers must be at least 1.")
        os.environ["MDIO_CATALOG_WORKERS"] = str(workers)
        from mdio_catalog.settings import get_settings

        get_settings.cache_clear()
