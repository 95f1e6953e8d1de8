"""All four simulators under one port: the embedded default for demo, tests and benchmarks.

``/heypeers``, ``/thoughtindustries``, ``/hubspot`` and ``/daily/v1`` are the base URLs a
gateway is configured with, each exactly the part before the path the provider's document
shows. ``GET /_sim/stats`` and ``DELETE /_sim/stats`` cover every provider at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from meetingmesh.config import ProviderSettings, ServerSettings, Settings
from meetingmesh.domain import Provider
from meetingmesh.simulators import daily, heypeers, hubspot, thoughtindustries
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, json_response

#: Provider name -> mount path (relative to the server's address).
MOUNTS: dict[str, str] = {
    "heypeers": "/heypeers",
    "thoughtindustries": "/thoughtindustries",
    "hubspot": "/hubspot",
    "daily": "/daily/v1",
}
TOKENS: dict[str, str] = {
    "heypeers": heypeers.TOKEN,
    "thoughtindustries": thoughtindustries.TOKEN,
    "hubspot": hubspot.TOKEN,
    "daily": daily.TOKEN,
}
#: HeyPeers' organization id in the simulated data (the documents' example org).
HEYPEERS_ORGANIZATION_ID = 5


@dataclass(frozen=True)
class Simulators:
    """The combined app and, per provider, its harness (stats and faults)."""

    app: Starlette
    harnesses: Mapping[str, Harness]

    def base_url(self, server_url: str, provider: str) -> str:
        """The base URL a gateway uses for ``provider`` when this app runs at ``server_url``."""
        return server_url.rstrip("/") + MOUNTS[provider]


def create_simulators(
    *,
    seed: int = 0,
    size: int = 200,
    clock: Clock | None = None,
    faults: Mapping[str, Faults] | None = None,
) -> Simulators:
    """Generate every provider's data set and mount its simulator under one Starlette app."""
    clock = clock or Clock()
    faults = faults or {}
    apps = {
        "heypeers": heypeers.create_app(
            heypeers.HeyPeersData.generate(seed=seed, size=size, clock=clock),
            clock=clock,
            faults=faults.get("heypeers"),
        ),
        "thoughtindustries": thoughtindustries.create_app(
            thoughtindustries.ThoughtIndustriesData.generate(seed=seed, size=size, clock=clock),
            clock=clock,
            faults=faults.get("thoughtindustries"),
        ),
        "hubspot": hubspot.create_app(
            hubspot.HubSpotData.generate(seed=seed, size=size, clock=clock),
            clock=clock,
            faults=faults.get("hubspot"),
        ),
        "daily": daily.create_app(
            daily.DailyData.generate(seed=seed, size=size, clock=clock),
            clock=clock,
            faults=faults.get("daily"),
        ),
    }
    harnesses: dict[str, Harness] = {name: app.state.harness for name, app in apps.items()}

    async def all_stats(request: Request) -> Response:
        if request.method == "DELETE":
            for harness in harnesses.values():
                harness.stats.reset()
        return json_response({name: h.stats.snapshot() for name, h in harnesses.items()})

    routes: list[BaseRoute] = [Route("/_sim/stats", all_stats, methods=["GET", "DELETE"])]
    routes += [Mount(MOUNTS[name], app=app) for name, app in apps.items()]
    return Simulators(app=Starlette(routes=routes), harnesses=harnesses)


def gateway_settings(server_url: str, *, graphiql: bool = True) -> Settings:
    """Gateway settings that point every provider at simulators served at ``server_url``."""
    root = server_url.rstrip("/")
    return Settings(
        server=ServerSettings(graphiql=graphiql),
        providers={
            provider: ProviderSettings(
                provider=provider,
                base_url=root + MOUNTS[provider.value],
                token=TOKENS[provider.value],
                organization_id=HEYPEERS_ORGANIZATION_ID if provider is Provider.HEYPEERS else None,
            )
            for provider in Provider
        },
    )
