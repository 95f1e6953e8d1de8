"""``/graphql``: Strawberry's ASGI view with our API keys, limits, media types and caching.

It follows the GraphQL-over-HTTP specification (graphql-http's audit passes every MUST
and SHOULD): a request that is not a well-formed GraphQL-over-HTTP request (bad JSON,
a wrong shape or parameter type, a bad batch) is 400 ``BAD_REQUEST`` for every client.
A well-formed one that never reached execution (parse, validation and variable
errors, an operation that cannot be determined, the limits, an untrusted document) is
400 without ``data`` for clients that accept ``application/graphql-response+json``
(they get that media type), and 200 for ``application/json`` clients (and clients
that send no ``Accept``): their classic always-200 answers. Media types compare
case-insensitively. Every refusal, whatever its status, is a JSON GraphQL error body
in the negotiated media type. Requests without a valid API key (when keys are
configured) are 401 before any GraphQL work, mutations over GET 405, bodies over the
size limit 413, POST bodies that are not UTF-8 JSON 415; a batch is answered 200 with
an array, each operation's refusal in its own entry.

A request goes through, in order: ``graphql_request`` (read and checked for shape, a
batch too), ``persisted`` (the document a persisted query or trusted-document id names,
or a refusal, before anything is parsed), the parse and choice of the operation, then
execution; ``batching`` bounds a batch as a whole; ``http_cache`` decides how long the
answer may be reused. Browsers asking for ``/graphql`` get GraphiQL (``graphiql``).
Subscriptions (and queries whose client asks for a stream first) are answered over
Server-Sent Events or multipart HTTP through the same steps, and over WebSockets
(``transports``: the API key checked once per connection, documents resolved alike).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from meetingmesh import graphiql, persisted, transports
from meetingmesh.api_keys import ApiKeys
from meetingmesh.batching import Planned, over_budget
from meetingmesh.config import Settings
from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode
from meetingmesh.events import Live
from meetingmesh.graphql_request import (
    ID_KEYS,
    JSON,
    GraphQLRequest,
    RequestRefused,
    check_content_type,
    choose_operation,
    read_get,
    read_post,
)
from meetingmesh.http_cache import VARY, cache_headers
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import Adapter
from meetingmesh.providers.budget import call_budget_scope
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.schema import build_schema
from meetingmesh.schema.errors import TOO_MANY_TOKENS, reached_execution

Clock = Callable[[], datetime]
GRAPHQL_RESPONSE = "application/graphql-response+json"
_CHARSET = "; charset=utf-8"
#: Distinct documents whose parse the view keeps (the schema keeps its own cache too).
_PARSED = 256
_MUTATION = OperationType.MUTATION


def negotiate(accept: str) -> str:
    """The response media type for an ``Accept`` header (classic JSON when it is absent)."""
    best, best_q = JSON, -1.0
    for part in accept.split(","):
        media, *options = (p.strip() for p in part.split(";"))
        media = media.lower()
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # The newer type wins ties: it is what a client naming both prefers.
        if media == GRAPHQL_RESPONSE and q > 0 and q >= best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif media in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def refusal(refused: RequestRefused, media: str) -> Response:
    """A request refused before execution, as a GraphQL error body in ``media``."""
    error: dict[str, Any] = {"message": refused.message}
    if refused.code is not None:
        error["extensions"] = {"code": refused.code.value}
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=refused.status_for(media),
        headers={"cache-control": "no-store", **refused.headers},
        media_type=media + _CHARSET,
    )


class SubResponse(Response):
    """Strawberry's per-request response settings, with the negotiated media type."""

    media: str = JSON


class _BodyTooLarge(Exception):
    """The request body exceeded the configured limit."""


@dataclass
class Prepared(GraphQLRequestData):
    """One operation ready to run: its document resolved and parsed, its operation chosen.

    ``query`` is the resolved document's text. An operation of a batch that was refused
    on its own carries its ``refused`` reason instead, answered in its place.
    """

    resolved: persisted.Resolved | None = None
    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    refused: RequestRefused | None = None

    def planned(self) -> Planned:
        """What ``batching`` needs to add up this operation's cost."""
        return Planned(self.query or "", self.document, self.operation, self.variables)


def _refused_result(message: str, code: ErrorCode | None) -> ExecutionResult:
    """An operation refused before it ran, as one error with its code and no data."""
    extensions = None if code is None else {"code": code.value}
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context, API keys, limits, media types and caching."""

    graphql_transport_ws_handler_class = transports.TransportWSHandler
    websocket_adapter_class = transports.TextFrames

    def __init__(self, settings: Settings, clock: Clock, metrics: Metrics, live: Live) -> None:
        server = settings.server
        super().__init__(
            build_schema(server),
            graphql_ide="graphiql" if server.graphiql else None,
            subscription_protocols=transports.PROTOCOLS,
            max_subscriptions_per_connection=server.max_subscriptions_per_connection,
            allowed_origins=server.cors_origins,
        )
        self.stream_transport_classes_by_protocol = transports.stream_transports(
            server.subscription_heartbeat
        )
        #: Seconds between pings on an idle WebSocket (``transports.LiveView``).
        self.heartbeat = server.subscription_heartbeat
        self.live = live
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        ttls = [p.cache_ttl for p in settings.providers.values()]
        #: How long a client may reuse an error-free query's answer (see ``http_cache``).
        self.max_age = int(min(ttls, default=0))
        self.adapters: dict[Provider, Adapter] = {}
        self._api_keys = ApiKeys(settings.server.api_keys)
        manifest = settings.server.trusted_documents
        #: Persisted documents: the APQ store, or the trusted manifest.
        self.documents = persisted.Documents(
            settings.server.apq_cache_bytes,
            persisted.load_manifest(manifest) if manifest else None,
        )
        max_tokens = settings.server.max_tokens
        self._parse: Callable[[str], DocumentNode | None] = lru_cache(maxsize=_PARSED)(
            lambda query: _parse(query, max_tokens)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is not a well-formed, authorised GraphQL request; serve the rest."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        media = negotiate(Request(scope).headers.get("accept", ""))
        try:
            self._check_headers(Request(scope))
            request = Request(scope, self._limit_body(receive))
            server = self.settings.server
            with deadline_scope(server.deadline), call_budget_scope(server.max_upstream_calls):
                response = await self.run(request)
                # A streamed answer (SSE, multipart) is worked out while it is sent:
                # within the request's deadline and call budget too.
                await response(scope, receive, send)
                return
        except RequestRefused as no:
            response = refusal(no, media)
        except HTTPException as exc:  # Strawberry's own refusals
            code = ErrorCode.BAD_REQUEST if exc.status_code == 400 else None
            response = refusal(RequestRefused(exc.status_code, exc.reason, code), media)
        except _BodyTooLarge:
            limit = self.settings.server.max_body_bytes
            too_large = RequestRefused(413, f"The request body exceeds {limit} bytes.", None)
            response = refusal(too_large, media)
        except ClientDisconnect:
            return  # the client is gone (or was cut off for sending too slowly)
        await response(scope, receive, send)

    def _check_headers(self, request: Request) -> None:
        """Refusals decided by the headers alone: the API key, the body's size and type."""
        server = self.settings.server
        if self._api_keys and not self._api_keys.allow(request.headers.get("authorization", "")):
            raise RequestRefused(
                401,
                "A valid API key is required.",
                ErrorCode.UNAUTHENTICATED,
                {"WWW-Authenticate": "Bearer"},
            )
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > server.max_body_bytes:
                raise RequestRefused(
                    413, f"The request body exceeds {server.max_body_bytes} bytes.", None
                )
            check_content_type(request.headers.get("content-type", ""))

    def _limit_body(self, receive: Receive) -> Receive:
        limit = self.settings.server.max_body_bytes
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        return limited

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request (``graphql_request``), its document resolved, parsed and allowed.

        A single request that cannot run raises ``RequestRefused``; an operation of a
        batch that cannot run is refused on its own (``Prepared.refused``).
        """
        read: GraphQLRequest | list[GraphQLRequest]
        if request.method == "GET":
            read = read_get(request.query_params)
        else:
            body = await request.get_body()
            read = read_post(body, self.settings.server.max_batch_operations)
        await self.documents.recall(read)
        transport = self._get_stream_transport_from_headers(request.headers)
        if not isinstance(read, list):
            prepared = self._prepare(read, request.method)
            accept = request.headers.get("accept", "")
            if transport is not None and transports.wants_stream(accept, prepared.operation):
                prepared.protocol = transport.protocol
            return prepared
        if transport is not None:
            raise RequestRefused(400, transport.batching_error)
        batch: list[GraphQLRequestData] = []
        for entry in read:
            try:
                batch.append(self._prepare(entry, request.method))
            except RequestRefused as no:
                batch.append(Prepared(entry.query, None, None, None, refused=no))
        return batch

    def _prepare(self, request: GraphQLRequest, method: str) -> Prepared:
        """The operation ``request`` runs, or ``RequestRefused``.

        The persisted document is looked up before anything is parsed, so a gateway in
        trusted-documents mode never parses (nor looks at the operation type of) a
        document that is not in its manifest.
        """
        resolved = self.documents.resolve(request)
        query = resolved.query
        document = self._parse(query)
        operation = None
        if document is not None:
            operation = choose_operation(document, request.operation_name)
        if method == "GET" and operation is not None and operation.operation is _MUTATION:
            raise RequestRefused(405, "Mutations must be sent with POST.", None, {"Allow": "POST"})
        return Prepared(
            query=query,
            variables=request.variables,
            operation_name=request.operation_name,
            extensions=request.extensions,
            resolved=resolved,
            document=document,
            operation=operation,
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Browsers get GraphiQL, but a GET naming a persisted document is an operation."""
        params = request.query_params
        names_document = any(params.get(k) for k in ("extensions", *ID_KEYS))
        return bool(super().should_render_graphql_ide(request)) and not names_document

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the gateway's own assets (``meetingmesh.graphiql``), never a CDN."""
        return graphiql.page(request.scope.get("root_path", ""))

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Strawberry's sub-response, remembering the media type this client accepts."""
        sub_response = SubResponse()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        sub_response.media = negotiate(request.headers.get("accept", ""))
        return sub_response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        """A fresh context per request, over the process-wide adapters."""
        return RequestContext(
            adapters=self.adapters,
            clock=self.clock,
            request=request,
            max_page_size=self.settings.server.max_page_size,
            metrics=self.metrics,
            live=self.live,
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """A WebSocket needs an API key (handshake header or ``connection_init`` payload)."""
        if self._api_keys:
            request = context.request
            headers = request.headers if isinstance(request, WebSocket) else {}
            offered = transports.authorization_candidates(headers, context.connection_params)
            if not any(self._api_keys.allow(value) for value in offered):
                raise ConnectionRejectionError({"code": ErrorCode.UNAUTHENTICATED.value})
        return UNSET  # type: ignore[no-any-return]  # Strawberry's UNSET is typed Any

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """One operation as Strawberry runs it (``execute_single``), or a batch."""
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        return await self._execute_batch(request, request_adapter, request_data, sub_response)

    async def _execute_batch(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        batch: list[GraphQLRequestData],
        sub_response: Response,
    ) -> list[ExecutionResult]:
        """Every operation of a batch, concurrently, once the batch fits the request's limits."""
        entries = [e for e in batch if isinstance(e, Prepared)]
        server = self.settings.server
        reason = over_budget(
            [e.planned() for e in entries if e.refused is None],
            server.max_tokens,
            server.max_cost,
            server.max_upstream_calls,
        )

        async def run(entry: Prepared) -> ExecutionResult:
            if entry.refused is not None:
                return _refused_result(entry.refused.message, entry.refused.code)
            if reason is not None:
                return _refused_result(reason, ErrorCode.QUERY_TOO_COMPLEX)
            # Each operation its own context: its errors and loaders are its own. The
            # deadline and the upstream call budget (``__call__``) are the request's.
            own = await self.get_context(request, sub_response)
            return await self._run(request, request_adapter, sub_response, own, entry)

        results = list(await asyncio.gather(*(run(entry) for entry in entries)))
        sub_response.headers.update({"cache-control": "no-store", "vary": VARY})
        return results

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation; its result decides the status and the caching headers."""
        if not isinstance(request_data, Prepared):  # every request is prepared first
            raise RequestRefused(400, "No GraphQL query found in the request.")
        result = await self._run(request, request_adapter, sub_response, context, request_data)
        headers = cache_headers(request_data.document, request_data.operation, result, self.max_age)
        sub_response.headers.update(headers)
        media = sub_response.media if isinstance(sub_response, SubResponse) else JSON
        if media == GRAPHQL_RESPONSE and not reached_execution(result):
            sub_response.status_code = 400  # never executed: a 4xx, and no data entry
        return result

    async def _run(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        prepared: Prepared,
    ) -> ExecutionResult:
        """Execute a prepared operation; a newly sent APQ document is remembered once it ran."""
        result = await super().execute_single(
            request, request_adapter, sub_response, context, None, prepared
        )
        if prepared.resolved is not None:
            await self.documents.remember(prepared.resolved, result)
        return result

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """The answer in the negotiated media type; one that never executed has no ``data``."""
        if sub_response.status_code == 400 and isinstance(response_data, dict):
            response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment]
        response = super().create_response(response_data, sub_response)
        media = sub_response.media if isinstance(sub_response, SubResponse) else JSON
        response.headers["content-type"] = media + _CHARSET
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The response body; the parser's token-limit error gets ``QUERY_TOO_COMPLEX``."""
        body = await super().process_result(request, result)
        errors: list[Any] = list(body.get("errors") or ())
        for error in errors:
            if isinstance(error, dict) and TOO_MANY_TOKENS in str(error.get("message")):
                error.setdefault("extensions", {"code": ErrorCode.QUERY_TOO_COMPLEX.value})
        return body

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than the standard library on large pages."""
        return orjson.dumps(data)


def _parse(query: str, max_tokens: int) -> DocumentNode | None:
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None  # the schema reports the syntax error (or the token limit) itself
