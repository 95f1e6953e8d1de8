"""How long a client may reuse a GraphQL answer: the ``Cache-Control`` and ``Vary`` headers.

An answer may be reused (``private, max-age=N``: it depends on the API key, so no
shared cache may keep it) only when it is a query's, complete and error-free, and it
selects nothing that a booking changes at once: ``availability`` and ``bookingInfo``
answers are ``no-store``, so a browser never shows a slot as free after
``bookMeeting`` took it. ``N`` is the shortest provider ``cache_ttl``, so a client
never holds data longer than the gateway would. Everything else is ``no-store``.
Every answer carries ``Vary: Accept, Authorization``: the media type and the key
decide what it holds.
"""

from __future__ import annotations

from graphql import DocumentNode, OperationDefinitionNode, OperationType

from meetingmesh.schema.errors import Outcome
from meetingmesh.schema.selection import shape_of

#: Fields whose answer a booking changes at once: never reused.
LIVE_FIELDS = frozenset({"availability", "bookingInfo"})
VARY = "Accept, Authorization"


def cache_headers(
    document: DocumentNode | None,
    operation: OperationDefinitionNode | None,
    result: Outcome,
    max_age: int,
) -> dict[str, str]:
    """The caching headers of one answer to ``operation`` of ``document``."""
    reusable = (
        max_age > 0
        and document is not None
        and operation is not None
        and operation.operation is OperationType.QUERY
        and result.data is not None
        and not result.errors
    )
    if reusable and document is not None and operation is not None:
        reusable = not (LIVE_FIELDS & shape_of(document, operation).names)
    control = f"private, max-age={max_age}" if reusable else "no-store"
    return {"cache-control": control, "vary": VARY}
