"""The load driver: one HTTP request repeated by a fixed number of concurrent clients.

Run as its own process (``python -m benchmarks.load SPEC.json RESULT.json``) so that its
CPU use is a client's, not the harness's. ``concurrency`` asyncio tasks each own one
keep-alive connection (``benchmarks.http1``); every task sends the request, waits for the
answer and sends it again (a closed loop: the server's speed sets the rate).

Two phases: a warm-up (connections opened, caches filled, nothing recorded), then the
measured phase. Between them every task finishes its request, so the upstream counters
reset at the start of the measured phase see no warm-up request; the measured phase ends
when the last request started before the deadline is answered, so every request counted
is matched by the upstream calls it caused.

With ``wrk`` in the spec the same phases run through wrk instead (``drive_wrk``,
``benchmarks.loadwrk``): this process then only starts wrk, counts and reads ``/proc``.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import orjson

from benchmarks import http1, loadwrk, procfs, simctl


@dataclass(frozen=True)
class LoadSpec:
    """What to send, how hard and for how long (the JSON a worker reads)."""

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    #: A JSON document to send as the body; None sends no body.
    body: Any = None
    #: True when the answer is GraphQL: a 200 carrying ``errors`` is then a failure too.
    graphql: bool = True
    concurrency: int = 1
    warmup_s: float = 1.0
    duration_s: float = 3.0
    #: The simulators' ``/_sim/stats``, to count upstream calls per request (None: skip).
    stats_url: str | None = None
    #: Process groups (by their leader's pid) whose CPU use over the measured phase is
    #: reported, by label: a server that forks workers is measured whole.
    watch_pids: Mapping[str, int] = field(default_factory=dict)
    #: The wrk executable to drive the load with; None: this process's own asyncio client.
    wrk: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoadSpec:
        """The spec from its JSON object (the keys are the field names)."""
        return cls(**data)


@dataclass(frozen=True)
class LoadResult:
    """What the measured phase saw."""

    requests: int
    errors: int
    #: The first failure, for diagnosis ("HTTP 502: ..." or the first GraphQL error).
    error_sample: str | None
    elapsed_s: float
    #: Answered without error, per second: a fast error page must not raise the rate.
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    #: Upstream requests the simulators answered during the phase, or None when not counted.
    upstream_calls: int | None
    #: CPU used over the phase in % of one core: per watched process, by this client
    #: ("client") and by everything else on the machine ("other").
    cpu_percent: dict[str, float | None]


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of already sorted values (0.0 for no values)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class LatencySummary(TypedDict):
    """The percentiles and mean every timed result reports (milliseconds)."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float


def summarise(sorted_values: Sequence[float]) -> LatencySummary:
    """Nearest-rank p50, p95 and p99 and the mean of already sorted values (0.0 for none)."""
    return LatencySummary(
        p50_ms=percentile(sorted_values, 50),
        p95_ms=percentile(sorted_values, 95),
        p99_ms=percentile(sorted_values, 99),
        mean_ms=sum(sorted_values) / len(sorted_values) if sorted_values else 0.0,
    )


def _failure(response: http1.Response, graphql: bool) -> str | None:
    if response.status != 200:
        return f"HTTP {response.status}: {response.body[:300].decode('utf-8', 'replace')}"
    if not graphql:
        return None
    try:
        document = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return f"not JSON: {response.body[:300].decode('utf-8', 'replace')}"
    if document.get("errors"):
        return f"GraphQL error: {json.dumps(document['errors'][0])[:300]}"
    if document.get("data") is None:
        return "GraphQL answer without data"
    return None


@dataclass
class _Recorder:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str | None = None

    def record(self, latency_ms: float, failure: str | None) -> None:
        # Failed requests count as errors only: a fast error page must not improve p50.
        if failure is None:
            self.latencies_ms.append(latency_ms)
            return
        self.errors += 1
        if self.error_sample is None:
            self.error_sample = failure


async def _phase(
    connections: Sequence[http1.Connection], raw: bytes, graphql: bool, seconds: float
) -> _Recorder:
    recorder = _Recorder()
    deadline = time.perf_counter() + seconds

    async def one_client(connection: http1.Connection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await connection.request(raw)
                failure = _failure(response, graphql)
            except http1.HttpError as exc:
                failure = str(exc)
            recorder.record((time.perf_counter() - started) * 1000, failure)

    await asyncio.gather(*(one_client(c) for c in connections))
    return recorder


def _cpu_now(pids: Mapping[str, int]) -> dict[str, float | None]:
    now = {label: procfs.group_cpu_seconds(pid) for label, pid in pids.items()}
    # The client is this process plus the wrk runs it has waited for.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    now["client"] = time.process_time() + children.ru_utime + children.ru_stime
    now["machine"] = procfs.busy_cpu_seconds()
    return now


def _cpu_percent(
    before: Mapping[str, float | None], after: Mapping[str, float | None], elapsed: float
) -> dict[str, float | None]:
    cpu: dict[str, float | None] = {}
    for label, start in before.items():
        end = after[label]
        cpu[label] = None if start is None or end is None else (end - start) / elapsed * 100
    # "other": whatever else ran on the machine meanwhile (tests, builds, other benchmarks).
    machine = cpu.pop("machine")
    if machine is not None:
        ours = sum(v for v in cpu.values() if v is not None)
        cpu["other"] = max(0.0, machine - ours)
    return cpu


async def drive(spec: LoadSpec) -> LoadResult:
    """Run the warm-up and the measured phase of ``spec``; return the measured figures."""
    content = None if spec.body is None else orjson.dumps(spec.body)
    headers = dict(spec.headers)
    if content is not None:
        headers["Content-Type"] = "application/json"
    host, port, raw = http1.build_request(spec.method, spec.url, headers, content)
    # One connection per simulated user, kept alive across its requests.
    connections = [http1.Connection(host, port) for _ in range(spec.concurrency)]
    try:
        if spec.warmup_s > 0:
            await _phase(connections, raw, spec.graphql, spec.warmup_s)
        # Blocking calls are fine here: no request is in flight between the phases.
        with simctl.local_client() as control:
            if spec.stats_url:
                simctl.reset_stats(control, spec.stats_url)
            cpu_before = _cpu_now(spec.watch_pids)
            started = time.perf_counter()
            recorder = await _phase(connections, raw, spec.graphql, spec.duration_s)
            elapsed = time.perf_counter() - started
            cpu_after = _cpu_now(spec.watch_pids)
            calls = simctl.upstream_calls(control, spec.stats_url) if spec.stats_url else None
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    latencies = sorted(recorder.latencies_ms)
    return LoadResult(
        requests=len(latencies) + recorder.errors,
        errors=recorder.errors,
        error_sample=recorder.error_sample,
        elapsed_s=elapsed,
        requests_per_s=len(latencies) / elapsed,
        **summarise(latencies),
        upstream_calls=calls,
        cpu_percent=_cpu_percent(cpu_before, cpu_after, elapsed),
    )


def _run_wrk(argv: list[str], seconds: float) -> loadwrk.WrkFigures:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr[-2000:]}")
    return loadwrk.parse_output(done.stdout)


def drive_wrk(spec: LoadSpec, wrk: str) -> LoadResult:
    """``drive`` with wrk as the client: a warm-up run, then the measured run."""
    with tempfile.TemporaryDirectory(prefix="meetingmesh-wrk-") as folder:
        body_file = None
        if spec.body is not None:
            body_file = Path(folder) / "body.json"
            body_file.write_bytes(orjson.dumps(spec.body))

        def argv(seconds: float) -> list[str]:
            return loadwrk.command(
                wrk,
                spec.url,
                method=spec.method,
                headers=spec.headers,
                body_file=body_file,
                graphql=spec.graphql,
                connections=spec.concurrency,
                seconds=seconds,
            )

        if spec.warmup_s > 0:
            _run_wrk(argv(spec.warmup_s), spec.warmup_s)
        with simctl.local_client() as control:
            if spec.stats_url:
                simctl.reset_stats(control, spec.stats_url)
            cpu_before = _cpu_now(spec.watch_pids)
            started = time.perf_counter()
            figures = _run_wrk(argv(spec.duration_s), spec.duration_s)
            elapsed = time.perf_counter() - started
            cpu_after = _cpu_now(spec.watch_pids)
            calls = simctl.upstream_calls(control, spec.stats_url) if spec.stats_url else None
    answered = figures.requests - figures.failures
    return LoadResult(
        requests=figures.requests,
        errors=figures.failures,
        error_sample=figures.sample,
        elapsed_s=figures.seconds,
        requests_per_s=answered / figures.seconds if figures.seconds else 0.0,
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        p99_ms=figures.p99_ms,
        mean_ms=figures.mean_ms,
        upstream_calls=calls,
        # Divided by wrk's own load time (the servers idle while wrk starts and exits),
        # so CPU per request is the CPU used over the answered requests.
        cpu_percent=_cpu_percent(cpu_before, cpu_after, figures.seconds or elapsed),
    )


def main(argv: Sequence[str]) -> int:
    """Worker entry point: ``python -m benchmarks.load SPEC.json RESULT.json``."""
    spec_path, result_path = argv
    spec = LoadSpec.from_json(json.loads(Path(spec_path).read_text(encoding="utf-8")))
    result = drive_wrk(spec, spec.wrk) if spec.wrk else asyncio.run(drive(spec))
    Path(result_path).write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
