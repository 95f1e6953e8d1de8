"""Batched requests: a JSON array of operations in one POST, answered by an array.

Apollo Client's ``BatchHttpLink`` and graphql-request's ``batchRequests`` send
``[{query, variables, operationName, extensions}, ...]``. The answer is an array of
results in the same order; each operation runs on its own (its own context and
errors: one failing does not touch the others), concurrently, so dependent mutations
belong in separate requests. At most ``server.max_batch_operations`` operations (10 by
default; 0 turns batching off), and the request's limits hold for the batch as a whole:
its documents' tokens and costs are added up against ``max_tokens`` and ``max_cost``
before anything runs (over either, every operation gets ``QUERY_TOO_COMPLEX``), and
the request's ``deadline`` covers every operation. Depth and alias limits stay per
document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    Lexer,
    OperationDefinitionNode,
    Source,
    TokenKind,
    parse,
)

from meetingmesh.persisted import fold_document_id
from meetingmesh.schema.costs import query_cost

_FIELD_TYPES: Mapping[str, type] = {
    "query": str,
    "variables": dict,
    "operationName": str,
    "extensions": dict,
}


class BatchRefused(Exception):
    """A batch that cannot be served at all; the message says why (HTTP 400)."""


def check_batch(body: list[Any], max_operations: int) -> list[Any]:
    """The operations of a batch body, or ``BatchRefused``."""
    if max_operations <= 0:
        raise BatchRefused("Batching is turned off here: send one operation per request.")
    if not body:
        raise BatchRefused("A batch needs at least one operation.")
    if len(body) > max_operations:
        raise BatchRefused(
            f"A batch may hold at most {max_operations} operations; this one has {len(body)}."
        )
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise BatchRefused(f"Operation {index} of the batch is not a JSON object.")
        for key, kind in _FIELD_TYPES.items():
            if item.get(key) is not None and not isinstance(item[key], kind):
                what = "a string" if kind is str else "an object"
                raise BatchRefused(f"Operation {index} of the batch: {key} must be {what}.")
    return [fold_document_id(item) for item in body]


def over_budget(
    operations: Sequence[tuple[str | None, Mapping[str, Any] | None, str | None]],
    max_tokens: int,
    max_cost: int,
) -> str | None:
    """Why a batch's ``(query, variables, operationName)`` together exceed the limits, or None.

    Documents that do not parse count nothing here: they fail on their own.
    """
    tokens = 0
    for query, _, _ in operations:
        if query is not None:
            tokens += _count_tokens(query, max_tokens + 1 - tokens)
            if tokens > max_tokens:
                return (
                    f"the batch's documents hold more than {max_tokens} tokens together "
                    f"(the limit of one request)"
                )
    cost = sum(_cost(query, variables or {}, name) for query, variables, name in operations)
    if cost > max_cost:
        return f"the batch's operations cost {cost} together, over the limit of {max_cost}"
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


def _cost(query: str | None, variables: Mapping[str, Any], name: str | None) -> int:
    if query is None:
        return 0
    try:
        document = parse(query)
    except GraphQLError:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (name is None or (d.name is not None and d.name.value == name))
    ]
    return query_cost(operations[0], fragments, variables) if operations else 0
