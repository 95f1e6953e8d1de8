"""Every part of the schema a client sees says what it is (GraphiQL's docs pane, codegen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from graphql import GraphQLEnumType, GraphQLScalarType

from meetingmesh.schema import build_schema
from meetingmesh.schema.scalars import serialize

SCHEMA = build_schema()._schema
#: GraphQL's own scalars, described by the specification.
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def _undescribed() -> list[str]:
    missing = []
    for name, graphql_type in SCHEMA.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not graphql_type.description:
            missing.append(f"type {name}")
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [
                f"enum value {name}.{value}"
                for value, definition in graphql_type.values.items()
                if not definition.description
            ]
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"field {name}.{field_name}")
            missing += [
                f"argument {name}.{field_name}({arg})"
                for arg, definition in getattr(field, "args", {}).items()
                if not definition.description
            ]
    return missing


def test_every_type_field_argument_and_enum_value_has_a_description() -> None:
    missing = _undescribed()
    assert not missing, "\n".join(missing)


def test_the_check_sees_arguments_and_enum_values() -> None:
    described_args = [
        arg
        for graphql_type in SCHEMA.type_map.values()
        for field in getattr(graphql_type, "fields", {}).values()
        for arg in getattr(field, "args", {})
    ]
    enum_values = [
        value
        for graphql_type in SCHEMA.type_map.values()
        if isinstance(graphql_type, GraphQLEnumType) and not graphql_type.name.startswith("__")
        for value in graphql_type.values
    ]
    assert len(described_args) >= 25
    assert len(enum_values) >= 19


def test_datetime_says_its_exact_format() -> None:
    scalar = SCHEMA.type_map["DateTime"]
    assert isinstance(scalar, GraphQLScalarType)
    description = scalar.description or ""
    for promise in ("ISO 8601", "UTC", "+00:00", "offset", "2026-05-22T14:00:00+02:00"):
        assert promise in description, promise


def test_datetime_output_is_utc_with_an_offset_whatever_the_record_holds() -> None:
    noon = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
    paris = noon.astimezone(timezone(timedelta(hours=2)))
    assert serialize(paris) == "2026-05-22T12:00:00+00:00"
    assert serialize(noon.replace(tzinfo=None)) == "2026-05-22T12:00:00+00:00"
    assert serialize(noon.replace(microsecond=500_000)) == "2026-05-22T12:00:00.500000+00:00"
