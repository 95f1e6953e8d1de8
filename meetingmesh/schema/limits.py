"""Query limits, checked before any resolver or upstream call runs (``DocumentChecks``).

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
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
    parse,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from meetingmesh.config import ServerSettings
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


#: Documents whose parse, and (document, rules) whose validation, are kept.
CACHED_DOCUMENTS = 256
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
_validate = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


def document_checks(server: ServerSettings) -> Callable[[], SchemaExtension]:
    """A factory of the extension that parses, validates and limits every document."""
    rules: tuple[type[ASTValidationRule], ...] = (
        limits_rule(server.max_depth, server.max_aliases),
    )
    if not server.introspection:
        rules += (NoSchemaIntrospectionCustomRule,)
    return lambda: DocumentChecks(
        rules, server.max_tokens, server.max_cost, server.max_upstream_calls
    )


class DocumentChecks(SchemaExtension):
    """A document's way to execution, in one extension (Strawberry's cost per request
    grows with the number of extensions, not with their work):

    - parsing with the token limit, cached per query text (256 documents);
    - validation with graphql-core's rules, the depth and alias limits (and, with
      introspection off, the rule refusing it), cached per document;
    - before execution, the cost and upstream-call limits (``Shape.calls``; ``max_calls``
      None: no bound), from the shape kept per operation and variables.
    """

    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        max_tokens: int,
        max_cost: int,
        max_calls: int | None,
    ) -> None:
        self.rules = rules
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.max_calls = max_calls

    def on_operation(self) -> Iterator[None]:
        """The parse options and validation rules of every operation."""
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        """The document, from the parse cache."""
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        """Its validation errors, from the validation cache."""
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield

    def on_execute(self) -> Iterator[None]:
        """Refuse, before any resolver runs, an operation over the cost or call limits."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            operation = select_operation(document, context.operation_name)
            if operation is not None:
                shape = shape_of(document, operation, context.variables)
                message = None
                if shape.cost > self.max_cost:
                    message = f"query cost {shape.cost} exceeds the limit of {self.max_cost}"
                elif self.max_calls is not None and shape.calls > self.max_calls:
                    message = (
                        f"the query would make {shape.calls} upstream calls, "
                        f"more than the limit of {self.max_calls}"
                    )
                if message is not None:
                    context.result = GraphQLExecutionResult(
                        data=None, errors=[too_complex(message)]
                    )
        yield
