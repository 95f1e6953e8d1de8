"""Build one adapter per configured provider over a shared HTTP client and its credential."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import httpx

from meetingmesh.config import Settings
from meetingmesh.domain import Provider
from meetingmesh.metrics import Metrics
from meetingmesh.providers import daily, heypeers, hubspot, thoughtindustries
from meetingmesh.providers.base import Adapter
from meetingmesh.providers.credentials import credential_for
from meetingmesh.providers.http import MessageReader, UpstreamClient

_READERS: dict[Provider, MessageReader] = {
    Provider.HEYPEERS: heypeers.read_message,
    Provider.THOUGHT_INDUSTRIES: thoughtindustries.read_message,
    Provider.HUBSPOT: hubspot.read_message,
    Provider.DAILY: daily.read_message,
}


def build_adapters(
    settings: Settings,
    http: httpx.AsyncClient,
    clock: Callable[[], datetime],
    metrics: Metrics | None = None,
) -> dict[Provider, Adapter]:
    """An adapter for each provider that has a configuration section."""
    adapters: dict[Provider, Adapter] = {}
    for provider, section in settings.providers.items():
        if provider is Provider.HEYPEERS:
            # Documented as https://heypeers.com/api/v2; the adapter's paths carry /api/v2.
            section = replace(section, base_url=heypeers.root_url(section.base_url))
        client = UpstreamClient(
            section,
            http,
            _READERS[provider],
            metrics=metrics,
            tracing=settings.server.tracing,
            classify=daily.classify if provider is Provider.DAILY else None,
            credential=credential_for(section, http, metrics),
        )
        if provider is Provider.HEYPEERS:
            adapters[provider] = heypeers.HeyPeersAdapter(
                client, clock, organization_id=section.organization_id or 0
            )
        elif provider is Provider.THOUGHT_INDUSTRIES:
            adapters[provider] = thoughtindustries.ThoughtIndustriesAdapter(client, clock)
        elif provider is Provider.HUBSPOT:
            adapters[provider] = hubspot.HubSpotAdapter(client, clock)
        else:
            adapters[provider] = daily.DailyAdapter(client, clock)
    return adapters
