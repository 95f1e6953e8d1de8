"""The one walk over a document: depth, aliases, cost and upstream calls, unit by unit."""

from __future__ import annotations

from typing import Any

from graphql import parse

from meetingmesh.schema.selection import Shape, fragments_of, measure, select_operation


def _shape(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Shape:
    document = parse(query)
    operation = select_operation(document, name)
    assert operation is not None
    return measure(operation, fragments_of(document), variables)


def test_each_plain_field_costs_one() -> None:
    shape = _shape("{ providers { provider healthy } }")
    assert (shape.cost, shape.depth, shape.aliases) == (3, 2, 0)


def test_a_connection_multiplies_its_edges_by_its_page_size() -> None:
    shape = _shape("{ meetings(first: 5) { edges { node { id title } } } }")
    # meetings 1 + 5 * (edges 1 + node 1 + id 1 + title 1)
    assert shape.cost == 1 + 5 * 4


def test_a_connection_without_a_page_size_counts_twenty() -> None:
    assert _shape("{ meetings { totalCount } }").cost == 1 + 20 * 1


def test_nested_connections_multiply() -> None:
    query = "{ meetings(first: 10) { edges { node { attendees(first: 10) { totalCount } } } } }"
    # meetings 1 + 10 * (edges 1 + node 1 + attendees (1 + 10 * totalCount 1))
    assert _shape(query).cost == 1 + 10 * (1 + 1 + (1 + 10 * 1))


def test_page_sizes_and_ids_may_come_from_variables() -> None:
    query = (
        "query($n: Int, $ids: [ID!]!) { meetings(last: $n) { totalCount } nodes(ids: $ids) { id } }"
    )
    shape = _shape(query, {"n": 7, "ids": ["a", "b", "c"]})
    assert shape.cost == (1 + 7 * 1) + (1 + 3 * 1)


def test_nodes_multiplies_by_its_literal_ids() -> None:
    assert _shape('{ nodes(ids: ["a", "b"]) { id } }').cost == 1 + 2 * 1


def test_introspection_is_free_and_not_deep() -> None:
    shape = _shape("{ __schema { types { fields { type { ofType { name } } } } } }")
    assert (shape.cost, shape.depth) == (0, 0)


def test_aliases_count_inside_introspection() -> None:
    assert _shape("{ __schema { a: types { name } b: types { name } } }").aliases == 2


def test_a_fragment_counts_at_every_spread() -> None:
    query = "{ ...F ...F } fragment F on Query { p: providers { provider } }"
    shape = _shape(query)
    assert (shape.cost, shape.aliases, shape.depth) == (4, 2, 2)


def test_fragments_spreading_each_other_twice_count_every_expansion() -> None:
    levels = 60
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    query = f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"
    # 2^60 expansions, measured by walking each fragment once.
    assert _shape(query).cost == 2**levels


def test_cyclic_and_unknown_fragments_count_nothing() -> None:
    query = (
        "{ ...A ...Missing } fragment A on Query { ...B } fragment B on Query { ...A __typename }"
    )
    assert _shape(query).cost == 1


def test_upstream_calls_count_lookups_ids_and_per_item_fields() -> None:
    query = (
        '{ node(id: "x") { id } nodes(ids: ["a", "b", "c"]) { id } '
        'schedulingLinks(first: 4) { edges { node { availability(timezone: "UTC") { start } '
        'bookingInfo(timezone: "UTC") { durationsMinutes } } } } }'
    )
    # node 1, nodes 3, schedulingLinks 1 + 4 links * (availability 1 + bookingInfo 1)
    assert _shape(query).calls == 1 + 3 + 1 + 4 * 2


def test_embedded_fields_cost_no_upstream_call() -> None:
    query = (
        "{ meetings(first: 50) { edges { node { course { title } attendees { totalCount } } } } }"
    )
    assert _shape(query).calls == 1


def test_names_are_every_field_selected_through_fragments() -> None:
    query = (
        '{ ...F } fragment F on Query { schedulingLink(slug: "s") { '
        'availability(timezone: "UTC") { start } } }'
    )
    assert {"schedulingLink", "availability", "start"} <= _shape(query).names


def test_the_operation_is_the_named_one_or_the_only_one() -> None:
    document = parse("query A { providers { provider } } query B { __typename }")
    assert select_operation(document, None) is None
    chosen = select_operation(document, "B")
    assert chosen is not None and chosen.name is not None and chosen.name.value == "B"
    assert select_operation(document, "C") is None


def test_fields_under_every_id_of_nodes_multiply_their_calls() -> None:
    query = (
        '{ nodes(ids: ["a", "b"]) { ... on SchedulingLink { '
        'availability(timezone: "UTC") { start } } } }'
    )
    assert _shape(query).calls == 2 + 2 * 1


def test_a_fragment_on_the_root_type_selects_root_lookups() -> None:
    query = '{ ...Root } fragment Root on Query { meeting(id: "m") { id } }'
    assert _shape(query).calls == 1
