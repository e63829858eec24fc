"""The ``mdio-catalog`` command line: a thin typer layer over the library.

Heavy imports (zarr, numpy, dask) happen inside the commands so that ``--help`` stays instant. Errors from our
exception tree become readable lines and exit code 2; ``status`` exits 1 when something is stale; ``--debug``
shows tracebacks. Settings come from ``MDIO_CATALOG_*`` environment variables.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mdio_catalog.cli import (
    catalog_cmds,
    convert_cmds,
    data_cmds,
    derive_cmds,
    docs_cmds,
    gc_cmds,
    lineage_cmds,
    verify_cmds,
    versions_cmds,
)
from mdio_catalog.cli.segy_cmds import segy_app

EXIT_INVALID_INPUT = 2
_state: dict[str, bool] = {"debug": False}


def _report(exc: BaseException) -> None:
    issues = getattr(exc, "issues", ())
    if issues:
        for issue in issues:
            typer.echo(f"error: {issue}", err=True)
        return
    typer.echo(f"error: {exc}", err=True)


class _FriendlyErrors(TyperGroup):
    """Turns errors of our tree into readable lines and exit code 2 (a traceback only with --debug), for the
    console script and for typer's test runner alike."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Errors in the group's own options (``mdio-catalog --bogus``, ``mdio-catalog -c x build``) are one line
        too: they are raised while parsing, before :meth:`invoke`."""
        try:
            from typer._click.exceptions import UsageError
        except ImportError:  # pragma: no cover - typer versions that use click itself
            from click.exceptions import UsageError  # type: ignore[assignment]

        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            if "--debug" in args or type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as it was
                raise
            command = exc.ctx.command_path if exc.ctx is not None else (info_name or "mdio-catalog")
            typer.echo(f"error: {exc.format_message()} (options go after the command; see {command} --help)", err=True)
            raise typer.Exit(EXIT_INVALID_INPUT) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            from typer._click.exceptions import UsageError  # typer vendors its own click
        except ImportError:  # pragma: no cover - typer versions that use click itself
            from click.exceptions import UsageError  # type: ignore[assignment]

        from mdio_catalog.exceptions import MDIOError

        try:
            return super().invoke(ctx)
        except MDIOError as exc:
            if _state["debug"]:
                raise
            _report(exc)
            raise typer.Exit(EXIT_INVALID_INPUT) from None
        except UsageError as exc:  # a value that does not parse ('--workers x'), a missing option: one line too
            if _state["debug"]:
                raise
            command = exc.ctx.command_path if exc.ctx is not None else "mdio-catalog"
            typer.echo(f"error: {exc.format_message()} (see {command} --help)", err=True)
            raise typer.Exit(EXIT_INVALID_INPUT) from None


app = typer.Typer(
    cls=_FriendlyErrors,
    name="mdio-catalog",
    help="Seismic SEG-Y <-> MDIO conversion and a declarative, versioned catalog of datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug
    if not debug:  # a warning is one line like an error ("warning: ..."), not Python's file:line and source
        import warnings

        warnings.showwarning = lambda message, *_, **__: typer.echo(f"warning: {message}", err=True)


@app.command()
def version() -> None:
    """Print the package version."""
    from mdio_catalog.version import __version__

    typer.echo(__version__)


app.command("validate")(catalog_cmds.validate)
app.command("list")(catalog_cmds.list_datasets)
app.command("show")(catalog_cmds.show)
app.command("status")(catalog_cmds.status)
app.command("build")(catalog_cmds.build)
app.command("schema")(catalog_cmds.schema)
app.command("gc")(gc_cmds.gc)
app.add_typer(catalog_cmds.templates_app, name="templates")
app.command("info")(data_cmds.info)
app.command("open", help="Same as info: summarise a dataset given by name or path.")(data_cmds.info)
app.command("export")(data_cmds.export)
app.command("copy")(data_cmds.copy)
app.command("rechunk")(data_cmds.rechunk)
app.command("derive")(derive_cmds.derive)
app.command("lineage")(lineage_cmds.lineage)
app.command("verify")(verify_cmds.verify)
app.command("checksum")(verify_cmds.checksum)
app.command("versions")(versions_cmds.versions)
app.command("rollback")(versions_cmds.rollback)
app.command("plot")(data_cmds.plot)
app.command("convert")(convert_cmds.convert)
app.add_typer(segy_app, name="segy")
app.add_typer(docs_cmds.docs_app, name="docs")
app.command("stac")(docs_cmds.stac)


def main() -> None:
    """Console-script entry point: run the app, turning our errors into readable lines and an exit code."""
    from mdio_catalog.exceptions import MDIOError

    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting: pass it on.
        result = app(standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except MDIOError as exc:
        if _state["debug"]:
            raise
        _report(exc)
        sys.exit(EXIT_INVALID_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except Exception as exc:
        # Usage errors of typer's (vendored) click: show the usage line, exit 2 like click does.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            sys.exit(EXIT_INVALID_INPUT)
        if _state["debug"]:
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(EXIT_INVALID_INPUT)


if __name__ == "__main__":
    main()
