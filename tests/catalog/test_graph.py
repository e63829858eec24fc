"""The lineage graph: build order, cycles and unknown upstreams as located spec issues, neighbourhoods, rendering.
Oracle for the orders: the edges themselves (every upstream comes first), over random graphs (hypothesis)."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdio_catalog.catalog.graph import Edge, LineageGraph, Node, build_graph
from mdio_catalog.exceptions import SpecValidationError


def example() -> LineageGraph:
    nodes = [
        Node("data/stack.sgy", "segy"),
        Node("stack", "dataset"),
        Node("stack_crop", "dataset"),
        Node("stack_browse", "dataset"),
        Node("delivery", "export"),
        Node("other", "dataset"),
    ]
    edges = [
        Edge("data/stack.sgy", "stack", "ingest", ("datasets", "stack", "source", "segy")),
        Edge("stack", "stack_crop", "select", ("datasets", "stack_crop", "source", "dataset")),
        Edge("stack", "stack_browse", "recompress", ("datasets", "stack_browse", "source", "dataset")),
        Edge("stack_crop", "delivery", "export", ("exports", "delivery", "dataset")),
    ]
    return build_graph(nodes, edges)


def test_order_neighbourhood_and_rendering() -> None:
    graph = example()
    assert graph.order() == ["stack", "stack_crop", "stack_browse", "delivery", "other"]
    assert graph.order(["delivery", "stack"]) == ["stack", "delivery"]
    assert graph.upstream("delivery") == ["stack_crop", "stack", "data/stack.sgy"]
    assert graph.downstream("stack") == ["stack_crop", "stack_browse", "delivery"]
    sub = graph.neighbourhood("stack_crop")
    assert set(sub.nodes) == {"data/stack.sgy", "stack", "stack_crop", "delivery"}
    record = json.loads(graph.to_json())
    assert {"from": "stack", "to": "stack_crop", "operation": "select"} in record["edges"]
    dot = graph.to_dot()
    assert '"stack" -> "stack_crop" [label="select"];' in dot
    assert '"delivery" [shape=folder];' in dot


def test_unknown_upstream_is_located_with_did_you_mean() -> None:
    with pytest.raises(SpecValidationError) as caught:
        build_graph(
            [Node("stack", "dataset"), Node("crop", "dataset")],
            [Edge("stak", "crop", "select", ("datasets", "crop", "source", "dataset"))],
        )
    (issue,) = caught.value.issues
    assert issue.path == ("datasets", "crop", "source", "dataset")  # type: ignore[attr-defined]
    assert "did you mean 'stack'" in issue.message  # type: ignore[attr-defined]


def test_a_cycle_is_named_and_located() -> None:
    nodes = [Node(n, "dataset") for n in ("a", "b", "c", "d")]
    edges = [
        Edge("a", "b", "select", ("datasets", "b", "source", "dataset")),
        Edge("b", "c", "select", ("datasets", "c", "source", "dataset")),
        Edge("c", "a", "select", ("datasets", "a", "source", "dataset")),
        Edge("a", "d", "select", ("datasets", "d", "source", "dataset")),
    ]
    with pytest.raises(SpecValidationError, match="cycle: a -> b -> c -> a") as caught:
        build_graph(nodes, edges)
    assert caught.value.issues[0].path == ("datasets", "b", "source", "dataset")  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)
        )
    )
)
def test_random_graphs_are_ordered_or_their_cycle_is_real(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = case
    names = [f"d{i}" for i in range(n)]
    edges = [Edge(names[a], names[b], "derive") for a, b in pairs if a != b]
    graph = LineageGraph()
    for name in names:
        graph.add(Node(name, "dataset"))
    for edge in edges:
        graph.connect(edge)
    cycle = graph.find_cycle()
    if cycle:
        assert cycle[0] == cycle[-1]
        links = {(e.upstream, e.downstream) for e in edges}
        assert all((x, y) in links for x, y in itertools.pairwise(cycle))
        with pytest.raises(SpecValidationError):
            graph.order()
        return
    order = graph.order()
    assert sorted(order) == sorted(names)
    where = {name: i for i, name in enumerate(order)}
    assert all(where[e.upstream] < where[e.downstream] for e in edges)
