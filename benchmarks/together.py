"""The three list providers' first pages asked together, as the gateway asks them.

The latency target compares the gateway's merged page with the slowest provider's own
call, measured alone. Asked at the same instant, three calls take longer than the
slowest alone: the client sends and reads them one after another, and the simulators
(one process) render them in turn. This worker times that part: the same three
requests (``baseline.direct_list_calls``) sent at once from one client, until the last
answer is read, so the report can tell the gateway's own work from the cost of three
calls at once. (One simulator process per provider measured within this machine's
noise of one process for all: 1-2 ms faster in two paired runs of three, slower in one.)
Run as ``python -m benchmarks.together SPEC.json RESULT.json``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from benchmarks.baseline import DirectCall, direct_list_calls
from benchmarks.load import summarise


@dataclass(frozen=True)
class TogetherSpec:
    """Where the providers are, and how many timed rounds of the three calls."""

    #: Provider name -> [base_url, token], as ``meetingmesh simulate`` printed them.
    upstreams: Mapping[str, Sequence[str]]
    heypeers_organization_id: int
    rounds: int = 40


@dataclass(frozen=True)
class TogetherResult:
    """Milliseconds from sending the three requests to reading the last answer."""

    runs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float


async def _round(client: httpx.AsyncClient, calls: Sequence[DirectCall]) -> float:
    started = time.perf_counter()
    answers = await asyncio.gather(*(client.get(c.url, headers=c.headers) for c in calls))
    for answer in answers:
        answer.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def measure(spec: TogetherSpec) -> TogetherResult:
    """Two untimed rounds (connections for all three), then ``rounds`` timed ones."""
    calls = direct_list_calls(spec.upstreams, spec.heypeers_organization_id)
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        for _ in range(2):
            await _round(client, calls)
        timings = sorted([await _round(client, calls) for _ in range(spec.rounds)])
    return TogetherResult(
        runs=len(timings),
        **summarise(timings),
    )


def main(argv: Sequence[str]) -> int:
    """Worker entry point: ``python -m benchmarks.together SPEC.json RESULT.json``."""
    spec_path, result_path = argv
    spec = TogetherSpec(**json.loads(Path(spec_path).read_text(encoding="utf-8")))
    result = asyncio.run(measure(spec))
    Path(result_path).write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
