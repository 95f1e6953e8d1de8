"""Schema extensions for errors: partial failures join ``errors``; surprises are masked."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult

from meetingmesh.errors import GatewayError
from meetingmesh.providers.rows import problem_sink
from meetingmesh.request_id import current as current_request_id
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.schema.selection import select_operation
from meetingmesh.schema.subscription import add_event_errors

#: graphql-core's words when a document has more tokens than the limit allows.
TOO_MANY_TOKENS = "Document contains more than"


def is_unexpected(error: GraphQLError) -> bool:
    """Mask exceptions that are not ours: a ``GatewayError`` or GraphQL's own are shown."""
    original = error.original_error
    return original is not None and not isinstance(original, GatewayError | GraphQLError)


class MaskUnexpected(MaskErrors):
    """Turns unexpected exceptions into "Unexpected error." with the request's id.

    The same id is in the server's log line for the exception, so an operator can find
    the traceback a client reports.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked error, with ``INTERNAL_SERVER_ERROR`` and the request id."""
        masked = super().anonymise_error(error)
        extensions: dict[str, str] = {"code": "INTERNAL_SERVER_ERROR"}
        request_id = current_request_id()
        if request_id is not None:
            extensions["requestId"] = request_id
        masked.extensions = extensions
        return masked


class Outcome(Protocol):
    """What every kind of execution result has: data and errors."""

    @property
    def data(self) -> Any: ...

    @property
    def errors(self) -> Sequence[GraphQLError] | None: ...


def reached_execution(result: Outcome | None) -> bool:
    """Whether an operation ran: it has data, or an error raised by one of its fields."""
    if result is None:
        return False
    return result.data is not None or any(e.path for e in result.errors or ())


def executed_operation(context: ExecutionContext) -> str | None:
    """The name of the operation that ran, if it ran and the document holds it by that name.

    Strawberry reports the client's ``operationName`` whatever it is, so a name that
    names nothing in the document must not become a metrics label.
    """
    document = context.graphql_document
    name = context.operation_name
    if document is None or not isinstance(name, str) or not reached_execution(context.result):
        return None
    return name if select_operation(document, name) is not None else None


class Outcomes(MaskUnexpected):
    """What every operation's result goes through, in one extension (Strawberry's cost
    per request grows with the number of extensions, not with their work):

    - rows a provider sent that could not be read are reported to the context while
      the operation runs (``providers/rows.py``);
    - unexpected exceptions are masked (``MaskUnexpected``);
    - each provider failure a resolver reported (and survived) joins ``errors``, and
      each streamed result (a subscription's event) gets its own
      (``subscription.add_event_errors``);
    - the operation is counted and timed: only one that the document holds and that
      ran is labelled by its name; everything else is ``anonymous``
      (``Metrics.operation``).
    """

    def on_operation(self) -> Iterator[None]:
        """Run the operation with the problem sink, then mask, report and count."""
        started = time.perf_counter()
        context = self.execution_context.context
        try:
            if isinstance(context, RequestContext):
                with problem_sink(context.report_problem):
                    yield from super().on_operation()
            else:
                yield from super().on_operation()
            _add_reported(self.execution_context.result, context)
        finally:
            _observe(self.execution_context, started)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """An event's own reported failures, then the masking of its errors."""
        add_event_errors(self.execution_context.context, result)
        yield from super().on_stream_result(result)


def _add_reported(result: Any, context: object) -> None:
    """Append the context's reported failures to the result's ``errors``."""
    if result is None or not isinstance(context, RequestContext) or not context.reported:
        return
    reported = [
        GraphQLError(error.message, path=path, extensions=error.extensions)
        for error, path in context.reported
    ]
    result.errors = [*(result.errors or []), *reported]


def _observe(context: ExecutionContext, started: float) -> None:
    """Count the operation by outcome and record its latency."""
    result = context.result
    outcome = "error"
    if result is not None and result.data is not None:
        outcome = "partial" if result.errors else "success"
    request_context = context.context
    if isinstance(request_context, RequestContext) and request_context.metrics:
        metrics = request_context.metrics
        operation = metrics.operation(executed_operation(context))
        metrics.requests.labels(operation, outcome).inc()
        metrics.latency.labels(operation).observe(time.perf_counter() - started)
