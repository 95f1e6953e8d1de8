"""Schema changes classified as clients feel them, and the commands that print them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import GraphQLInterfaceType, GraphQLUnionType, build_schema

from meetingmesh.cli import main
from meetingmesh.schema_check import Severity, compare_sdl

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = (ROOT / "schema.graphql").read_text()

OLD = """
type Query { meeting(id: ID!): Meeting }
type Meeting { id: ID! title: String! status: Status }
enum Status { SCHEDULED ENDED }
"""


def _kinds(new: str) -> set[tuple[Severity, str]]:
    return {(c.severity, c.kind) for c in compare_sdl(OLD, new)}


def test_removing_or_loosening_a_field_is_breaking() -> None:
    new = OLD.replace("title: String!", "").replace("status: Status", "status: String")
    assert _kinds(new) == {
        (Severity.BREAKING, "FIELD_REMOVED"),
        (Severity.BREAKING, "FIELD_CHANGED_KIND"),
    }


def test_a_new_enum_value_is_dangerous() -> None:
    assert _kinds(OLD.replace("ENDED", "ENDED CANCELLED")) == {
        (Severity.DANGEROUS, "VALUE_ADDED_TO_ENUM")
    }


def test_new_fields_and_types_are_safe() -> None:
    new = OLD.replace("title: String!", "title: String! slug: String") + "type Extra { a: Int }"
    assert _kinds(new) == {(Severity.SAFE, "FIELD_ADDED"), (Severity.SAFE, "TYPE_ADDED")}


def test_a_reordered_schema_is_a_safe_change() -> None:
    new = OLD.replace("id: ID! title: String!", "title: String! id: ID!")
    assert _kinds(new) == {(Severity.SAFE, "REORDERED")}


def test_schema_check_passes_against_the_committed_snapshot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema-check", "--against", str(ROOT / "schema.graphql")]) == 0
    assert capsys.readouterr().out == "schema changes: none\n"


def test_schema_check_exits_1_and_lists_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The snapshot has a field the code lacks: to clients, the code removed it.
    older = tmp_path / "schema.graphql"
    older.write_text(
        SNAPSHOT.replace(
            "type Meeting implements Node {", "type Meeting implements Node {\n  legacy: Int", 1
        )
    )
    assert main(["schema-check", "--against", str(older)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING  FIELD_REMOVED" in out
    assert "Meeting.legacy was removed" in out
    assert out.endswith("schema changes: 1 breaking, 0 dangerous, 0 safe\n")


def test_schema_check_reports_an_unreadable_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema-check", "--against", str(tmp_path / "missing.graphql")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "missing.graphql" in err


def test_possible_types_lists_every_interface_and_union(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export-schema", "--possible-types"]) == 0
    printed = json.loads(capsys.readouterr().out)
    schema = build_schema(SNAPSHOT)
    abstract = {
        name: sorted(t.name for t in schema.get_possible_types(type_))
        for name, type_ in schema.type_map.items()
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
    }
    assert printed == abstract
    assert "Meeting" in printed["Node"]
