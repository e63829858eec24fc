"""``mdio-catalog lineage [NAME] [--json | --dot]``: where the catalog's datasets and exports come from."""

from __future__ import annotations

from typing import Annotated

import typer

from mdio_catalog.cli.common import CatalogOption, JsonOption, load_catalog
from mdio_catalog.exceptions import ArgumentError


def lineage(
    name: Annotated[str | None, typer.Argument(help="Only this product, its upstream and downstream.")] = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
    dot: Annotated[bool, typer.Option("--dot", help="Graphviz text (pipe into `dot -Tsvg`).")] = False,
) -> None:
    """The lineage graph: SEG-Y/NumPy sources, datasets and exports, each edge with its operation (ingest,
    select, recompress, rechunk, export). Text: one line per edge, in build order."""
    if as_json and dot:
        raise ArgumentError("choose one of --json and --dot")
    cat = load_catalog(catalog)
    graph = cat.graph()
    if name is not None:
        cat.lineage(name)  # an unknown name is a one-line error with did-you-mean
        graph = graph.neighbourhood(name)
    if as_json:
        typer.echo(graph.to_json())
        return
    if dot:
        typer.echo(graph.to_dot(), nl=False)
        return
    rank = {n: i for i, n in enumerate(graph.order())}
    edges = sorted(graph.edges, key=lambda e: (rank.get(e.downstream, -1), rank.get(e.upstream, -1)))
    width = max((len(e.upstream) for e in edges), default=0)
    for edge in edges:
        kind = graph.nodes[edge.downstream].kind
        typer.echo(f"{edge.upstream:<{width}}  --{edge.operation}-->  {edge.downstream} ({kind})")


__all__ = ["lineage"]
