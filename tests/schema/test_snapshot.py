"""The committed ``schema.graphql`` is the printed schema, and keeps the contract's names."""

from __future__ import annotations

import difflib
from pathlib import Path

from meetingmesh.schema import print_schema
from meetingmesh.schema_check import Severity, compare_sdl, report

SNAPSHOT = Path(__file__).resolve().parent.parent.parent / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    """A schema change lands with its snapshot, so a breaking one is seen in review.

    The classified changes are printed either way; a breaking one is called out.
    """
    committed = SNAPSHOT.read_text()
    printed = print_schema()
    changes = compare_sdl(committed, printed)
    print(report(changes))
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            printed.splitlines(keepends=True),
            "schema.graphql (committed)",
            "schema (code)",
        )
    )
    breaking = any(c.severity is Severity.BREAKING for c in changes)
    warning = "BREAKING for existing clients; " if breaking else ""
    assert not diff, (
        f"{warning}update the snapshot in the same change: "
        f"`meetingmesh export-schema > schema.graphql`\n{report(changes)}\n{diff}"
    )


def test_contract_root_fields_are_present() -> None:
    printed = print_schema()
    for line in (
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "meeting(id: ID!): Meeting",
        "member(provider: Provider!, id: String!): Member",
        "schedulingLink(slug: String!): SchedulingLink",
        "providers: [ProviderStatus!]!",
        "bookMeeting(input: BookMeetingInput!): BookMeetingPayload!",
        "type Meeting implements Node",
        "type Member implements Node",
        "type Course implements Node",
        "type SchedulingLink implements Node",
        "union MeetingDetails = HeyPeersMeetingDetails | ThoughtIndustriesMeetingDetails",
    ):
        assert line in printed, line


def test_every_type_and_field_has_a_description() -> None:
    from meetingmesh.schema import build_schema

    graphql_schema = build_schema()._schema
    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        assert graphql_type.description, name
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            assert field.description, f"{name}.{field_name}"
