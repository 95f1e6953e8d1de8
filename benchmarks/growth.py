"""Cost growth (issue 15): what the merged page from a start time costs as the data grows.

For one data size: a fresh simulator process (its start-up timed: 100,000 meetings per
provider take tens of seconds and a few hundred MiB), a fresh gateway (so the first query
is cold), then three queries of the merged ``meetings(first: 20, filter: {startsAfter})``
one at a time, each with the simulators' counters reset before it:

- ``cold``: the first list query of the gateway's life;
- ``warm, same``: the same query again, which the upstream cache alone may answer;
- ``warm, next day``: a start one day later, the cache filled by the cold query; what an
  index of page start times kept with the upstream cache is meant to answer in one call.

The gateway runs with ``rate_limit = 0`` (the published quotas would time the limiter)
and a 120 s upstream cache, so the warm queries find what the cold one cached even on a
slow machine. With the cache off every query costs what the cold one does.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import processes, procfs, queries, simctl
from benchmarks.report import GrowthRow

#: The simulated clock (the simulators' own default, pinned so the starts below hold).
NOW = "2026-05-22T12:00:00Z"
#: 30 days before now (every list provider has meetings on both sides), and the next day.
STARTS = ("2026-04-22T12:00:00Z", "2026-04-23T12:00:00Z")
CASES = (("cold", STARTS[0]), ("warm, same", STARTS[0]), ("warm, next day", STARTS[1]))
CACHE_TTL = 120
#: The providers with meeting lists: the ones the merged page asks.
LIST_PROVIDERS = ("heypeers", "thoughtindustries", "daily")


def measure(
    size: int, seed: int, log_dir: Path, setup: dict[int, tuple[float, float | None]]
) -> list[GrowthRow]:
    """The three cases at ``size`` meetings per provider; ``setup[size]`` gets the
    simulators' start-up seconds and RSS (MiB)."""
    started = time.monotonic()
    name = f"simulators-{size}"
    with processes.simulators(log_dir, size=size, seed=seed, now=NOW, name=name) as sims:
        setup[size] = (time.monotonic() - started, procfs.rss_mb(sims.process.pid))
        config = processes.gateway_config(sims, {"cache_ttl": CACHE_TTL, "rate_limit": 0})
        with (
            processes.gateway(log_dir, f"gateway-growth-{size}", config) as gw,
            simctl.local_client(timeout=300) as client,
        ):
            # The process's first request pays imports and schema set-up, not upstream cost.
            queries.execute(client, gw.url, "{ __typename }", {})
            rows = []
            for case, starts_after in CASES:
                query = queries.merged_after(starts_after)
                simctl.reset_stats(client, sims.stats_url)
                began = time.perf_counter()
                queries.execute(client, gw.url, query.document, query.variables)
                elapsed_ms = (time.perf_counter() - began) * 1000
                calls = simctl.calls_by_provider(client, sims.stats_url)
                counted = {p: calls.get(p, 0) for p in LIST_PROVIDERS}
                rows.append(GrowthRow(size, case, elapsed_ms, counted))
            return rows
