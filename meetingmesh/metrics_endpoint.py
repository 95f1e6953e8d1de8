"""``/metrics``: Prometheus' text format, on the gateway's port or a port of its own.

It shows operation names and traffic, so an operator may keep it off the public port
(``[server] metrics_port``: served there only, by ``metrics_app``) and may require a
key (``[server] metrics_api_keys``: 401 without ``Authorization: Bearer <key>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.api_keys import ApiKeys
from meetingmesh.domain import Provider
from meetingmesh.metrics import Metrics
from meetingmesh.providers.breaker import CircuitState
from meetingmesh.providers.http import UpstreamClient

_CIRCUIT_VALUES = {CircuitState.CLOSED: 0.0, CircuitState.HALF_OPEN: 0.5, CircuitState.OPEN: 1.0}
#: The live upstream clients by provider (filled while the gateway runs).
Clients = Callable[[], Mapping[Provider, UpstreamClient]]


def metrics_route(
    metrics: Metrics, clients: Clients, keys: ApiKeys, refresh: Callable[[], None] | None = None
) -> Route:
    """The ``/metrics`` route over ``metrics``, circuits read from ``clients`` when asked.

    ``refresh`` sets the other gauges that are read rather than counted (subscriptions).
    """

    async def endpoint(request: Request) -> Response:
        if keys and not keys.allow(request.headers.get("authorization", "")):
            return Response(
                "A valid metrics API key is required.\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="text/plain",
            )
        for provider, client in clients().items():
            circuit = client.status().circuit
            metrics.circuit.labels(provider.name).set(_CIRCUIT_VALUES[circuit])
        if refresh is not None:
            refresh()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", endpoint)


def metrics_app(route: Route) -> Starlette:
    """An app serving only ``route``: what ``metrics_port`` listens with."""
    return Starlette(routes=[route])
