"""The fast path answers exactly what graphql-core answers, errors and nulls included.

The whole suite runs in compare mode (``tests/conftest.py``): every query the gateway
plans is answered by the fast path and checked against graphql-core over the same
resolver outcomes. These tests add what the gateway's own schema rarely does: fields
that fail or return null where the schema says non-null, errors inside lists, an
abstract type, a resolver's awaitable behind a synchronous field, and documents the
fast path leaves to graphql-core. Each query runs on a small Strawberry schema three
ways (fast, graphql-core, compare) and the answers must agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import strawberry

from meetingmesh.schema import fastpath


class Boom(Exception):
    """A resolver's failure."""


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool


@strawberry.type
class Cat(Named):
    lives: int


Pet = Annotated[Dog | Cat, strawberry.union("Pet")]


@strawberry.type
class Item:
    id: strawberry.ID
    label: str | None
    must: str

    @strawberry.field
    async def later(self, times: int = 1) -> str:
        await asyncio.sleep(0)
        return self.id * times

    @strawberry.field
    def maybe_later(self) -> str:
        async def load() -> str:
            await asyncio.sleep(0)
            return f"loaded {self.id}"

        return load()  # type: ignore[return-value]  # awaited by the executor

    @strawberry.field
    async def broken(self) -> str | None:
        raise Boom(f"item {self.id} is broken")

    @strawberry.field
    async def broken_non_null(self) -> str:
        raise Boom(f"item {self.id} cannot")


def _items() -> list[Item]:
    return [Item(id=strawberry.ID(str(i)), label=f"item {i}", must="yes") for i in range(3)]


@strawberry.input
class Range:
    start: int = 0
    stop: int = 3


@strawberry.type
class Query:
    @strawberry.field
    async def items(self, within: Range | None = None) -> list[Item]:
        chosen = within or Range()
        return _items()[chosen.start : chosen.stop]

    @strawberry.field
    def sync_items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def holes(self) -> list[Item | None]:
        return [_items()[0], None, _items()[2]]

    @strawberry.field
    def no_holes(self) -> list[Item]:
        return [_items()[0], None, _items()[2]]  # type: ignore[list-item]  # a bug

    @strawberry.field
    def bad_item(self) -> Item | None:
        return Item(id=strawberry.ID("9"), label=None, must=None)  # type: ignore[arg-type]

    @strawberry.field
    def pets(self) -> list[Pet]:
        return [Dog(name="rex", barks=True), Cat(name="tom", lives=9)]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Dog(name="rex", barks=False), Cat(name="felix", lives=3)]

    @strawberry.field
    async def fails(self) -> int | None:
        raise Boom("the root field failed")

    @strawberry.field
    def count(self) -> int:
        return 2**40  # beyond Int: a coercion error


@pytest.fixture
def schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, types=[Dog, Cat], execution_context_class=fastpath.FastExecutor
    )


@pytest.fixture
def mode() -> Iterator[None]:
    before = fastpath.MODE
    yield
    fastpath.MODE = before


def _shape(result: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    errors = sorted(
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    )
    return result.data, errors


def both(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> tuple[Any, list[tuple[Any, ...]]]:
    """The answer through the fast path, after checking graphql-core and compare agree."""
    answers = {}
    seen = len(fastpath.MISMATCHES)
    for mode in ("fast", "reference", "compare"):
        fastpath.MODE = mode
        answers[mode] = _shape(asyncio.run(schema.execute(query, variables)))
    assert fastpath.MISMATCHES[seen:] == []
    assert answers["fast"] == answers["reference"] == answers["compare"]
    return answers["fast"]


def planned(schema: strawberry.Schema, query: str) -> bool:
    """Whether the fast path plans ``query`` (runs it once to find out)."""
    fastpath.MODE = "fast"
    fastpath.PLANS.clear()
    asyncio.run(schema.execute(query))
    return any(plan is not None for plan in fastpath.PLANS.values())


@pytest.mark.usefixtures("mode")
def test_fields_fragments_aliases_and_typenames_come_out_in_document_order(
    schema: strawberry.Schema,
) -> None:
    query = """
      query { first: items { ...Parts id } __typename
              syncItems { __typename must label } }
      fragment Parts on Item { label, other: label, id }
    """
    data, errors = both(schema, query)
    assert errors == []
    assert list(data) == ["first", "__typename", "syncItems"]
    assert list(data["first"][0]) == ["label", "other", "id"]
    assert planned(schema, query)


@pytest.mark.usefixtures("mode")
def test_arguments_from_literals_defaults_and_variables_reach_the_resolvers(
    schema: strawberry.Schema,
) -> None:
    query = """
      query($r: Range, $t: Int!) {
        items(within: $r) { id later(times: $t) again: later }
        two: items(within: {start: 1}) { id }
      }
    """
    data, _ = both(schema, query, {"r": {"start": 2}, "t": 3})
    assert data["items"] == [{"id": "2", "later": "222", "again": "2"}]
    assert [i["id"] for i in data["two"]] == ["1", "2"]
    again, _ = both(schema, query, {"r": None, "t": 1})
    assert len(again["items"]) == 3


@pytest.mark.usefixtures("mode")
def test_a_failing_nullable_field_is_null_with_an_error_at_its_path(
    schema: strawberry.Schema,
) -> None:
    data, errors = both(schema, "{ fails items { id broken } }")
    assert data["fails"] is None
    assert [i["broken"] for i in data["items"]] == [None, None, None]
    assert {tuple(e[1]) for e in errors} == {
        ("fails",),
        ("items", 0, "broken"),
        ("items", 1, "broken"),
        ("items", 2, "broken"),
    }


@pytest.mark.usefixtures("mode")
def test_a_failing_non_null_field_nulls_the_nearest_nullable_position(
    schema: strawberry.Schema,
) -> None:
    # items is [Item!]!: one item's failure nulls the whole list, and then the root.
    data, errors = both(schema, "{ items { id brokenNonNull } }")
    assert data is None
    assert errors[0][0] == "item 0 cannot"
    # An error below a position already nulled is dropped (graphql-core 3.3).
    assert len(errors) == 1


@pytest.mark.usefixtures("mode")
def test_null_where_the_schema_says_non_null_is_an_error_and_propagates(
    schema: strawberry.Schema,
) -> None:
    data, errors = both(schema, "{ badItem { id label must } holes { id } }")
    assert data["badItem"] is None
    assert errors[0][:2] == (
        "Cannot return null for non-nullable field Item.must.",
        ["badItem", "must"],
    )
    assert data["holes"] == [{"id": "0"}, None, {"id": "2"}]
    data, errors = both(schema, "{ noHoles { id } }")
    assert data is None
    assert errors[0][1] == ["noHoles", 1]


@pytest.mark.usefixtures("mode")
def test_a_value_a_scalar_cannot_represent_is_an_error(schema: strawberry.Schema) -> None:
    data, errors = both(schema, "{ count }")
    assert data is None
    assert "Int cannot represent" in errors[0][0]


@pytest.mark.usefixtures("mode")
def test_unions_and_interfaces_resolve_each_item_to_its_type(schema: strawberry.Schema) -> None:
    query = """{
      pets { __typename ... on Dog { name barks } ... on Cat { lives } }
      named { name ... on Cat { lives } }
    }"""
    data, errors = both(schema, query)
    assert errors == []
    assert data["pets"] == [
        {"__typename": "Dog", "name": "rex", "barks": True},
        {"__typename": "Cat", "lives": 9},
    ]
    assert data["named"] == [{"name": "rex"}, {"name": "felix", "lives": 3}]
    assert planned(schema, query)


@pytest.mark.usefixtures("mode")
def test_an_awaitable_behind_a_synchronous_resolver_is_awaited(schema: strawberry.Schema) -> None:
    data, _ = both(schema, "{ syncItems { maybeLater } }")
    assert [i["maybeLater"] for i in data["syncItems"]] == ["loaded 0", "loaded 1", "loaded 2"]


@pytest.mark.usefixtures("mode")
def test_literal_skip_and_include_are_planned(schema: strawberry.Schema) -> None:
    query = "{ items { id @skip(if: true) label @include(if: true) must @include(if: false) } }"
    data, _ = both(schema, query)
    assert data["items"][0] == {"label": "item 0"}
    assert planned(schema, query)


@pytest.mark.usefixtures("mode")
@pytest.mark.parametrize(
    "query",
    [
        "query($s: Boolean!) { items { id @skip(if: $s) } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Item") { name } }',
    ],
    ids=["skip-on-a-variable", "introspection", "type-introspection"],
)
def test_documents_the_fast_path_does_not_plan_run_on_graphql_core(
    schema: strawberry.Schema, query: str
) -> None:
    assert not planned(schema, query)
    both(schema, query, {"s": True})
