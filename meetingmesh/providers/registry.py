"""Build one adapter per configured provider over a shared HTTP client and its credential.

With a ``RedisState`` (``[redis] url``), each provider's cache, coalescing, rate limit and
minted tokens are shared with the other gateway processes (``meetingmesh.shared``).
"""

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
from meetingmesh.providers.http import MessageReader, SharedUpstream, UpstreamClient
from meetingmesh.shared.cache import SharedCache, Waiters
from meetingmesh.shared.connection import RedisState
from meetingmesh.shared.ratelimit import SharedRateLimit, windows
from meetingmesh.shared.tokens import SharedTokens

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
    state: RedisState | None = None,
) -> dict[Provider, Adapter]:
    """An adapter for each provider that has a configuration section.

    With ``state``, what each provider's client and credential keep is shared through it.
    """
    adapters: dict[Provider, Adapter] = {}
    waiters = Waiters(state) if state is not None else None
    for provider, section in settings.providers.items():
        if provider is Provider.HEYPEERS:
            # Documented as https://heypeers.com/api/v2; the adapter's paths carry /api/v2.
            section = replace(section, base_url=heypeers.root_url(section.base_url))
        name = provider.value
        tokens = None
        if state is not None:
            tokens = lambda tenant, name=name: SharedTokens(state, name, tenant)  # noqa: E731
        credential = credential_for(section, http, metrics, tokens)
        shared = None
        if state is not None and waiters is not None:
            limits = windows(section)
            # The longest a request may be on its way: every wait and call ends by then.
            flight = settings.server.deadline + section.timeout + section.connect_timeout
            shared = SharedUpstream(
                SharedCache(state, waiters, name, section.cache_ttl),
                SharedRateLimit(state, name, credential.tenant, limits, flight) if limits else None,
            )
        client = UpstreamClient(
            section,
            http,
            _READERS[provider],
            metrics=metrics,
            tracing=settings.server.tracing,
            classify=daily.classify if provider is Provider.DAILY else None,
            credential=credential,
            shared=shared,
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
