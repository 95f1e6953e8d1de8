"""Prometheus metrics of one gateway, served at ``/metrics``.

Each app has its own registry (several gateways can live in one process, as in the
tests). Labels never carry ids: upstream endpoints are route templates, and GraphQL
operations are the name of the operation that ran (only a name the document holds,
and only once it executed: refused requests are ``anonymous``), at most
``MAX_OPERATIONS`` distinct ones, ``other`` beyond that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MAX_OPERATIONS = 100
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Metrics:
    """The gateway's counters, histograms and gauges."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    _operations: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "meetingmesh_graphql_requests",
            "GraphQL requests by operation and outcome (success, partial, error).",
            ["operation", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "meetingmesh_graphql_request_seconds",
            "GraphQL request latency by operation.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream = Counter(
            "meetingmesh_upstream_requests",
            "Upstream requests by provider, endpoint and HTTP status (or failure kind).",
            ["provider", "endpoint", "status"],
            registry=r,
        )
        self.upstream_latency = Histogram(
            "meetingmesh_upstream_request_seconds",
            "Upstream request latency by provider and endpoint.",
            ["provider", "endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "meetingmesh_upstream_retries",
            "Upstream retries by provider.",
            ["provider"],
            registry=r,
        )
        self.cache = Counter(
            "meetingmesh_upstream_cache",
            "Upstream cache lookups by provider and result (hit, miss).",
            ["provider", "result"],
            registry=r,
        )
        self.circuit = Gauge(
            "meetingmesh_circuit_open",
            "Whether a provider's circuit is open (1), half-open (0.5) or closed (0).",
            ["provider"],
            registry=r,
        )

        self.subscriptions = Gauge(
            "meetingmesh_subscriptions",
            "GraphQL subscriptions open in this process, over every transport.",
            registry=r,
        )
        self.events_dropped = Gauge(
            "meetingmesh_subscription_events_dropped",
            "Events dropped since start because a slow subscriber's queue was full.",
            registry=r,
        )
        self.webhooks = Counter(
            "meetingmesh_webhook_events",
            "Webhook requests by provider and outcome (processed, ping, refused, stale, "
            "replayed, duplicate, ignored, dropped, failed).",
            ["provider", "outcome"],
            registry=r,
        )

        self.redis_up = Gauge(
            "meetingmesh_redis_up",
            "With [redis] url: 1 while state is shared through Redis, 0 while this process "
            "falls back to its own (Redis unreachable or too slow).",
            registry=r,
        )
        self.redis_fallbacks = Counter(
            "meetingmesh_redis_fallbacks",
            "Times this process lost Redis and fell back to its own state.",
            registry=r,
        )
        self.shared_waits = Counter(
            "meetingmesh_upstream_shared_waits",
            "Upstream GETs answered by another process's call (coalesced across processes), "
            "by provider.",
            ["provider"],
            registry=r,
        )

    def operation(self, name: str | None) -> str:
        """A bounded label for a client's operation name."""
        if not name or not _NAME.match(name):
            return "anonymous"
        if name in self._operations:
            return name
        if len(self._operations) >= MAX_OPERATIONS:
            return "other"
        self._operations.add(name)
        return name
