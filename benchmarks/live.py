"""Webhook-to-subscriber latency: a Daily webhook fanned out to 100 subscribers.

``measure(sims, log_dir)`` runs one phase on the simulator process the harness already
started: a gateway process of its own (production settings, the simulators' webhook
secret), the Daily webhook registered with the simulator as with Daily, and a client
process (``python -m benchmarks.live SPEC RESULT``) holding ``subscribers``
graphql-transport-ws connections with one ``meetingUpdated`` subscription each.

Each round the client notes the time, asks the Daily simulator for a session to start
in a fresh room (``/_sim/webhooks/join``: it signs and sends ``meeting.started`` and
``participant.joined`` before it answers), and every subscriber notes when the round's
first update reaches it. A sample is that arrival minus the request's start: the
simulator's signing and delivery, the gateway's verification, queueing and processing,
and the fan-out to every subscriber, all on the same machine's clock. Rounds are
sequential; the row reports p50/p95/p99 of every subscriber's samples.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from benchmarks import procfs
from benchmarks.load import summarise
from benchmarks.processes import Gateway, Simulators, gateway, gateway_config, run_worker
from benchmarks.report import Phase, Row
from meetingmesh.simulators.server import WEBHOOK_SECRETS, register_webhooks

SUBSCRIBERS = 100
ROUNDS = 30
SUBSCRIPTION = "subscription { meetingUpdated { changes meeting { id status } } }"


def measure(sims: Simulators, log_dir: Path, subscribers: int = SUBSCRIBERS) -> Phase:
    """The latency phase (see the module docstring)."""
    config = gateway_config(sims)
    for provider, secret in WEBHOOK_SECRETS.items():
        section = f"[providers.{provider.value}]\n"
        config = config.replace(section, f"{section}webhook_secret = {json.dumps(secret)}\n")
    daily = sims.upstreams["daily"]
    with gateway(log_dir, "gateway-live", config) as gw:
        root = gw.url.removesuffix("/graphql")
        register_webhooks(sims.url, root)
        spec = {
            "url": gw.url,
            "metrics": f"{root}/metrics",
            "join": f"{daily.base_url}/_sim/webhooks/join",
            "subscribers": subscribers,
            "rounds": ROUNDS,
        }
        procfs.reset_peak_rss(gw.process.pid)
        result = run_worker("benchmarks.live", spec, log_dir, timeout=300)
        return Phase(
            "live",
            "LIVE UPDATES: a signed Daily webhook to every meetingUpdated subscriber "
            "(graphql-transport-ws), production settings",
            [_row(gw, result, subscribers)],
        )


def _row(gw: Gateway, result: dict[str, Any], subscribers: int) -> Row:
    samples: list[float] = sorted(result["samples_ms"])
    summary = summarise(samples)
    expected = subscribers * result["rounds"]

    return Row(
        key="webhook_to_subscriber",
        label=f"webhook -> {subscribers} subscribers (meetingUpdated)",
        concurrency=subscribers,
        requests=len(samples),
        errors=expected - len(samples),
        requests_per_s=len(samples) / result["elapsed_s"] if result["elapsed_s"] else 0.0,
        p50_ms=summary["p50_ms"],
        p95_ms=summary["p95_ms"],
        p99_ms=summary["p99_ms"],
        upstream_per_request=None,
        gateway_peak_rss_mb=procfs.peak_rss_mb(gw.process.pid),
        error_sample=result.get("error"),
    )


async def _subscriber(url: str, ready: asyncio.Event, arrivals: asyncio.Queue[float]) -> None:
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
        await ws.send(json.dumps(subscribe))
        ready.set()
        await _listen(ws, arrivals)


async def _listen(ws: ClientConnection, arrivals: asyncio.Queue[float]) -> None:
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message.get("type") == "next":
            arrivals.put_nowait(time.time())


async def _open_subscriptions(http: httpx.AsyncClient, metrics: str) -> int:
    text = (await http.get(metrics)).text
    line = next(x for x in text.splitlines() if x.startswith("meetingmesh_subscriptions "))
    return int(float(line.split()[1]))


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    ws_url = spec["url"].replace("http://", "ws://")
    count = spec["subscribers"]
    queues: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(_subscriber(ws_url, readies[i], queues[i])) for i in range(count)]
    samples: list[float] = []
    error = None
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
        while await _open_subscriptions(http, spec["metrics"]) < count:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        for round_ in range(spec["rounds"]):
            sent = time.time()
            answer = await http.post(spec["join"], json={"room": f"bench-{round_}-{sent}"})
            answer.raise_for_status()
            for arrivals in queues:
                try:
                    first = await asyncio.wait_for(arrivals.get(), 10)
                    samples.append((first - sent) * 1000)
                    await asyncio.wait_for(arrivals.get(), 10)  # the participant's update
                except TimeoutError:
                    error = f"a subscriber missed round {round_}"
        elapsed = time.monotonic() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"samples_ms": samples, "rounds": spec["rounds"], "elapsed_s": elapsed, "error": error}


def main() -> None:
    """``python -m benchmarks.live SPEC RESULT``: the subscribers' side of the phase."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    result = asyncio.run(_drive(spec))
    Path(sys.argv[2]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
