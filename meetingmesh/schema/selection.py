"""What a client selected: one walk over a document, shared by every check that needs it.

``measure()`` walks one operation of a parsed document once and returns its ``Shape``:
- ``depth``: the deepest nesting of fields (introspection's ``__schema``/``__type``
  trees are not counted, so GraphiQL's own introspection query keeps working);
- ``aliases``: aliased fields, introspection included, fragments counted every time
  they are spread;
- ``cost``: how many items the query could make the gateway produce. Each field costs
  1; a connection (``meetings``, ``upcomingMeetings``, ``attendees``,
  ``schedulingLinks``) costs 1 plus its page size (``first``/``last``, 20 when
  absent) times the cost of one edge, so nested connections multiply; ``nodes``
  multiplies by its number of ids. Introspection is free;
- ``calls``: an estimate of the upstream calls the query causes: one per root
  lookup or list (``node``, ``meeting``, ``member``, ``schedulingLink``, ``meetings``,
  ``schedulingLinks``), one per id of ``nodes``, and one per item for the fields that
  ask a provider for every item they are selected on (``upcomingMeetings``,
  ``Course.meetings``, ``availability``, ``bookingInfo``), multiplied like the cost.
  Fields a list payload embeds or a dataloader batches (``course``, ``attendees``,
  ``hosts``) count none. It is a floor, not a ceiling: a merged list may read several
  pages per provider, which the upstream client's per-request budget counts exactly;
- ``names``: every field name selected anywhere (the HTTP layer's cache policy reads it).

Each fragment is measured once and its shape reused at every spread, so a document
whose fragments spread each other twice (``...F1 ...F1``, n levels deep: 2^n
expansions) is measured in time linear in its size; the shape's numbers still count
every expansion, so such a document is refused, quickly. Unknown and cyclic spreads
count nothing here: graphql-core's own validation reports them.

``meetings_projection()`` reads what a ``MeetingConnection`` field selected, from
Strawberry's selection tree, so providers are asked only for what is shown.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from meetingmesh.resolvers.pagination import DEFAULT_PAGE_SIZE
from meetingmesh.schema.memo import NodeMemo

#: Fields whose cost is their page size times the cost of one edge.
CONNECTIONS = frozenset({"meetings", "upcomingMeetings", "attendees", "schedulingLinks"})
#: Root fields that ask a provider (at least) once; ``nodes`` asks once per id.
ROOT_CALLS = frozenset(
    {"node", "nodes", "meeting", "member", "meetings", "schedulingLink", "schedulingLinks"}
)
#: Fields below the root that ask a provider once for every item they are selected on.
ITEM_CALLS = frozenset({"upcomingMeetings", "meetings", "availability", "bookingInfo"})
#: The root types: a selection set on one of them selects root fields.
ROOT_TYPES = frozenset({"Query", "Mutation"})
INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Shape:
    """The measures of a selection set (see the module docstring)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    calls: int = 0
    names: frozenset[str] = frozenset()

    def beside(self, other: Shape) -> Shape:
        """Two selections at the same level: the deeper depth, the sums of the counts."""
        return Shape(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.cost + other.cost,
            self.calls + other.calls,
            self.names | other.names,
        )


EMPTY = Shape()


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The document's fragment definitions by name."""
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operations_of(document: DocumentNode) -> list[OperationDefinitionNode]:
    """The document's operation definitions, in order."""
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one; None when ambiguous."""
    operations = operations_of(document)
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


def measure(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> Shape:
    """The shape of one operation, each fragment walked once."""
    return _Walk(fragments, variables or {}).selection_set(operation.selection_set, root=True)


#: Shapes by operation node and variables (documents are cached too, 256 of them).
_SHAPES: NodeMemo[Shape] = NodeMemo(512)
#: Projections of ``MeetingConnection`` fields, by their field nodes.
_PROJECTIONS: NodeMemo[tuple[frozenset[str], bool]] = NodeMemo(512)


def shape_of(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
) -> Shape:
    """``measure()`` of ``operation``, remembered per operation node and variables.

    Parsed documents are cached, so the same query sends the same operation node; its
    shape is measured once per distinct variables (and the variables only matter for
    page sizes and id lists, but a key of all of them is cheaper than finding those).
    """
    frozen = _frozen(variables or {})
    if frozen is None:
        return measure(operation, fragments_of(document), variables)
    return _SHAPES.get(
        (operation,), frozen, lambda: measure(operation, fragments_of(document), variables)
    )


def _frozen(value: Any) -> Hashable | None:
    """A hashable form of JSON variables (types kept apart: 1, 1.0 and true differ)."""
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            frozen = _frozen(v)
            if frozen is None:
                return None
            items.append((k, frozen))
        return (dict, tuple(sorted(items)))
    if isinstance(value, list):
        parts = [_frozen(v) for v in value]
        return None if any(p is None for p in parts) else (list, tuple(parts))
    if value is None or isinstance(value, str | int | float):
        return (type(value), value)
    return None


class _Walk:
    """One measurement: the document's fragments, the variables, and the shapes so far."""

    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.memo: dict[str, Shape] = {}
        self.walking: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None, root: bool) -> Shape:
        shape = EMPTY
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                shape = shape.beside(self.field(selection, root))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_root = root if condition is None else condition.name.value in ROOT_TYPES
                shape = shape.beside(self.selection_set(selection.selection_set, inner_root))
            elif isinstance(selection, FragmentSpreadNode):
                shape = shape.beside(self.fragment(selection.name.value))
        return shape

    def fragment(self, name: str) -> Shape:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.walking:
            return EMPTY  # unknown or cyclic: graphql-core's validation reports it
        self.walking.add(name)
        root = definition.type_condition.name.value in ROOT_TYPES
        shape = self.memo[name] = self.selection_set(definition.selection_set, root)
        self.walking.discard(name)
        return shape

    def field(self, field: FieldNode, root: bool) -> Shape:
        name = field.name.value
        inner = self.selection_set(field.selection_set, root=False)
        aliases = inner.aliases + (field.alias is not None)
        if name in INTROSPECTION:
            return Shape(aliases=aliases, names=inner.names | {name})
        items = self.items(field)
        calls = 0
        if name in (ROOT_CALLS if root else ITEM_CALLS):
            calls = items if name == "nodes" else 1
        return Shape(
            depth=1 + inner.depth,
            aliases=aliases,
            cost=1 + items * inner.cost,
            calls=calls + items * inner.calls,
            names=inner.names | {name},
        )

    def items(self, field: FieldNode) -> int:
        """How many times a field's selection is produced per field: its page or id count."""
        name = field.name.value
        if name in CONNECTIONS:
            size = self.argument(field, "first")
            if size is None:
                size = self.argument(field, "last")
            return size if isinstance(size, int) and size >= 0 else DEFAULT_PAGE_SIZE
        if name == "nodes":
            ids = self.argument(field, "ids")
            return len(ids) if isinstance(ids, list) else 1
        return 1

    def argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, ListValueNode):
            return [self.value(v) for v in node.values]
        return value_from_ast_untyped(node, dict(self.variables))


def _fields(selections: Iterable[Selection]) -> list[SelectedField]:
    """The fields of Strawberry ``selections`` with fragments flattened in."""
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


def meetings_projection(info: Info[Any, Any]) -> tuple[frozenset[str], bool]:
    """For a ``MeetingConnection`` field: the node fields shown, and whether totals are.

    Read from Strawberry's ``selected_fields`` once per field of a cached document: the
    selection keeps skipped fields too, so it does not depend on the variables.
    """
    nodes = info._raw_info.field_nodes
    return _PROJECTIONS.get(nodes, None, lambda: _projection(info.selected_fields))


def _projection(selected: Iterable[Selection]) -> tuple[frozenset[str], bool]:
    top = [s for field in _fields(selected) for s in field.selections]
    return connection_node_fields(top), bool({"totalCount", "aggregations"} & names(top))
