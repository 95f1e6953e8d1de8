"""Control the running simulators: injected latency and request statistics.

Both go through the simulators' own control routes (README, "The simulators"):
``PUT|DELETE <base_url>/_sim/faults`` per provider and ``GET|DELETE /_sim/stats`` for all.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx


def local_client(timeout: float = 30.0) -> httpx.Client:
    """A keep-alive client that ignores proxy settings: every address is 127.0.0.1."""
    return httpx.Client(timeout=timeout, trust_env=False)


def set_latency(client: httpx.Client, base_urls: Iterable[str], latency_ms: float) -> None:
    """Give every request to each provider ``latency_ms`` of injected latency (0: none)."""
    for base_url in base_urls:
        if latency_ms:
            response = client.put(f"{base_url}/_sim/faults", json={"latency_ms": latency_ms})
        else:
            response = client.delete(f"{base_url}/_sim/faults")
        response.raise_for_status()


def reset_stats(client: httpx.Client, stats_url: str) -> None:
    """Zero every provider's request counts."""
    client.delete(stats_url).raise_for_status()


def upstream_calls(client: httpx.Client, stats_url: str) -> int:
    """Requests the simulators have answered (every provider, every endpoint) since a reset."""
    response = client.get(stats_url)
    response.raise_for_status()
    return sum(int(provider["total"]) for provider in response.json().values())


def calls_by_provider(client: httpx.Client, stats_url: str) -> dict[str, int]:
    """Requests each provider's simulator answered since a reset, by provider name."""
    response = client.get(stats_url)
    response.raise_for_status()
    return {name: int(provider["total"]) for name, provider in response.json().items()}
