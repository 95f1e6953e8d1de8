"""What a client selected, so that providers are asked only for what is shown."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def _fields(selections: Iterable[Selection]) -> list[SelectedField]:
    """The fields of ``selections`` with fragments flattened in."""
    found: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            found.append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            found.extend(_fields(selection.selections))
    return found


def children(selections: Iterable[Selection], name: str) -> list[Selection]:
    """The selections under every field called ``name`` (aliases included)."""
    return [s for field in _fields(selections) if field.name == name for s in field.selections]


def names(selections: Iterable[Selection]) -> frozenset[str]:
    """The names of the fields selected directly in ``selections``."""
    return frozenset(field.name for field in _fields(selections))


def connection_node_fields(selections: Iterable[Selection]) -> frozenset[str]:
    """The fields selected on a connection's ``edges.node``."""
    return names(children(children(selections, "edges"), "node"))


def meetings_projection(selected: Iterable[Selection]) -> tuple[frozenset[str], bool]:
    """For a ``MeetingConnection`` field: the node fields shown, and whether totals are.

    ``selected`` is ``info.selected_fields`` of the connection field itself.
    """
    top = [s for field in _fields(selected) for s in field.selections]
    return connection_node_fields(top), bool({"totalCount", "aggregations"} & names(top))
