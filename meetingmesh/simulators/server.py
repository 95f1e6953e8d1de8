"""All four simulators under one port: the embedded default for demo, tests and benchmarks.

``/heypeers``, ``/thoughtindustries``, ``/hubspot`` and ``/daily/v1`` are the base URLs a
gateway is configured with, each exactly the part before the path the provider's document
shows. ``GET /_sim/stats`` and ``DELETE /_sim/stats`` cover every provider at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from meetingmesh.config import ServerSettings, Settings, provider_settings
from meetingmesh.domain import Provider
from meetingmesh.simulators import (
    daily,
    daily_webhooks,
    heypeers,
    hubspot,
    hubspot_oauth,
    hubspot_webhooks,
    thoughtindustries,
)
from meetingmesh.simulators.behaviour import Behaviour
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, json_response


class _Generate(Protocol):
    def __call__(self, *, seed: int, size: int, clock: Clock) -> Any: ...


class _CreateApp(Protocol):
    def __call__(
        self, data: Any, *, clock: Clock, faults: Faults | None, behaviour: Any
    ) -> Starlette: ...


@dataclass(frozen=True)
class ProviderSimulator:
    """One row of the table: where a provider is mounted and how its simulator is built."""

    name: str
    #: Mount path relative to the server's address: the part before the documents' paths.
    mount: str
    #: The static credential the simulator accepts (and the gateway is configured with).
    token: str
    generate: _Generate
    create_app: _CreateApp
    #: The simulator's behaviour switches (``/_sim/behaviour``, ``--behaviour``).
    behaviour: type[Behaviour]


#: Every simulated provider, in the order they are served and listed.
PROVIDERS: tuple[ProviderSimulator, ...] = (
    ProviderSimulator(
        "heypeers",
        "/heypeers",
        heypeers.TOKEN,
        heypeers.HeyPeersData.generate,
        heypeers.create_app,
        heypeers.HeyPeersBehaviour,
    ),
    ProviderSimulator(
        "thoughtindustries",
        "/thoughtindustries",
        thoughtindustries.TOKEN,
        thoughtindustries.ThoughtIndustriesData.generate,
        thoughtindustries.create_app,
        thoughtindustries.ThoughtIndustriesBehaviour,
    ),
    ProviderSimulator(
        "hubspot",
        "/hubspot",
        hubspot.TOKEN,
        hubspot.HubSpotData.generate,
        hubspot.create_app,
        hubspot.HubSpotBehaviour,
    ),
    ProviderSimulator(
        "daily",
        "/daily/v1",
        daily.TOKEN,
        daily.DailyData.generate,
        daily.create_app,
        daily.DailyBehaviour,
    ),
)
#: Provider name -> mount path (relative to the server's address).
MOUNTS: dict[str, str] = {p.name: p.mount for p in PROVIDERS}
TOKENS: dict[str, str] = {p.name: p.token for p in PROVIDERS}
#: Provider name -> its behaviour switches' type.
BEHAVIOURS: dict[str, type[Behaviour]] = {p.name: p.behaviour for p in PROVIDERS}

#: What each simulator signs its webhooks with: the hmac registered with Daily's (the
#: demo and tests register it), HubSpot's app client secret.
WEBHOOK_SECRETS: dict[Provider, str] = {
    Provider.DAILY: daily_webhooks.WEBHOOK_SECRET,
    Provider.HUBSPOT: hubspot_oauth.CLIENT_SECRET,
}

#: HeyPeers' organization id in the simulated data (the documents' example org).
HEYPEERS_ORGANIZATION_ID = 5


class _Swappable:
    """An ASGI app that forwards to whichever simulator it currently holds."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class Simulators:
    """The combined app and, per provider, its harness (stats and faults)."""

    app: Starlette
    harnesses: dict[str, Harness]
    clock: Clock
    _mounted: dict[str, _Swappable] = field(default_factory=dict, repr=False)

    def base_url(self, server_url: str, provider: str) -> str:
        """The base URL a gateway uses for ``provider`` when this app runs at ``server_url``."""
        return server_url.rstrip("/") + MOUNTS[provider]

    def reset(self) -> None:
        """Every simulator back to a quiet start: statistics, faults and behaviour reset."""
        for harness in self.harnesses.values():
            harness.stats.reset()
            harness.faults = Faults()
            harness.behaviour = type(harness.behaviour)()

    def reseed(self, *, seed: int, size: int) -> None:
        """Serve freshly generated worlds at the same addresses (stats, faults, behaviour reset).

        Tests use it to try many data sets against one running server.
        """
        for name, app in _apps(seed, size, self.clock, {}, {}).items():
            self._mounted[name].app = app
            self.harnesses[name] = app.state.harness


def _apps(
    seed: int,
    size: int,
    clock: Clock,
    faults: Mapping[str, Faults],
    behaviour: Mapping[str, Behaviour],
) -> dict[str, Starlette]:
    for name, switches in behaviour.items():
        if name not in BEHAVIOURS or not isinstance(switches, BEHAVIOURS[name]):
            raise TypeError(f"behaviour[{name!r}] must be a {BEHAVIOURS.get(name, Behaviour)}")
    return {
        p.name: p.create_app(
            p.generate(seed=seed, size=size, clock=clock),
            clock=clock,
            faults=faults.get(p.name),
            behaviour=behaviour.get(p.name),
        )
        for p in PROVIDERS
    }


def create_simulators(
    *,
    seed: int = 0,
    size: int = 200,
    clock: Clock | None = None,
    faults: Mapping[str, Faults] | None = None,
    behaviour: Mapping[str, Behaviour] | None = None,
) -> Simulators:
    """Generate every provider's data set and mount its simulator under one Starlette app.

    ``faults`` and ``behaviour`` are keyed by provider name (``"daily"``...); a
    provider's behaviour must be its own type (``daily.DailyBehaviour``...).
    """
    clock = clock or Clock()
    apps = _apps(seed, size, clock, faults or {}, behaviour or {})
    mounted = {name: _Swappable(app) for name, app in apps.items()}
    harnesses: dict[str, Harness] = {
        name: mount.app.state.harness for name, mount in mounted.items()
    }

    async def all_stats(request: Request) -> Response:
        if request.method == "DELETE":
            for harness in harnesses.values():
                harness.stats.reset()
        return json_response({name: h.stats.snapshot() for name, h in harnesses.items()})

    routes: list[BaseRoute] = [Route("/_sim/stats", all_stats, methods=["GET", "DELETE"])]
    routes += [Mount(MOUNTS[name], app=mount) for name, mount in mounted.items()]
    return Simulators(Starlette(routes=routes), harnesses, clock, mounted)


def gateway_settings(server_url: str, *, graphiql: bool = True, **overrides: Any) -> Settings:
    """Gateway settings that point every provider at simulators served at ``server_url``.

    The simulators enforce no rate limits unless their ``rate_limits`` switch is on, so the
    client-side ones are off here; every other setting keeps its production default.
    ``overrides`` are provider settings set alike for every provider (``cache_ttl=0``).
    """
    root = server_url.rstrip("/")
    return Settings(
        server=ServerSettings(graphiql=graphiql),
        providers={
            provider: replace(
                provider_settings(
                    provider,
                    root + MOUNTS[provider.value],
                    TOKENS[provider.value],
                    organization_id=HEYPEERS_ORGANIZATION_ID
                    if provider is Provider.HEYPEERS
                    else None,
                    rate_limit=None,
                    webhook_secret=WEBHOOK_SECRETS.get(provider, ""),
                ),
                **overrides,
            )
            for provider in Provider
        },
    )


def register_webhooks(server_url: str, gateway_url: str) -> str:
    """Register a gateway's webhook endpoints with simulators served at ``server_url``.

    As a customer does with the providers: Daily ``POST /webhooks`` with the hmac the
    gateway is configured with (``WEBHOOK_SECRETS``); HubSpot the app's target URL and
    subscriptions to CRM meetings being created and deleted. The gateway must be
    answering (Daily sends its verification request first). Returns the Daily
    webhook's uuid. The answers repeat the hmac: they are never printed.
    """
    root = server_url.rstrip("/")
    gateway = gateway_url.rstrip("/")
    app = f"{root}{MOUNTS['hubspot']}/webhooks/v3/{hubspot_webhooks.APP_ID}"
    key = {"hapikey": hubspot_webhooks.DEVELOPER_KEY}
    with httpx.Client(timeout=30) as http:
        created = http.post(
            f"{root}{MOUNTS['daily']}/webhooks",
            json={"url": f"{gateway}/webhooks/daily", "hmac": WEBHOOK_SECRETS[Provider.DAILY]},
            headers={"Authorization": f"Bearer {TOKENS['daily']}"},
        )
        created.raise_for_status()
        http.put(
            f"{app}/settings", params=key, json={"targetUrl": f"{gateway}/webhooks/hubspot"}
        ).raise_for_status()
        for change in ("creation", "deletion"):
            http.post(
                f"{app}/subscriptions",
                params=key,
                json={"eventType": f"object.{change}", "objectTypeId": "0-47", "active": True},
            ).raise_for_status()
    return str(created.json()["uuid"])
