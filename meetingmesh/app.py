"""The Starlette application: ``/graphql``, ``/webhooks``, ``/healthz``, ``/readyz``, ``/metrics``.

``/metrics`` moves to an app of its own (``app.state.metrics_app``) when
``[server] metrics_port`` is set; ``meetingmesh serve`` serves it on that port.
``/graphql`` also takes WebSockets (subscriptions, ``transports``); ``/webhooks/NAME``
receives a provider's webhooks (``webhooks``), whose events reach subscriptions
through the process's broker (``events``).

One ``httpx.AsyncClient`` per process, opened and closed in the lifespan, carries
every upstream request (keep-alive connections are shared between requests). With
``[redis] url`` the lifespan also connects to Redis (``meetingmesh.shared``), which
then holds the upstream cache, rate limits, in-flight calls, minted tokens, persisted
queries and events of every gateway process; a Redis that does not answer at start-up
is no start-up failure: the process serves on its own state and keeps trying.
``/graphql`` is ``graphql_view.GatewayGraphQL``; ``/graphiql/`` serves GraphiQL's own
assets (``graphiql``) when ``[server] graphiql`` is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from meetingmesh import graphiql, tracing, webhooks
from meetingmesh.api_keys import ApiKeys
from meetingmesh.config import ConfigError, Settings
from meetingmesh.events import Broker, InProcessBroker, Live
from meetingmesh.graphql_view import Clock, GatewayGraphQL
from meetingmesh.health import HealthMonitor, readiness
from meetingmesh.metrics import Metrics
from meetingmesh.metrics_endpoint import metrics_app, metrics_route
from meetingmesh.providers.credentials import RenewingCredential
from meetingmesh.providers.registry import build_adapters
from meetingmesh.redaction import register
from meetingmesh.request_id import HEADER as REQUEST_ID_HEADER
from meetingmesh.request_id import RequestIdMiddleware
from meetingmesh.request_id import current as current_request_id
from meetingmesh.shared.broker import RedisBroker
from meetingmesh.shared.connection import RedisState
from meetingmesh.shared.documents import SharedDocuments


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def create_app(settings: Settings, *, clock: Clock = utc_now) -> Starlette:
    """Build the gateway for ``settings``; ``clock`` is injectable for the demo's simulated time."""
    if settings.server.tracing and not tracing.available():
        raise ConfigError("server.tracing needs OpenTelemetry: pip install 'meetingmesh[otel]'")
    register(*settings.secrets())
    metrics = Metrics()
    local = InProcessBroker()
    redis_broker = RedisBroker(local) if settings.redis.enabled else None
    broker: Broker = redis_broker or local
    server = settings.server
    live = Live(broker, server.max_subscriptions, server.deadline, server.max_upstream_calls)
    graphql = GatewayGraphQL(settings, clock, metrics, live)
    inbox = webhooks.Inbox(settings.server, metrics)
    monitors: list[HealthMonitor] = []  # the running one, during the lifespan

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
            event_hooks={"request": [_propagate_request_id]},
        ) as http:
            state = RedisState(settings.redis, metrics) if settings.redis.enabled else None
            graphql.adapters.update(build_adapters(settings, http, clock, metrics, state))
            if state is not None:
                await _share(state, graphql, redis_broker)
            app.state.redis = state
            monitor = HealthMonitor({p: a.client for p, a in graphql.adapters.items()})
            monitors.append(monitor)
            monitor.start()
            #: The loop serving this app, for tests that count its tasks.
            app.state.loop = asyncio.get_running_loop()
            try:
                async with inbox.running():
                    yield
            finally:
                await monitor.stop()
                monitors.clear()
                if state is not None:
                    await state.close()
                    graphql.documents.shared = None
                    if redis_broker is not None:
                        redis_broker.detach()
                graphql.adapters.clear()

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        clients = [a.client for a in graphql.adapters.values()]
        ready = readiness(monitors[0] if monitors else None, clients)
        return _json(ready.body(), 200 if ready.ready else 503)

    def live_gauges() -> None:
        metrics.subscriptions.set(local.subscriptions)
        metrics.events_dropped.set(local.dropped)

    metrics_at = metrics_route(
        metrics,
        lambda: {p: a.client for p, a in graphql.adapters.items()},
        ApiKeys(settings.server.metrics_api_keys),
        refresh=live_gauges,
    )

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
        WebSocketRoute("/graphql", graphql),
        *webhooks.routes(settings, graphql.adapters, broker, inbox, metrics),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.server.metrics_port is None:
        routes.append(metrics_at)
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
    #: What ``metrics_port`` serves (``/metrics`` alone), when it is set.
    app.state.metrics_app = metrics_app(metrics_at)
    #: The event broker: what webhooks publish and subscriptions receive; the inbox of
    #: verified webhook events waiting to be processed.
    app.state.broker = broker
    app.state.inbox = inbox
    return app


async def _share(state: RedisState, graphql: GatewayGraphQL, broker: RedisBroker | None) -> None:
    """Put the process's shared state in Redis, then connect (never fails start-up)."""
    graphql.documents.shared = SharedDocuments(state)
    if broker is not None:
        broker.attach(state)
    for adapter in graphql.adapters.values():
        client = adapter.client
        state.on_recovery(client.resync)
        if isinstance(client.credential, RenewingCredential):
            state.on_recovery(client.credential.resync)
    await state.start()


async def _propagate_request_id(request: httpx.Request) -> None:
    """Send the client's request id on to the provider, so one id follows a request."""
    request_id = current_request_id()
    if request_id is not None:
        request.headers[REQUEST_ID_HEADER] = request_id
