"""The Starlette application: ``/graphql``, ``/healthz`` and ``/readyz``.

One ``httpx.AsyncClient`` per process, opened and closed in the lifespan, carries
every upstream request (keep-alive connections are shared between requests).

``/graphql`` follows the GraphQL-over-HTTP specification: a client that accepts
``application/graphql-response+json`` gets that media type, with 400 for requests
that never reached execution (parse, validation and variable errors, limits);
``application/json`` clients keep the classic always-200 answers. Mutations over GET
are 405, bodies over the size limit 413, POST bodies that are not JSON 415. With API
keys configured, requests without a valid one are 401 before any GraphQL work.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from meetingmesh import graphiql, persisted, tracing
from meetingmesh.batching import BatchRefused, check_batch, over_budget
from meetingmesh.config import ConfigError, Settings
from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import Adapter
from meetingmesh.providers.breaker import CircuitState
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.providers.registry import build_adapters
from meetingmesh.request_id import HEADER as REQUEST_ID_HEADER
from meetingmesh.request_id import RequestIdMiddleware
from meetingmesh.request_id import current as current_request_id
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.schema import build_schema
from meetingmesh.schema.errors import CACHEABLE, TOO_MANY_TOKENS

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter

Clock = Callable[[], datetime]
_CIRCUIT_VALUES = {CircuitState.CLOSED: 0.0, CircuitState.HALF_OPEN: 0.5, CircuitState.OPEN: 1.0}
GRAPHQL_RESPONSE = "application/graphql-response+json"
_GRAPHQL_RESPONSE_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"
JSON = "application/json"
#: The media type negotiated for the request being served.
_MEDIA_TYPE: ContextVar[str] = ContextVar("meetingmesh_media_type", default=JSON)


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


def _json(
    content: Any,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = JSON,
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status_code, headers=headers, media_type=media_type
    )


def _refusal(status: int, message: str, code: str | None = None, **headers: str) -> Response:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return _json({"errors": [error]}, status, headers or None, _MEDIA_TYPE.get())


def negotiate(accept: str) -> str:
    """The response media type for an ``Accept`` header (classic JSON when it is absent)."""
    best, best_q = JSON, -1.0
    for part in accept.split(","):
        media, *options = (p.strip() for p in part.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip() == "q":
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


def _is_mutation(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False  # the GraphQL layer reports the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return any(o.operation is OperationType.MUTATION for o in operations[:1])


class _BodyTooLarge(Exception):
    """The request body exceeded the configured limit."""


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context, API keys, limits and media types."""

    def __init__(self, settings: Settings, clock: Clock, metrics: Metrics) -> None:
        super().__init__(
            build_schema(settings.server),
            graphql_ide="graphiql" if settings.server.graphiql else None,
        )
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        ttls = [p.cache_ttl for p in settings.providers.values()]
        #: How long a client may reuse an error-free query's answer: the shortest
        #: upstream cache lifetime, so a client never holds data the gateway would not.
        self.max_age = int(min(ttls, default=0))
        self.adapters: dict[Provider, Adapter] = {}
        self._api_keys = [k.encode() for k in settings.server.api_keys]
        manifest = settings.server.trusted_documents
        self.documents = persisted.Documents(
            settings.server.apq_cache_bytes,
            persisted.load_manifest(manifest) if manifest else None,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is not a well-formed, authorised GraphQL request; serve the rest."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope)
        _MEDIA_TYPE.set(negotiate(request.headers.get("accept", "")))
        refusal = self._refuse(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limited = self._limit_body(receive)
        try:
            with deadline_scope(self.settings.server.deadline):
                await super().__call__(scope, limited, send)
        except _BodyTooLarge:
            limit = self.settings.server.max_body_bytes
            await _refusal(413, f"The request body exceeds {limit} bytes.")(scope, receive, send)
        except BatchRefused as exc:
            await _refusal(400, str(exc), ErrorCode.BAD_REQUEST)(scope, receive, send)

    def _refuse(self, request: Request) -> Response | None:
        server = self.settings.server
        if self._api_keys and not self._authorized(request.headers.get("authorization", "")):
            return _refusal(
                401,
                "A valid API key is required.",
                "UNAUTHENTICATED",
                **{"WWW-Authenticate": "Bearer"},
            )
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > server.max_body_bytes:
                return _refusal(413, f"The request body exceeds {server.max_body_bytes} bytes.")
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type != JSON:
                return _refusal(415, "POST bodies must be application/json.")
        if request.method == "GET":
            query = request.query_params.get("query")
            if query and _is_mutation(query, request.query_params.get("operationName")):
                return _refusal(405, "Mutations must be sent with POST.", Allow="POST")
        return None

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

    def _authorized(self, header: str) -> bool:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = key.strip().encode()
        # Compare against every key in constant time, so timing reveals nothing.
        matched = False
        for candidate in self._api_keys:
            matched |= hmac.compare_digest(candidate, given)
        return matched

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """GET parameters; a ``documentId``/``doc_id`` among them names a persisted document."""
        folded: dict[str, Any] = persisted.fold_document_id(super().parse_query_params(params))
        return folded

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Browsers get GraphiQL, but a GET naming a persisted document is an operation."""
        params = request.query_params
        names_document = any(params.get(k) for k in ("extensions", *persisted.ID_KEYS))
        return super().should_render_graphql_ide(request) and not names_document

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the gateway's own assets (``meetingmesh.graphiql``), never a CDN."""
        return graphiql.page(request.scope.get("root_path", ""))

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
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """One operation as Strawberry runs it; a batch through ``meetingmesh.batching``."""
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        server = self.settings.server
        resolved = [self.documents.resolve(item) for item in request_data]
        runnable = [r.request for r in resolved if isinstance(r, persisted.Resolved)]
        reason = over_budget(
            [(r.query, r.variables, r.operation_name) for r in runnable],
            server.max_tokens,
            server.max_cost,
        )
        if reason is not None:
            return [persisted.refusal(reason, ErrorCode.QUERY_TOO_COMPLEX) for _ in resolved]

        async def run(item: persisted.Resolved | ExecutionResult) -> ExecutionResult:
            if isinstance(item, ExecutionResult):
                return item
            # Each operation its own context: its errors and loaders are its own.
            own = await self.get_context(request, sub_response)
            return await self._run_resolved(request, request_adapter, own, sub_response, item)

        return list(await asyncio.gather(*(run(item) for item in resolved)))

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation, its persisted document looked up first (``persisted.py``)."""
        resolved = self.documents.resolve(request_data)
        if isinstance(resolved, ExecutionResult):
            return resolved
        return await self._run_resolved(request, request_adapter, context, sub_response, resolved)

    async def _run_resolved(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        context: RequestContext,
        sub_response: Response,
        resolved: persisted.Resolved,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request, request_adapter, sub_response, context, None, resolved.request
        )
        self.documents.remember(resolved, result)
        return result

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """Classic JSON for classic clients; the GraphQL response media type with 400s otherwise.

        Error-free queries may be reused by the client (privately: answers depend on the
        API key) for ``max_age`` seconds; anything else is ``no-store``.
        """
        response = super().create_response(response_data, sub_response)
        cacheable = CACHEABLE.get() and self.max_age > 0
        response.headers["cache-control"] = (
            f"private, max-age={self.max_age}" if cacheable else "no-store"
        )
        if _MEDIA_TYPE.get() == GRAPHQL_RESPONSE and isinstance(response_data, dict):
            errors: list[Any] = list(response_data.get("errors") or [])
            unexecuted = not any(isinstance(e, dict) and e.get("path") for e in errors)
            # APQ's "send the query again" answers stay 200, as Apollo Server sends them.
            unexecuted &= not any(
                isinstance(e, dict)
                and (e.get("extensions") or {}).get("code") in persisted.RETRYABLE
                for e in errors
            )
            # A request that never reached execution: no data entry, and a 4xx status.
            if response_data.get("data") is None and errors and unexecuted:
                body = {k: v for k, v in response_data.items() if k != "data"}
                response = _json(body, 400, media_type=GRAPHQL_RESPONSE)
            response.headers["content-type"] = _GRAPHQL_RESPONSE_TYPE
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

    def decode_json(self, data: str | bytes) -> object:
        """orjson; a body must be a JSON object, or an array of them (a batch).

        Request bodies arrive as bytes, GET parameters as text: only a body may be a
        batch, and only a body's ``documentId`` names a persisted document.
        """
        value = orjson.loads(data)
        if isinstance(data, bytes):
            if isinstance(value, list):
                return check_batch(value, self.settings.server.max_batch_operations)
            value = persisted.fold_document_id(value)
        if not isinstance(value, dict):
            # Strawberry answers its JSONDecodeError with a 400, and crashes on non-objects.
            text = data if isinstance(data, str) else data.decode("utf-8", "replace")
            raise json.JSONDecodeError("the body must be a JSON object", text, 0)
        return value

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than the standard library on large pages."""
        return orjson.dumps(data)


def create_app(settings: Settings, *, clock: Clock = utc_now) -> Starlette:
    """Build the gateway for ``settings``; ``clock`` is injectable for the demo's simulated time."""
    if settings.server.tracing and not tracing.available():
        raise ConfigError("server.tracing needs OpenTelemetry: pip install 'meetingmesh[otel]'")
    metrics = Metrics()
    graphql = GatewayGraphQL(settings, clock, metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
            event_hooks={"request": [_propagate_request_id]},
        ) as http:
            graphql.adapters.update(build_adapters(settings, http, clock, metrics))
            yield
            graphql.adapters.clear()

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        unwell = {
            p.name: a.client.last_error or f"circuit {a.client.breaker.state.value}"
            for p, a in graphql.adapters.items()
            if not a.client.healthy
        }
        status = 503 if unwell else 200
        return _json({"status": "unavailable" if unwell else "ready", "unwell": unwell}, status)

    async def metrics_endpoint(request: Request) -> Response:
        for provider, adapter in graphql.adapters.items():
            state = adapter.client.breaker.state
            metrics.circuit.labels(provider.name).set(_CIRCUIT_VALUES[state])
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    middleware = [Middleware(RequestIdMiddleware)]
    if settings.server.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.server.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
            )
        )
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]
    if settings.server.graphiql:
        routes.append(graphiql.assets())
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    #: The live adapters (filled during the lifespan) and metrics, for operators and tests.
    app.state.adapters = graphql.adapters
    app.state.metrics = metrics
    return app


async def _propagate_request_id(request: httpx.Request) -> None:
    """Send the client's request id on to the provider, so one id follows a request."""
    request_id = current_request_id()
    if request_id is not None:
        request.headers[REQUEST_ID_HEADER] = request_id
