"""Subscription transports: graphql-transport-ws, GraphQL over SSE, and multipart HTTP.

Strawberry speaks the three protocols; this module adds what the gateway needs on top:

- **graphql-transport-ws** (WebSocket, ``graphql-ws``'s client, Apollo's
  ``GraphQLWsLink``, GraphiQL): the API key is checked once per connection, from the
  handshake's ``Authorization`` header or the ``connection_init`` payload's
  ``Authorization`` (browsers cannot set WebSocket headers); a refused connection is
  closed with 4403. The server pings every ``server.subscription_heartbeat`` seconds
  (the protocol's ``ping``; clients answer ``pong``), so idle connections survive
  proxies and a dead peer is noticed. At most ``server.max_subscriptions_per_connection``
  operations run on one connection. Trusted documents hold here too.
- **GraphQL over Server-Sent Events** (``graphql-sse``'s client in its "distinct
  connections" mode: one POST with ``Accept: text/event-stream`` per subscription) and
  **multipart HTTP** (Apollo Client's native subscriptions over ``HttpLink``: ``Accept:
  multipart/mixed; subscriptionSpec="1.0"``): the same request handling as ``/graphql``
  (API key, body limit, persisted and trusted documents), with an SSE comment or an
  empty multipart part as the heartbeat.

The legacy ``graphql-ws`` subprotocol (Apollo's retired subscriptions-transport-ws) is
not offered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol, cast

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult

from meetingmesh import persisted
from meetingmesh.resolvers.context import RequestContext

#: The subscription protocols the gateway offers, WebSocket first.
PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL)


class LiveView(Protocol):
    """What the WebSocket handler needs of the view that runs it."""

    heartbeat: float
    documents: persisted.Documents


def stream_transports(heartbeat: float) -> dict[str, type[HTTPStreamTransport]]:
    """SSE and multipart transports that send a heartbeat every ``heartbeat`` seconds."""

    class SSE(SSETransport):
        def __init__(self) -> None:
            super().__init__(heartbeat_interval=heartbeat)

    class Multipart(MultipartSubscriptionTransport):
        heartbeat_interval = heartbeat

    return {GRAPHQL_SSE_PROTOCOL: SSE, MULTIPART_SUBSCRIPTION_PROTOCOL: Multipart}


#: Media types that name a streaming answer (SSE, multipart).
STREAM_TYPES = frozenset({"text/event-stream", "multipart/mixed"})


def wants_stream(accept: str, query: str | None, operation_name: str | None) -> bool:
    """Whether a request whose ``Accept`` allows a stream should get one.

    A subscription always does. A query or mutation only when a stream is the client's
    first choice (graphql-sse's client); clients that list JSON first and streams after
    (urql, for incremental delivery) get their query answered as JSON.
    """
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first in STREAM_TYPES or _is_subscription(query or "", operation_name)


@lru_cache(maxsize=256)
def _is_subscription(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False  # the GraphQL layer reports the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return any(o.operation is OperationType.SUBSCRIPTION for o in operations[:1])


def authorization_candidates(
    headers: Mapping[str, str], connection_params: Mapping[str, object] | None
) -> list[str]:
    """``Authorization`` values a WebSocket presented: handshake header, then init payload."""
    found = [headers.get("authorization", "")]
    for key, value in (connection_params or {}).items():
        if key.lower() == "authorization" and isinstance(value, str):
            found.append(value)
    return [value for value in found if value]


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go in text frames (the view's orjson encoder gives bytes)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Send one message as a text frame."""
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws with server pings and trusted documents."""

    async def handle(self) -> None:
        """Serve the connection, pinging it while it lasts; no task outlives it."""
        pinger = asyncio.create_task(self._ping())
        try:
            await super().handle()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping(self) -> None:
        interval = cast(LiveView, self.view).heartbeat
        with contextlib.suppress(Exception):  # the socket closed: the handler ends too
            while True:
                await asyncio.sleep(interval)
                if self.connection_acknowledged:
                    await self.send_message({"type": "ping"})

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Run the operation, its document first resolved like an HTTP request's."""
        payload: Any = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            documents = cast(LiveView, self.view).documents
            resolved = documents.resolve(_request(payload))
            if isinstance(resolved, ExecutionResult):
                errors = [e.formatted for e in resolved.errors or [GraphQLError("refused")]]
                await self.send_message({"id": message["id"], "type": "error", "payload": errors})
                return
            payload["query"] = resolved.request.query
        await super().handle_subscribe(message)


def _request(payload: dict[str, Any]) -> GraphQLRequestData:
    """A ``subscribe`` message's payload as the request the persisted documents resolve."""
    folded = persisted.fold_document_id(payload)
    query, variables = folded.get("query"), folded.get("variables")
    operation_name, extensions = folded.get("operationName"), folded.get("extensions")
    return GraphQLRequestData(
        query=query if isinstance(query, str) else None,
        variables=variables if isinstance(variables, dict) else None,
        operation_name=operation_name if isinstance(operation_name, str) else None,
        extensions=extensions if isinstance(extensions, dict) else None,
    )
