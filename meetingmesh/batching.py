"""Batched requests: what a batch may cost as a whole.

Apollo Client's ``BatchHttpLink`` and graphql-request's ``batchRequests`` send
``[{query, variables, operationName, extensions}, ...]``; ``graphql_request.read_post``
reads such a body (at most ``server.max_batch_operations`` operations) and the view
answers an array of results in the same order. Each operation runs on its own (its own
context and errors: one failing does not touch the others), concurrently, so dependent
mutations belong in separate requests.

The request's limits hold for the batch as a whole. Before anything runs, the
documents' tokens, costs and estimated upstream calls are added up against
``max_tokens``, ``max_cost`` and ``max_upstream_calls`` (``over_budget``); over any of
them, every operation that would have run gets ``QUERY_TOO_COMPLEX`` and no upstream
call is made. At run time the request's ``deadline`` and its upstream call budget
(``providers.budget``) are shared by every operation. Depth and alias limits stay per
document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, Lexer, OperationDefinitionNode, Source, TokenKind

from meetingmesh.schema.selection import EMPTY, Shape, fragments_of, measure


@dataclass(frozen=True, slots=True)
class Planned:
    """One operation of a batch, as far as it was read before running."""

    query: str
    #: None when the document does not parse: it fails on its own and counts no cost.
    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    variables: Mapping[str, Any] | None = None

    def shape(self) -> Shape:
        """The operation's measures (``schema.selection``); nothing for one that cannot run."""
        if self.document is None or self.operation is None:
            return EMPTY
        return measure(self.operation, fragments_of(self.document), self.variables)


def over_budget(
    operations: Sequence[Planned], max_tokens: int, max_cost: int, max_calls: int | None = None
) -> str | None:
    """Why a batch's operations together exceed the request's limits, or None."""
    tokens = 0
    for planned in operations:
        tokens += _count_tokens(planned.query, max_tokens + 1 - tokens)
        if tokens > max_tokens:
            return (
                f"the batch's documents hold more than {max_tokens} tokens together "
                f"(the limit of one request)"
            )
    shapes = [planned.shape() for planned in operations]
    cost = sum(shape.cost for shape in shapes)
    if cost > max_cost:
        return f"the batch's operations cost {cost} together, over the limit of {max_cost}"
    calls = sum(shape.calls for shape in shapes)
    if max_calls is not None and calls > max_calls:
        return (
            f"the batch's operations would make {calls} upstream calls together, "
            f"more than the limit of {max_calls}"
        )
    return None


def _count_tokens(query: str, limit: int) -> int:
    """Lexical tokens of ``query`` (comments excluded), counting stops past ``limit``."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF and count < limit:
            count += 1
    except GraphQLError:
        pass  # a syntax error: the operation reports it itself
    return count
