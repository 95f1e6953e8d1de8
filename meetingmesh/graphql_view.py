"""``/graphql``: Strawberry's ASGI view with our API keys, limits, media types and caching.

It follows the GraphQL-over-HTTP specification: a client that accepts
``application/graphql-response+json`` gets that media type, with 400 for requests that
never reached execution (malformed requests, parse, validation and variable errors,
limits); ``application/json`` clients (and clients that send no ``Accept``) keep the
classic always-200 answers. Media types compare case-insensitively. Every refusal,
whatever its status, is a JSON GraphQL error body in the negotiated media type.
Requests without a valid API key (when keys are configured) are 401 before any
GraphQL work, mutations over GET 405, bodies over the size limit 413, POST bodies that
are not UTF-8 JSON 415. ``graphql_request`` reads the request; ``http_cache`` decides
how long the answer may be reused.
"""

from __future__ import annotations

from collections.abc import Callable
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
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from meetingmesh.api_keys import ApiKeys
from meetingmesh.config import Settings
from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode
from meetingmesh.graphql_request import (
    JSON,
    GraphQLRequest,
    RequestRefused,
    check_content_type,
    choose_operation,
    read_get,
    read_post,
)
from meetingmesh.http_cache import cache_headers
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import Adapter
from meetingmesh.providers.budget import budget_scope
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.resolvers.context import RequestContext
from meetingmesh.schema import build_schema
from meetingmesh.schema.errors import TOO_MANY_TOKENS, reached_execution

Clock = Callable[[], datetime]
GRAPHQL_RESPONSE = "application/graphql-response+json"
_CHARSET = "; charset=utf-8"
#: Distinct documents whose parse the view keeps (the schema keeps its own cache too).
_PARSED = 256


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


def refusal(
    status: int,
    message: str,
    media: str,
    code: ErrorCode | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A request refused before execution, as a GraphQL error body in ``media``.

    A malformed request (400) is 200 for ``application/json`` clients.
    """
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code.value}
    if status == 400 and media == JSON:
        status = 200
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=status,
        headers={"cache-control": "no-store", **(headers or {})},
        media_type=media + _CHARSET,
    )


class SubResponse(Response):
    """Strawberry's per-request response settings, with the negotiated media type."""

    media: str = JSON


class _BodyTooLarge(Exception):
    """The request body exceeded the configured limit."""


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context, API keys, limits, media types and caching."""

    def __init__(self, settings: Settings, clock: Clock, metrics: Metrics) -> None:
        super().__init__(
            build_schema(settings.server),
            graphql_ide="graphiql" if settings.server.graphiql else None,
        )
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        ttls = [p.cache_ttl for p in settings.providers.values()]
        #: How long a client may reuse an error-free query's answer (see ``http_cache``).
        self.max_age = int(min(ttls, default=0))
        self.adapters: dict[Provider, Adapter] = {}
        self._api_keys = ApiKeys(settings.server.api_keys)
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
            with deadline_scope(server.deadline), budget_scope(server.max_upstream_calls):
                response = await self.run(request)
        except RequestRefused as no:
            response = refusal(no.status, no.message, media, no.code, no.headers)
        except HTTPException as exc:  # Strawberry's own refusals
            code = ErrorCode.BAD_USER_INPUT if exc.status_code == 400 else None
            response = refusal(exc.status_code, exc.reason, media, code)
        except _BodyTooLarge:
            limit = self.settings.server.max_body_bytes
            response = refusal(413, f"The request body exceeds {limit} bytes.", media)
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

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """The request (see ``graphql_request``), its operation chosen and allowed."""
        if request.method == "GET":
            graphql_request = read_get(request.query_params)
        else:
            graphql_request = read_post(await request.get_body())
        operation = self._operation(graphql_request)
        is_query = operation is None or operation.operation is OperationType.QUERY
        if request.method == "GET" and not is_query:
            raise RequestRefused(405, "Mutations must be sent with POST.", None, {"Allow": "POST"})
        return GraphQLRequestData(
            query=graphql_request.query,
            variables=graphql_request.variables,
            operation_name=graphql_request.operation_name,
            extensions=graphql_request.extensions,
        )

    def _operation(self, request: GraphQLRequest) -> OperationDefinitionNode | None:
        """The operation to run, or None when the document does not parse (the schema says why)."""
        document = self._parse(request.query)
        return None if document is None else choose_operation(document, request.operation_name)

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
        )

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
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        query = request_data.query or ""
        document = self._parse(query)
        operation = None
        if document is not None:
            operation = choose_operation(document, request_data.operation_name)
        sub_response.headers.update(cache_headers(document, operation, result, self.max_age))
        media = sub_response.media if isinstance(sub_response, SubResponse) else JSON
        if media == GRAPHQL_RESPONSE and not reached_execution(result):
            sub_response.status_code = 400  # never executed: a 4xx, and no data entry
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
