"""Three gateway processes, with one shared Redis and without: upstream calls per 1,000 requests.

``measure(sims, log_dir)`` runs on the simulator process the harness already started.
For each mode it starts three ``meetingmesh serve`` processes on the production settings
(the second mode adds ``[redis] url`` for a ``redis-server`` of its own, no persistence),
resets the simulators' statistics, and a client process (``python -m
benchmarks.multiprocess SPEC RESULT``) sends the same ``REQUESTS`` requests round robin
to the three, ``CONCURRENCY`` at a time: a cycle of the merged 20-meeting page, 40
``meeting(id)`` look-ups of Daily sessions and three months of a scheduling page's
availability. The row's up/req is the simulators' request count over the requests
answered (x 1,000: calls per 1,000 requests). Without Redis each process pays for every
distinct upstream answer itself; with it, the three pay once between them.

Without ``redis-server`` on PATH (``scripts/install-test-tools`` installs Debian's) the
phase is absent and the report says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks import queries
from benchmarks.load import summarise
from benchmarks.processes import (
    Gateway,
    Simulators,
    gateway,
    gateway_config,
    managed,
    run_worker,
)
from benchmarks.report import Phase, Row
from meetingmesh.domain import Provider
from meetingmesh.resolvers.ids import encode_id

PROCESSES = 3
REQUESTS = 1000
CONCURRENCY = 12
AVAILABILITY = """query($slug: String!, $month: Int!) { schedulingLink(slug: $slug) {
  availability(timezone: "America/New_York", monthOffset: $month) { start durationMinutes } } }"""


class Absent(Exception):
    """The phase cannot run here (the reason is the message)."""


def measure(sims: Simulators, log_dir: Path) -> Phase:
    """The multi-process phase (see the module docstring); ``Absent`` without redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Absent("redis-server is not installed (scripts/install-test-tools installs it)")
    workload = _workload(sims)
    rows = []
    with _redis(binary, log_dir) as url:
        for key, label, redis_url in (
            ("multiprocess_local", "3 processes, each its own cache", None),
            ("multiprocess_shared", "3 processes, one shared Redis", url),
        ):
            config = gateway_config(sims)
            if redis_url is not None:
                config += f"\n[redis]\nurl = {json.dumps(redis_url)}\n"
            with contextlib.ExitStack() as stack:
                gateways = [
                    stack.enter_context(gateway(log_dir, f"gateway-{key}-{i + 1}", config))
                    for i in range(PROCESSES)
                ]
                rows.append(_drive(sims, gateways, workload, key, label, log_dir))
    return Phase(
        "multiprocess",
        f"MULTI-PROCESS: {REQUESTS} requests round robin over {PROCESSES} gateway processes "
        "(production settings); up/req x 1000 = upstream calls per 1,000 requests",
        rows,
    )


def calls_per_thousand(phase: Phase, key: str) -> float | None:
    """Upstream calls per 1,000 requests of one row of the phase."""
    row = next((r for r in phase.rows if r.key == key), None)
    if row is None or row.upstream_per_request is None:
        return None
    return row.upstream_per_request * 1000


@contextlib.contextmanager
def _redis(binary: str, log_dir: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with managed("redis", argv, log_dir):
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise Absent("redis-server did not start within 10 s")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"


def _workload(sims: Simulators) -> list[list[Any]]:
    """The cycle of (query, variables) every mode sends, its ids read from the simulator."""
    daily = sims.upstreams["daily"]
    with httpx.Client(timeout=30) as client:
        answer = client.get(
            f"{daily.base_url}/meetings",
            params={"limit": 40},
            headers={"Authorization": f"Bearer {daily.token}"},
        )
        answer.raise_for_status()
    ids = [encode_id("Meeting", Provider.DAILY, m["id"]) for m in answer.json()["data"]]
    merged = queries.merged_20()
    cycle: list[list[Any]] = [[merged.document, merged.variables]]
    cycle += [[queries.MEETING_BY_ID, {"id": meeting_id}] for meeting_id in ids]
    cycle += [[AVAILABILITY, {"slug": "menelson", "month": month}] for month in range(3)]
    return cycle


def _drive(
    sims: Simulators,
    gateways: list[Gateway],
    workload: list[list[Any]],
    key: str,
    label: str,
    log_dir: Path,
) -> Row:
    with httpx.Client(timeout=30) as client:
        client.delete(sims.stats_url).raise_for_status()
    spec = {
        "urls": [gw.url for gw in gateways],
        "workload": workload,
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
    }
    result = run_worker("benchmarks.multiprocess", spec, log_dir, timeout=300)
    with httpx.Client(timeout=30) as client:
        stats = client.get(sims.stats_url).json()
    calls = sum(int(provider["total"]) for provider in stats.values())
    latencies = sorted(result["latencies_ms"])
    summary = summarise(latencies)
    answered = len(latencies)

    return Row(
        key=key,
        label=label,
        concurrency=CONCURRENCY,
        requests=REQUESTS,
        errors=REQUESTS - answered,
        requests_per_s=answered / result["elapsed_s"] if result["elapsed_s"] else 0.0,
        p50_ms=summary["p50_ms"],
        p95_ms=summary["p95_ms"],
        p99_ms=summary["p99_ms"],
        upstream_per_request=calls / answered if answered else None,
        gateway_peak_rss_mb=None,
        error_sample=result.get("error"),
    )


async def _send(spec: dict[str, Any]) -> dict[str, Any]:
    urls, workload = spec["urls"], spec["workload"]
    latencies: list[float] = []
    error: str | None = None
    turn = iter(range(spec["requests"]))
    limits = httpx.Limits(max_connections=spec["concurrency"] * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal error
            for n in turn:
                query, variables = workload[n % len(workload)]
                started = time.perf_counter()
                response = await client.post(
                    urls[n % len(urls)], json={"query": query, "variables": variables}
                )
                body = response.json() if response.status_code == 200 else None
                if body is None or body.get("errors"):
                    error = error or f"{response.status_code}: {response.text[:200]}"
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
        elapsed = time.monotonic() - started
    return {"latencies_ms": latencies, "elapsed_s": elapsed, "error": error}


def main() -> None:
    """``python -m benchmarks.multiprocess SPEC RESULT``: the client's side of the phase."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    result = asyncio.run(_send(spec))
    Path(sys.argv[2]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
