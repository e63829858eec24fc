"""The ``mdio-catalog`` command line: a thin typer layer over the library.

Heavy imports (zarr, numpy, dask) happen inside the commands so that ``--help`` stays instant. Errors from our
exception tree become one readable line and a non-zero exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="mdio-catalog",
    help="Seismic SEG-Y <-> MDIO conversion and a declarative dataset catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
StorageOptions = Annotated[
    str | None, typer.Option("--storage-options", help="fsspec storage options as a JSON object.")
]

EXIT_INVALID_INPUT = 2
_state: dict[str, bool] = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def _parse_storage_options(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--storage-options is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("--storage-options must be a JSON object.")
    return value


@app.command()
def version() -> None:
    """Print the package version."""
    from mdio_catalog.version import __version__

    typer.echo(__version__)


@app.command()
def info(
    path: Annotated[str, typer.Argument(help="MDIO dataset path or URL.")],
    access_pattern: Annotated[str, typer.Option("--access-pattern", "-a")] = "012",
    storage_options: StorageOptions = None,
    as_json: JsonOption = False,
) -> None:
    """Summarise an MDIO dataset: dimensions, chunks, trace count and statistics."""
    from mdio_catalog.api.accessor import MDIOReader

    options = _parse_storage_options(storage_options)
    reader = MDIOReader(path, access_pattern=access_pattern, storage_options=options)
    summary: dict[str, Any] = {
        "path": path,
        "access_pattern": access_pattern,
        "access_patterns": reader.access_patterns,
        "shape": list(reader.shape),
        "chunks": list(reader.chunks),
        "dtype": str(reader.dtype),
        "trace_count": reader.trace_count,
        "dimensions": [
            {"name": d.name, "size": d.size, "min": d.min().item(), "max": d.max().item()} for d in reader.grid.dims
        ],
        "stats": reader.stats,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{path} ({access_pattern})")
    for column in ("dimension", "size", "min", "max"):
        table.add_column(column, justify="right" if column != "dimension" else "left")
    for dim in summary["dimensions"]:
        table.add_row(dim["name"], str(dim["size"]), str(dim["min"]), str(dim["max"]))
    console = Console()
    console.print(table)
    console.print(f"chunks {tuple(reader.chunks)}  dtype {reader.dtype}  live traces {reader.trace_count}")
    console.print("stats  " + "  ".join(f"{k}={v:.6g}" for k, v in reader.stats.items() if v is not None))


def main() -> None:
    """Console-script entry point: run the app, turning our errors into one line and an exit code."""
    from mdio_catalog.exceptions import MDIOError

    try:
        app(standalone_mode=False)
    except MDIOError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except Exception as exc:
        # Usage errors of typer's (vendored) click: show the usage line, exit 2 like click does.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            sys.exit(EXIT_INVALID_INPUT)
        raise


if __name__ == "__main__":
    main()
