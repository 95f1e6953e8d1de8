"""The committed ``schema.graphql`` is the printed schema, and keeps the contract's names."""

from __future__ import annotations

import difflib
from pathlib import Path

from meetingmesh.schema import build_schema, print_schema
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


def _signatures() -> set[str]:
    """Every root field as one line, ``name(arg: Type, ...): Type``, descriptions aside."""
    schema = build_schema()._schema
    lines = set()
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            args = ", ".join(f"{arg}: {definition.type}" for arg, definition in field.args.items())
            lines.add(f"{name}({args}): {field.type}" if args else f"{name}: {field.type}")
    return lines


def test_contract_root_fields_are_present() -> None:
    signatures = _signatures()
    for line in (
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "meeting(id: ID!): Meeting",
        "member(provider: Provider!, id: String!): Member",
        "schedulingLink(slug: String!): SchedulingLink",
        "providers: [ProviderStatus!]!",
        "bookMeeting(input: BookMeetingInput!): BookMeetingPayload!",
    ):
        assert line in signatures, line
    printed = print_schema()
    for line in (
        "type Meeting implements Node",
        "type Member implements Node",
        "type Course implements Node",
        "type SchedulingLink implements Node",
        "type Attendee implements Node",
        "union MeetingDetails = HeyPeersMeetingDetails | ThoughtIndustriesMeetingDetails",
    ):
        assert line in printed, line
