"""Subscription transports: graphql-transport-ws, GraphQL over SSE, and multipart HTTP.

Strawberry speaks the three protocols; this module adds what the gateway needs on top:

- **graphql-transport-ws** (WebSocket, ``graphql-ws``'s client, Apollo's
  ``GraphQLWsLink``, GraphiQL): the API key is checked once per connection, from the
  handshake's ``Authorization`` header or the ``connection_init`` payload's
  ``Authorization`` (browsers cannot set WebSocket headers); a refused connection is
  closed with 4403. The server pings every ``server.subscription_heartbeat`` seconds
  (the protocol's ``ping``; clients answer ``pong``), so idle connections survive
  proxies and a dead peer is noticed. At most ``server.max_subscriptions_per_connection``
  operations run on one connection. Trusted documents hold here too, and a query or
  mutation sent over the socket keeps to the request's ``deadline`` and upstream call
  budget as over HTTP.
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
from contextvars import ContextVar
from typing import Any, Protocol, cast

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
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
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from meetingmesh import persisted
from meetingmesh.config import Settings
from meetingmesh.graphql_request import ID_KEYS, RequestRefused, from_object
from meetingmesh.providers.budget import call_budget_scope
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.resolvers.context import RequestContext

#: The subscription protocols the gateway offers, WebSocket first.
PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL)


class LiveView(Protocol):
    """What the WebSocket handler needs of the view that runs it."""

    heartbeat: float
    documents: persisted.Documents
    settings: Settings


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


def wants_stream(accept: str, operation: OperationDefinitionNode | None) -> bool:
    """Whether a request whose ``Accept`` allows a stream should get one.

    A subscription always does. A query or mutation only when a stream is the client's
    first choice (graphql-sse's client); clients that list JSON first and streams after
    (urql, for incremental delivery) get their query answered as JSON. ``operation`` is
    the one the request runs (None when its document does not parse).
    """
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    subscription = operation is not None and operation.operation is OperationType.SUBSCRIPTION
    return first in STREAM_TYPES or subscription


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


#: The context of the WebSocket operation running in the current task, if any.
_OPERATION_CONTEXT: ContextVar[RequestContext | None] = ContextVar(
    "meetingmesh_ws_operation_context", default=None
)


class TransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws with server pings, trusted documents and per-operation contexts.

    Strawberry makes one context per connection and runs every operation of the socket
    with it; here each operation gets its own (``RequestContext.for_operation``), so
    operations sharing a socket share no loaders (a query asked again reads its
    providers again) and no reported failures, as separate HTTP requests would not.
    """

    @property
    def context(self) -> RequestContext:
        """The running operation's context; the connection's outside any operation."""
        own = _OPERATION_CONTEXT.get()
        return self._connection_context if own is None else own

    @context.setter
    def context(self, value: RequestContext) -> None:
        self._connection_context = value

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

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        """Run one operation within the request's deadline and upstream call budget.

        A query or mutation over the socket keeps to them as over HTTP; a subscription's
        events each get their own (``resolvers.subscriptions``).
        """
        server = cast(LiveView, self.view).settings.server
        token = _OPERATION_CONTEXT.set(self._connection_context.for_operation())
        try:
            with deadline_scope(server.deadline), call_budget_scope(server.max_upstream_calls):
                await super().run_operation(operation)
        finally:
            _OPERATION_CONTEXT.reset(token)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Run the operation, its document first resolved like an HTTP request's.

        A payload that is not a well-formed request (a parameter of the wrong type) and
        a document that cannot be run (not trusted, an unknown hash) get an ``error``
        message before anything is parsed: nothing skips the trusted-documents check. A
        payload without any document is left to the protocol's own checks.
        """
        payload: Any = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict) and "id" in message:
            documents = cast(LiveView, self.view).documents
            try:
                request = from_object(payload)
                await documents.recall(request)
                payload["query"] = documents.resolve(request).query
            except RequestRefused as no:
                if "query" in payload or _names_document(payload):
                    await self.send_message(_error(message["id"], no))
                    return
        await super().handle_subscribe(message)


def _names_document(payload: Mapping[str, Any]) -> bool:
    """Whether a ``subscribe`` payload names a document other than by its text."""
    extensions = payload.get("extensions")
    return any(k in payload for k in ID_KEYS) or (
        isinstance(extensions, dict) and "persistedQuery" in extensions
    )


def _error(operation_id: str, refused: RequestRefused) -> ErrorMessage:
    """The ``error`` message answering a ``subscribe`` that cannot run."""
    code = None if refused.code is None else {"code": refused.code.value}
    errors = [GraphQLError(refused.message, extensions=code).formatted]
    return {"id": operation_id, "type": "error", "payload": errors}
