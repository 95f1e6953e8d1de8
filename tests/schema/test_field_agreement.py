"""Same-named fields agree across the types an interface or a union can stand for.

``node(id) { ... on Meeting { title } ... on Course { title } }`` is only valid when
``title`` has the same type on both (GraphQL's ``OverlappingFieldsCanBeMerged`` rule:
fields of one response name must have the same shape, even on types that exclude each
other). Every pair of object types sharing an interface or a union is walked, and the
selection of each shared field on both is validated with graphql-core.
"""

from __future__ import annotations

from itertools import combinations

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    OverlappingFieldsCanBeMergedRule,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    parse,
    validate,
)

from meetingmesh.schema import build_schema

SCHEMA = build_schema()._schema


def _shared_fields() -> list[tuple[str, GraphQLObjectType, GraphQLObjectType, str]]:
    """(abstract type, one member, another, field name) for every same-named field pair."""
    shared = []
    for name, abstract in sorted(SCHEMA.type_map.items()):
        if name.startswith("__") or not is_abstract_type(abstract):
            continue
        members = sorted(SCHEMA.get_possible_types(abstract), key=lambda t: t.name)
        for one, other in combinations(members, 2):
            for field in sorted(set(one.fields) & set(other.fields)):
                shared.append((name, one, other, field))
    return shared


def _selection(field_name: str, field: GraphQLField) -> str:
    return (
        field_name if is_leaf_type(get_named_type(field.type)) else f"{field_name} {{ __typename }}"
    )


def test_the_walk_sees_the_fields_node_types_share() -> None:
    shared = {(abstract, field) for abstract, _, _, field in _shared_fields()}
    assert {("Node", f) for f in ("id", "title", "providerId", "slug", "name")} <= shared


def test_same_named_fields_have_the_same_type_on_every_pair() -> None:
    disagreements = [
        f"{abstract}: {one.name}.{field}: {one.fields[field].type} "
        f"vs {other.name}.{field}: {other.fields[field].type}"
        for abstract, one, other, field in _shared_fields()
        if str(one.fields[field].type) != str(other.fields[field].type)
    ]
    assert not disagreements, "\n".join(disagreements)


def test_selecting_a_shared_field_on_both_types_is_valid_graphql() -> None:
    refusals = []
    for abstract, one, other, field in _shared_fields():
        document = parse(
            f"fragment Both on {abstract} {{ "
            f"... on {one.name} {{ {_selection(field, one.fields[field])} }} "
            f"... on {other.name} {{ {_selection(field, other.fields[field])} }} }}"
        )
        errors = validate(SCHEMA, document, [OverlappingFieldsCanBeMergedRule])
        refusals += [error.message for error in errors]
    assert not refusals, "\n".join(refusals)


def test_the_issues_own_query_is_valid() -> None:
    document = parse(
        'query { node(id: "x") { ... on Meeting { title providerId } '
        "... on Course { title providerId slug } ... on SchedulingLink { slug } } }"
    )
    assert validate(SCHEMA, document) == []
