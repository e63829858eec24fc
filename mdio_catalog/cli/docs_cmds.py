"""``mdio-catalog docs build|serve`` (the static catalog site) and ``mdio-catalog stac`` (a STAC export).

Thin: options in, :mod:`mdio_catalog.site` does the work; heavy imports inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mdio_catalog.cli.common import CatalogOption, JsonOption, QuietOption, emit_json, find_catalog, load_catalog

docs_app = typer.Typer(help="A static site of the catalog (works from file://) and a local server for it.")

OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Folder of the site (default: site/ beside the catalog file).")
]


def _default_out(catalog: Path | None, out: Path | None, folder: str) -> Path:
    return out if out is not None else find_catalog(catalog).resolve().parent / folder


@docs_app.command("build")
def build(
    catalog: CatalogOption = None,
    out: OutOption = None,
    no_pictures: Annotated[bool, typer.Option("--no-pictures", help="Skip the QC pictures (faster).")] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the catalog site: an index of every dataset and export, a page for each (QC pictures of datasets)."""
    from mdio_catalog.core.progress import progress
    from mdio_catalog.site.render import build_site

    target = _default_out(catalog, out, "site")
    loaded = load_catalog(catalog)
    bar = None if quiet or json_output else progress(len(loaded.list()) + len(loaded.spec.exports), "site", unit="page")
    try:
        report = build_site(
            loaded, target, pictures=not no_pictures, on_page=(lambda _: bar.update()) if bar is not None else None
        )
    finally:
        if bar is not None:
            bar.close()
    if json_output:
        emit_json(report.to_data())
        return
    if not quiet:
        typer.echo(
            f"Wrote {report.pages} pages and {report.pictures} pictures ({report.pictures_reused} reused) to "
            f"{target / 'index.html'} in {report.seconds:.2f} s."
        )
    for error in report.errors:
        typer.echo(f"warning: cannot open {error}", err=True)


@docs_app.command("serve")
def serve(
    catalog: CatalogOption = None,
    out: OutOption = None,
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    build_first: Annotated[bool, typer.Option("--build/--no-build", help="Build the site before serving.")] = True,
) -> None:
    """Serve the site on 127.0.0.1 (Ctrl-C stops)."""
    from mdio_catalog.site.serve import make_server

    target = _default_out(catalog, out, "site")
    if build_first:
        from mdio_catalog.site.render import build_site

        build_site(load_catalog(catalog), target)
    server = make_server(target, port)
    host, bound = server.server_address[:2]
    typer.echo(f"Serving {target} at http://{host!s}:{bound}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def stac(
    catalog: CatalogOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder of the STAC catalog (default: stac/ beside the catalog).")
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="CRS of the CDP X/Y headers, EPSG:NNNN, for datasets whose spec names none."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Export a STAC Catalog: one Collection, one Item per built dataset (datacube, processing, file, version,
    projection with the dataset's crs); exports are assets of their dataset's Item."""
    from mdio_catalog.site.stac import check_crs, write_stac

    check_crs(crs)
    target = _default_out(catalog, out, "stac")
    summary = write_stac(load_catalog(catalog), target, crs=crs)
    if json_output:
        emit_json(summary)
        return
    exports = f" and {len(summary['exports'])} export assets" if summary["exports"] else ""
    typer.echo(f"Wrote {len(summary['items'])} items{exports} to {target / 'catalog.json'}.")
    if summary["not_built"]:
        typer.echo(f"Not built (no item or asset): {', '.join(summary['not_built'])}.")
