"""Schema changes as clients see them: breaking, dangerous or safe.

``meetingmesh schema-check`` compares the schema the code builds with a snapshot
(``schema.graphql`` by default) using graphql-core's ``find_schema_changes``, which
classifies every change the way the GraphQL reference implementation does: *breaking*
changes can fail operations clients already send (a field or enum value removed, a
type narrowed, a required argument added), *dangerous* ones can change what existing
operations return (an enum value or union member added, a default changed), and *safe*
ones cannot affect them (a type, field or optional argument added, a description
changed). A change that only reorders the printed schema is reported as safe too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLSchema,
    build_schema,
    find_schema_changes,
    print_schema,
)


class Severity(StrEnum):
    """How a schema change can affect clients."""

    BREAKING = "breaking"
    DANGEROUS = "dangerous"
    SAFE = "safe"


@dataclass(frozen=True)
class SchemaChange:
    """One classified change between two schemas."""

    severity: Severity
    #: graphql-core's name for the change (``FIELD_REMOVED``), or ``REORDERED``.
    kind: str
    description: str


def compare(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Every change from ``old`` to ``new``, breaking ones first."""
    changes = []
    for change in find_schema_changes(old, new):
        if isinstance(change.type, BreakingChangeType):
            severity = Severity.BREAKING
        elif isinstance(change.type, DangerousChangeType):
            severity = Severity.DANGEROUS
        else:
            severity = Severity.SAFE
        changes.append(SchemaChange(severity, change.type.name, change.description))
    if not changes and print_schema(old) != print_schema(new):
        changes.append(
            SchemaChange(Severity.SAFE, "REORDERED", "The printed schema's order changed.")
        )
    order = list(Severity)
    return sorted(changes, key=lambda c: (order.index(c.severity), c.kind, c.description))


def compare_sdl(old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """``compare`` for two schemas in SDL."""
    return compare(build_schema(old_sdl), build_schema(new_sdl))


def report(changes: list[SchemaChange]) -> str:
    """One line per change and a summary line, for people and CI logs."""
    lines = [f"{c.severity.value.upper():<9} {c.kind:<32} {c.description}" for c in changes]
    counts = ", ".join(f"{sum(c.severity is s for c in changes)} {s.value}" for s in Severity)
    lines.append(f"schema changes: {counts}" if changes else "schema changes: none")
    return "\n".join(lines) + "\n"
