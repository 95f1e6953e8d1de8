"""Query limits, checked before any resolver or upstream call runs.

A query over a limit is refused with ``QUERY_TOO_COMPLEX`` naming the limit. Every
limit reads the one ``Shape`` that ``schema.selection.measure`` computes (see there
for what depth, aliases and cost count), so each check is linear in the document:
- depth and aliases, during validation (they do not depend on variables);
- cost and the estimate of upstream calls, once the variables are known (page sizes
  and id lists may be variables). The upstream client's per-request call budget
  (``providers.budget``) backs the estimate up at run time.
Page sizes are limited separately (``first``/``last`` at most 100).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, OperationDefinitionNode, ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension

from meetingmesh.errors import ErrorCode
from meetingmesh.schema.selection import fragments_of, measure, select_operation, shape_of

MAX_DEPTH = 12
MAX_ALIASES = 30


def too_complex(message: str, node: Any = None) -> GraphQLError:
    """A ``QUERY_TOO_COMPLEX`` error."""
    return GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def limits_rule(max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES) -> type[ValidationRule]:
    """A validation rule enforcing the depth and alias limits."""

    class QueryLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = fragments_of(context.document)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            shape = measure(node, self.fragments)
            if shape.depth > max_depth:
                self.report_error(
                    too_complex(f"query depth {shape.depth} exceeds the limit of {max_depth}", node)
                )
            if shape.aliases > max_aliases:
                self.report_error(
                    too_complex(f"{shape.aliases} aliases exceed the limit of {max_aliases}", node)
                )

    return QueryLimits


def query_limits(
    max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES
) -> Callable[[], AddValidationRules]:
    """A factory of the extension that adds the depth and alias limits to validation."""
    rule = limits_rule(max_depth, max_aliases)
    return lambda: AddValidationRules([rule])


def cost_limit(max_cost: int, max_calls: int | None = None) -> type[SchemaExtension]:
    """An extension refusing, before execution, operations over the cost or call limits.

    ``max_calls`` bounds the estimate of upstream calls (``Shape.calls``); None: no bound.
    """

    class CostLimit(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.result is None:
                operation = select_operation(document, context.operation_name)
                if operation is not None:
                    shape = shape_of(document, operation, context.variables)
                    message = None
                    if shape.cost > max_cost:
                        message = f"query cost {shape.cost} exceeds the limit of {max_cost}"
                    elif max_calls is not None and shape.calls > max_calls:
                        message = (
                            f"the query would make {shape.calls} upstream calls, "
                            f"more than the limit of {max_calls}"
                        )
                    if message is not None:
                        context.result = GraphQLExecutionResult(
                            data=None, errors=[too_complex(message)]
                        )
            yield

    return CostLimit
