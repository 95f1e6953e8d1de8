"""The cost limit: how many items a query could make the gateway produce.

Each field costs 1; a connection field (``meetings``, ``upcomingMeetings``,
``attendees``, ``schedulingLinks``) costs 1 plus its page size (``first``/``last``, 20
when absent) times the cost of one edge, so nested connections multiply. ``nodes``
multiplies by the number of ids. A query over the limit is refused with
``QUERY_TOO_COMPLEX`` before anything runs. Introspection is free.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
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
from strawberry.extensions import SchemaExtension

from meetingmesh.resolvers.pagination import DEFAULT_PAGE_SIZE
from meetingmesh.schema.limits import too_complex

CONNECTIONS = frozenset({"meetings", "upcomingMeetings", "attendees", "schedulingLinks"})
_INTROSPECTION = frozenset({"__schema", "__type"})


def query_cost(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The cost of one operation (see the module docstring)."""

    def argument(field: FieldNode, name: str) -> Any:
        for arg in field.arguments or ():
            if arg.name.value == name:
                return _value(arg.value, variables)
        return None

    def cost(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in _INTROSPECTION:
                    continue
                inner = cost(selection.selection_set, seen)
                if name in CONNECTIONS:
                    size = argument(selection, "first") or argument(selection, "last")
                    count = size if isinstance(size, int) and size >= 0 else DEFAULT_PAGE_SIZE
                    total += 1 + count * inner
                elif name == "nodes":
                    ids = argument(selection, "ids")
                    total += 1 + (len(ids) if isinstance(ids, list) else 1) * inner
                else:
                    total += 1 + inner
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in seen:
                    total += cost(fragment.selection_set, seen | {fragment.name.value})
        return total

    return cost(operation.selection_set, frozenset())


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, ListValueNode):
        return [_value(v, variables) for v in node.values]
    return value_from_ast_untyped(node, dict(variables))


def cost_limit(max_cost: int) -> type[SchemaExtension]:
    """An extension refusing operations that cost more than ``max_cost``."""

    class CostLimit(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.result is None:
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                operations = [
                    d
                    for d in document.definitions
                    if isinstance(d, OperationDefinitionNode)
                    and (
                        context.operation_name is None
                        or (d.name and d.name.value == context.operation_name)
                    )
                ]
                spent = max(
                    (query_cost(o, fragments, context.variables or {}) for o in operations),
                    default=0,
                )
                if spent > max_cost:
                    message = f"query cost {spent} exceeds the limit of {max_cost}"
                    context.result = GraphQLExecutionResult(
                        data=None, errors=[too_complex(message)]
                    )
            yield

    return CostLimit
