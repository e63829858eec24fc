"""The catalog's lineage: its graph of sources, datasets and exports, and what the graph means for status and builds.

:func:`catalog_graph` turns a catalog spec into a :class:`~mdio_catalog.catalog.graph.LineageGraph` (one node per
source file, dataset and export; one edge per dependency, labelled with its operation); :func:`check_graph` raises
its problems (unknown datasets, cycles) placed at their file and line. :func:`upstream_changes` is the one place
that decides whether an upstream changed under a derived product, so ``status`` and ``build`` agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdio_catalog.catalog.graph import Edge, LineageGraph, Node, Operation
from mdio_catalog.exceptions import MDIOError, SpecValidationError, did_you_mean
from mdio_catalog.specs.catalog import CatalogSpec
from mdio_catalog.specs.derived import DatasetSource
from mdio_catalog.specs.errors import SpecIssue, issues_error
from mdio_catalog.specs.provenance import DerivedFrom, ProvenanceRecord
from mdio_catalog.specs.sources import EmptySource, NumpySource, SegySource


def _operation(catalog: CatalogSpec, name: str, source: DatasetSource) -> Operation:
    """What a derived dataset does to its upstream, the most telling first: select, recompress, rechunk."""
    dataset = catalog.datasets[name]
    if source.select or source.step:
        return "select"
    if dataset.compression is not None and not dataset.compression.lossless:
        return "recompress"
    if dataset.chunks is not None:
        return "rechunk"
    return "derive"


def catalog_graph(catalog: CatalogSpec) -> LineageGraph:
    """The unchecked graph of ``catalog`` (call :func:`check_graph` for its problems, located)."""
    graph = LineageGraph()
    for name, dataset in catalog.datasets.items():
        source = dataset.source
        path = ("datasets", name, "source")
        if isinstance(source, SegySource):
            graph.add(Node(f"segy:{source.segy}", "segy"))
            graph.connect(Edge(f"segy:{source.segy}", name, "ingest", (*path, "segy")))
        elif isinstance(source, NumpySource):
            graph.add(Node(f"numpy:{source.numpy}", "numpy"))
            graph.connect(Edge(f"numpy:{source.numpy}", name, "load", (*path, "numpy")))
        elif isinstance(source, EmptySource):
            graph.add(Node(f"empty:{name}", "empty"))
            graph.connect(Edge(f"empty:{name}", name, "create", (*path, "empty")))
        else:
            graph.connect(Edge(source.dataset, name, _operation(catalog, name, source), (*path, "dataset")))
        graph.add(Node(name, "dataset"))
    for name, export in catalog.exports.items():
        graph.add(Node(name, "export"))
        graph.connect(Edge(export.dataset, name, "export", ("exports", name, "dataset")))
    return graph


def check_graph(catalog: CatalogSpec, graph: LineageGraph | None = None) -> LineageGraph:
    """The graph of ``catalog``, or one located :class:`SpecValidationError` naming every unknown dataset (with a
    did-you-mean) and the cycle."""
    graph = graph if graph is not None else catalog_graph(catalog)
    issues: list[SpecIssue] = []
    datasets = list(catalog.datasets)
    for edge in graph.edges:  # an upstream must be a dataset: a source file or an export cannot be derived from
        node = graph.nodes.get(edge.upstream)
        if node is not None and node.kind == "export":
            issues.append(
                catalog.issue(
                    edge.path, f"{edge.downstream!r} refers to the export {edge.upstream!r}; name a dataset"
                    f"{did_you_mean(edge.upstream, datasets)}",
                )
            )  # fmt: skip
    try:
        graph.check()
    except SpecValidationError as exc:
        issues += [catalog.issue(i.path, i.message) for i in exc.issues if isinstance(i, SpecIssue)]
    if issues:
        source = catalog.source_map.source if catalog.source_map and catalog.source_map.source else None
        raise issues_error(issues, source or f"catalog {catalog.name!r}")
    return graph


def upstream_of(catalog: CatalogSpec, name: str) -> str | None:
    """The dataset ``name`` (a dataset or an export) is made from, if any."""
    if name in catalog.exports:
        return catalog.exports[name].dataset
    source = catalog.datasets[name].source if name in catalog.datasets else None
    return source.dataset if isinstance(source, DatasetSource) else None


def derived_from(name: str, record: ProvenanceRecord) -> DerivedFrom:
    """What a downstream build records about the upstream ``name`` whose current lock entry is ``record``."""
    build = record.model_dump(mode="json", include={"started"})["started"]  # written as in the upstream's entry
    return DerivedFrom(dataset=name, spec_hash=record.spec_hash, build=build)


def upstream_changes(
    upstream: str, record: ProvenanceRecord | None, upstream_record: ProvenanceRecord | None, upstream_stale: bool
) -> list[str]:
    """Why a product built from ``upstream`` (its lock entry ``record``) is stale because of it: the upstream was
    rebuilt since (another spec hash or build id), is stale itself, or is not built."""
    from mdio_catalog.specs.provenance import same_time

    changed = [f"upstream {upstream} changed"]
    if upstream_stale or upstream_record is None:
        return changed
    if record is None:
        return []
    before = record.derived_from
    if before is None or before.dataset != upstream or before.spec_hash != upstream_record.spec_hash:
        return changed
    return [] if same_time(before.build, upstream_record.started) else changed


def check_selection(catalog: CatalogSpec, name: str, reader: Any) -> None:
    """Raise a located error when ``select``/``step`` of dataset ``name`` do not fit the grid of its upstream
    (``reader``, an accessor on its published version)."""
    from mdio_catalog.core.selection import resolve_selection

    source = catalog.datasets[name].source
    if not isinstance(source, DatasetSource):
        return
    try:
        selection = resolve_selection(reader.grid, source.select, source.step)
    except (MDIOError, ValueError) as exc:
        key = "step" if str(exc).startswith("step") else "select"
        raise issues_error([catalog.issue(("datasets", name, "source", key), str(exc))], _what(catalog)) from None
    if 0 in selection.grid.shape:
        message = f"the selection of {source.dataset!r} is empty (shape {selection.grid.shape})"
        raise issues_error([catalog.issue(("datasets", name, "source", "select"), message)], _what(catalog))


def check_built_selections(catalog: Any) -> None:
    """Every derived dataset's ``select``/``step`` against its upstream's grid, for the upstreams already built
    (``catalog``: a :class:`~mdio_catalog.catalog.catalog.Catalog`); all problems in one located error."""
    issues: list[SpecIssue] = []
    for name, dataset in catalog.spec.datasets.items():
        source = dataset.source
        if not isinstance(source, DatasetSource) or catalog.lock_entry(source.dataset) is None:
            continue
        try:
            check_selection(catalog.spec, name, catalog.open(source.dataset))
        except SpecValidationError as exc:
            issues += [i for i in exc.issues if isinstance(i, SpecIssue)]
        except MDIOError:
            continue  # an upstream that does not open is status's report, not the spec's
    if issues:
        raise issues_error(issues, _what(catalog.spec))


def _what(catalog: CatalogSpec) -> str:
    return (
        catalog.source_map.source if catalog.source_map and catalog.source_map.source else f"catalog {catalog.name!r}"
    )


def lineage_of(graph: LineageGraph, name: str) -> Mapping[str, list[str]]:
    """Upstream and downstream products (datasets and exports) of ``name``, nearest first."""
    products = {n for n, node in graph.nodes.items() if node.kind in ("dataset", "export")}
    return {
        "upstream": [n for n in graph.upstream(name) if n in products],
        "downstream": [n for n in graph.downstream(name) if n in products],
    }
