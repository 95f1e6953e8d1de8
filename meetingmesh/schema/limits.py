"""Query limits, checked during validation, before any resolver or upstream call runs.

A query over the limit is refused with ``QUERY_TOO_COMPLEX`` naming the limit:
- depth: nested selections (introspection's own ``__schema``/``__type`` trees excepted,
  so GraphiQL keeps working);
- aliases: aliased fields in the whole document, which would otherwise multiply work.
Page sizes are limited separately (``first``/``last`` at most 100).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules

from meetingmesh.errors import ErrorCode

MAX_DEPTH = 12
MAX_ALIASES = 30
_INTROSPECTION = frozenset({"__schema", "__type"})


def too_complex(message: str, node: Any = None) -> GraphQLError:
    """A ``QUERY_TOO_COMPLEX`` validation error."""
    return GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def limits_rule(max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES) -> type[ValidationRule]:
    """A validation rule enforcing the depth and alias limits."""

    class QueryLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth, aliases = self._measure(node.selection_set, frozenset())
            if depth > max_depth:
                self.report_error(
                    too_complex(f"query depth {depth} exceeds the limit of {max_depth}", node)
                )
            if aliases > max_aliases:
                self.report_error(
                    too_complex(f"{aliases} aliases exceed the limit of {max_aliases}", node)
                )

        def _measure(
            self, selection_set: SelectionSetNode | None, seen: frozenset[str]
        ) -> tuple[int, int]:
            """(depth, aliases) of a selection set, fragments expanded once per path."""
            if selection_set is None:
                return 0, 0
            depth = aliases = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if selection.name.value in _INTROSPECTION:
                        continue
                    inner_depth, inner_aliases = self._measure(selection.selection_set, seen)
                    depth = max(depth, 1 + inner_depth)
                    aliases += inner_aliases + (selection.alias is not None)
                elif isinstance(selection, InlineFragmentNode):
                    inner_depth, inner_aliases = self._measure(selection.selection_set, seen)
                    depth, aliases = max(depth, inner_depth), aliases + inner_aliases
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue  # unknown or cyclic: other validation rules report it
                    inner_depth, inner_aliases = self._measure(
                        fragment.selection_set, seen | {name}
                    )
                    depth, aliases = max(depth, inner_depth), aliases + inner_aliases
            return depth, aliases

    return QueryLimits


def query_limits(
    max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES
) -> Callable[[], AddValidationRules]:
    """A factory of the extension that adds the limits to validation."""
    rule = limits_rule(max_depth, max_aliases)
    return lambda: AddValidationRules([rule])
