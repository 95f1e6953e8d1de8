"""Schema extensions for errors: partial failures join ``errors``; surprises are masked."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from meetingmesh.errors import GatewayError
from meetingmesh.resolvers.context import RequestContext


class ReportedErrors(SchemaExtension):
    """Adds each provider failure a resolver reported (and survived) to the result."""

    def on_operation(self) -> Iterator[None]:
        """After execution, append the context's reported failures to ``errors``."""
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(context, RequestContext) or not context.reported or result is None:
            return
        reported = [
            GraphQLError(error.message, path=path, extensions=error.extensions)
            for error, path in context.reported
        ]
        result.errors = [*(result.errors or []), *reported]


def is_unexpected(error: GraphQLError) -> bool:
    """Mask exceptions that are not ours: a ``GatewayError`` or GraphQL's own are shown."""
    original = error.original_error
    return original is not None and not isinstance(original, GatewayError | GraphQLError)


def masking() -> MaskErrors:
    """The extension that turns unexpected exceptions into "Unexpected error."."""
    return MaskErrors(should_mask_error=is_unexpected, error_message="Unexpected error.")
