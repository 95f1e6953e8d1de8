"""``make bench``: measure the gateway against its simulators and a peer, print one report.

Usage: ``.venv/bin/python -m benchmarks.run [--concurrency 50] [--duration 4] ...``

Every server is a separate process on 127.0.0.1 (``meetingmesh simulate``, ``meetingmesh
serve`` with a generated configuration, Hive Gateway under Node.js); every client is one
too (``benchmarks.load`` driving ``wrk`` when it is there, else its own asyncio client;
``benchmarks.baseline``). Two gateways run side by side over one set of simulators: one
with the production settings (the upstream cache on, 10 s) and one with ``cache_ttl = 0``
and ``rate_limit = 0`` for every provider (the cache off: every request pays its upstream
calls; without the rate limit, since the published quotas, Thought Industries 120 a
minute and Daily 20 a second, would otherwise cap that gateway at a few requests a
second and the row would time the limiter). Phases, in order:

1. cache on, simulators at 0 ms: the canonical queries at ``--concurrency`` clients;
2. cache off, the same for the lookups and the merged lists (at ``--concurrency``
   clients identical queries in flight together still share upstream calls: the
   client's coalescing), and the merged page at one client;
3. the peer (issue 15): 20 Daily sessions with their participants through meetingmesh
   (cache on, cache off) and through GraphQL Hive Gateway serving a Mesh-composed
   OpenAPI description of Daily (``benchmarks.peer``), which calls the simulator on
   every request. Without Node.js the phase is absent and the report says why;
4. every provider at ``--latency-ms``, one client: each provider's own list call, the
   three of them asked at once by one client (``benchmarks.together``: what three
   calls at once cost over one), the merged page through both gateways, and the
   N+1 baseline script;
5. ``[server] workers`` (issue 15) when the gateway accepts that setting: the merged
   page and ``meeting(id)`` at ``--workers`` workers; otherwise a "not available" line;
6. cost growth: for each ``--growth-sizes`` a fresh simulator and gateway, then the
   merged page from a start time cold, the same again, and the next day's.
7. live updates: webhook-to-subscriber latency with 100 subscribers (``benchmarks/live.py``);
8. multi-process: 1,000 requests round robin over three gateway processes, each with its
   own cache and then sharing one Redis: upstream calls per 1,000 requests
   (``benchmarks/multiprocess.py``; absent without ``redis-server``).

Figures are printed and written to ``benchmarks/results/latest.json``; issue 15's targets
are judged beside them (each with the cache on and off) and a miss never fails the run
(timings belong to the machine). The exit status is non-zero only when the harness
itself fails (a process does not start, a query errors while preparing).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import httpx

from benchmarks import (
    growth,
    live,
    loadwrk,
    multiprocess,
    peer,
    processes,
    procfs,
    queries,
    simctl,
    targets,
)
from benchmarks.baseline import BaselineResult, BaselineSpec, direct_list_calls
from benchmarks.load import LoadResult, LoadSpec
from benchmarks.processes import Gateway, ManagedProcess, Simulators
from benchmarks.report import (
    Comparison,
    Phase,
    Report,
    Row,
    Timing,
    format_report,
    write_json,
)
from benchmarks.together import TogetherResult, TogetherSpec

DEFAULT_OUTPUT = processes.PROJECT_ROOT / "benchmarks" / "results" / "latest.json"
#: The cache off: no upstream cache, and no client-side rate limit (see the docstring).
COLD_SETTINGS = {"cache_ttl": 0, "rate_limit": 0}
#: The providers with meeting lists: the ones the merged page and the baseline touch.
LIST_PROVIDERS = ("heypeers", "thoughtindustries", "daily")
#: Hive Gateway runs on V8: its JIT needs a longer warm-up than CPython.
PEER_MIN_WARMUP_S = 3.0


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; the defaults are what ``make bench`` runs."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--size",
        type=int,
        default=500,
        help="meetings per provider (default 500: 1,500 merged, enough for the deep page)",
    )
    parser.add_argument("--seed", type=int, default=0, help="simulator data seed (default 0)")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="clients for throughput rows (default 50)"
    )
    parser.add_argument(
        "--duration", type=float, default=4.0, help="measured seconds per row (default 4)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds before each row (default 1)"
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        help="injected upstream latency for the comparisons (default 50)",
    )
    parser.add_argument(
        "--baseline-runs", type=int, default=5, help="timed runs of the N+1 script (default 5)"
    )
    parser.add_argument(
        "--growth-sizes",
        type=_sizes,
        default=[1_000, 10_000, 100_000],
        help="meetings per provider for the cost-growth phase, comma-separated "
        "(default 1000,10000,100000; empty skips the phase)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gateway workers for the workers row, when [server] workers exists (default 2)",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the Hive Gateway phase")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (installed with apt when missing and root), the Python "
        "client, or auto: wrk when it can be had (default)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON report (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.size * 3 <= queries.DEEP_OFFSET:
        parser.error(f"--size must exceed {queries.DEEP_OFFSET // 3} for the deep page")
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or args.baseline_runs < 1:
        parser.error("--concurrency, --duration and --baseline-runs must be positive")
    if any(not 12 <= size <= 100_000 for size in args.growth_sizes) or args.workers < 1:
        parser.error("--growth-sizes must be within 12..100000 and --workers positive")
    return args


class Server(Protocol):
    """A running GraphQL server the harness measures (meetingmesh or the peer)."""

    @property
    def process(self) -> ManagedProcess:
        """The server's process (the leader of its process group)."""

    @property
    def url(self) -> str:
        """Its GraphQL endpoint."""


@dataclass
class Bench:
    """What every measurement needs: the settings, the log folder, the simulators, wrk."""

    args: argparse.Namespace
    log_dir: Path
    sims: Simulators
    wrk: str | None
    #: Rows measured through each gateway, by its name: its RSS target reads them.
    rows_by_gateway: dict[str, list[Row]] = field(default_factory=dict)

    def _load(self, spec: LoadSpec) -> LoadResult:
        # Generous bound: a worker that outlives it is stuck, and is killed with its group.
        timeout = spec.warmup_s + spec.duration_s + 120
        data = processes.run_worker("benchmarks.load", asdict(spec), self.log_dir, timeout=timeout)
        return LoadResult(**data)

    def _watch(self, server: Server | None) -> dict[str, int]:
        pids = {"simulators": self.sims.process.pid}
        if server is not None:
            pids["gateway"] = server.process.pid
        return pids

    def graphql(
        self,
        server: Server,
        name: str,
        query: queries.GraphQLQuery,
        concurrency: int,
        warmup: float | None = None,
    ) -> Row:
        """Measure one GraphQL query through ``server`` (called ``name``) at ``concurrency``."""
        pid = server.process.pid
        procfs.reset_group_peak_rss(pid)
        result = self._load(
            LoadSpec(
                url=server.url,
                body=query.body(),
                concurrency=concurrency,
                warmup_s=self.args.warmup if warmup is None else warmup,
                duration_s=self.args.duration,
                stats_url=self.sims.stats_url,
                watch_pids=self._watch(server),
                wrk=self.wrk,
            )
        )
        row = _row(query.key, query.label, concurrency, result, procfs.group_peak_rss_mb(pid))
        self.rows_by_gateway.setdefault(name, []).append(row)
        return row

    def direct(self, key: str, label: str, url: str, headers: Mapping[str, str]) -> Row:
        """Measure one provider call made straight to the simulators by one client."""
        result = self._load(
            LoadSpec(
                url=url,
                method="GET",
                headers=headers,
                graphql=False,
                concurrency=1,
                warmup_s=self.args.warmup,
                duration_s=self.args.duration,
                stats_url=self.sims.stats_url,
                watch_pids=self._watch(None),
                wrk=self.wrk,
            )
        )
        return _row(key, label, 1, result, None)

    def baseline(self, expected: list[list[Any]]) -> tuple[Row, BaselineResult]:
        """Time the N+1 script; its row, and its raw result for the comparison."""
        spec = BaselineSpec(
            upstreams=self._upstreams(),
            heypeers_organization_id=processes.HEYPEERS_ORGANIZATION_ID,
            stats_url=self.sims.stats_url,
            iterations=self.args.baseline_runs,
            expected=expected,
        )
        # Each run is about 20 sequential calls (~1 s at 50 ms): bound it generously.
        timeout = 60 + (self.args.baseline_runs + 1) * (2 + self.args.latency_ms / 10)
        data = processes.run_worker(
            "benchmarks.baseline", asdict(spec), self.log_dir, timeout=timeout
        )
        result = BaselineResult(**data)
        row = _timed_row(
            "baseline_n_plus_1", "N+1 script, sequential", result, result.upstream_calls_per_run
        )
        return row, result

    def _upstreams(self) -> dict[str, list[str]]:
        return {
            name: [self.sims.upstreams[name].base_url, self.sims.upstreams[name].token]
            for name in LIST_PROVIDERS
        }

    def together(self) -> Row:
        """The three list providers' first pages asked at once (``benchmarks.together``)."""
        spec = TogetherSpec(self._upstreams(), processes.HEYPEERS_ORGANIZATION_ID)
        timeout = 60 + spec.rounds * (1 + self.args.latency_ms / 100)
        result = TogetherResult(
            **processes.run_worker(
                "benchmarks.together", asdict(spec), self.log_dir, timeout=timeout
            )
        )
        return _timed_row(
            "together_direct", "the three direct calls at once", result, len(LIST_PROVIDERS)
        )

    def direct_calls(self) -> list[Row]:
        """Each list provider's first page, called directly (the overhead denominator)."""
        calls = direct_list_calls(self._upstreams(), processes.HEYPEERS_ORGANIZATION_ID)
        return [self.direct(f"direct_{c.provider}", c.label, c.url, c.headers) for c in calls]

    @contextlib.contextmanager
    def latency(self) -> Iterator[None]:
        """Inject ``--latency-ms`` into all four providers for the ``with`` block."""
        base_urls = [u.base_url for u in self.sims.upstreams.values()]
        with simctl.local_client() as client:
            simctl.set_latency(client, base_urls, self.args.latency_ms)
            try:
                yield
            finally:
                # After an interrupt the simulators may be gone already; they are stopped
                # next anyway, and a failure here must not hide the original error.
                with contextlib.suppress(httpx.HTTPError):
                    simctl.set_latency(client, base_urls, 0)


class Timed(Protocol):
    """What a worker that times runs one after another reports (N+1, the calls at once)."""

    @property
    def runs(self) -> int: ...
    @property
    def mean_ms(self) -> float: ...
    @property
    def p50_ms(self) -> float: ...
    @property
    def p95_ms(self) -> float: ...
    @property
    def p99_ms(self) -> float: ...


def _timed_row(key: str, label: str, timed: Timed, upstream_per_run: float) -> Row:
    """The row of one client's sequential runs, timed by a worker."""
    return Row(
        key=key,
        label=label,
        concurrency=1,
        requests=timed.runs,
        errors=0,
        requests_per_s=1000 / timed.mean_ms,
        p50_ms=timed.p50_ms,
        p95_ms=timed.p95_ms,
        p99_ms=timed.p99_ms,
        upstream_per_request=upstream_per_run,
        gateway_peak_rss_mb=None,
    )


def _row(key: str, label: str, concurrency: int, result: LoadResult, rss: float | None) -> Row:
    answered = result.requests - result.errors
    return Row(
        key=key,
        label=label,
        concurrency=concurrency,
        requests=result.requests,
        errors=result.errors,
        requests_per_s=result.requests_per_s,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        p99_ms=result.p99_ms,
        upstream_per_request=(
            result.upstream_calls / answered
            if result.upstream_calls is not None and answered
            else None
        ),
        gateway_peak_rss_mb=rss,
        cpu_percent=result.cpu_percent,
        error_sample=result.error_sample,
    )


def _page_keys(data: dict[str, Any]) -> list[list[Any]]:
    """[provider, unix start] of each meeting on a merged page, for the baseline's check."""
    return [
        [edge["node"]["provider"], datetime.fromisoformat(edge["node"]["startTime"]).timestamp()]
        for edge in data["meetings"]["edges"]
    ]


@dataclass(frozen=True)
class Prepared:
    """Real arguments for the canonical queries, read once from the production gateway."""

    meeting_id: str
    cursor: str
    #: The merged 20-meeting page as [provider, unix start] pairs, for the baseline's check.
    merged_page: list[list[Any]]
    #: Participants on meetingmesh's 20-session Daily page (the peer must return as many).
    daily_participants: int


def _prepare(gw: Gateway) -> Prepared:
    merged = queries.merged_20()
    daily = queries.daily_sessions()
    with simctl.local_client() as client:
        page = queries.execute(client, gw.url, merged.document, merged.variables)
        sessions = queries.execute(client, gw.url, daily.document, daily.variables)
        return Prepared(
            meeting_id=queries.sample_meeting_id(client, gw.url),
            cursor=queries.deep_cursor(client, gw.url),
            merged_page=_page_keys(page),
            daily_participants=sum(
                edge["node"]["attendees"]["totalCount"] or 0
                for edge in sessions["meetings"]["edges"]
            ),
        )


def _cached(query: queries.GraphQLQuery, cache: str) -> queries.GraphQLQuery:
    """``query`` as a row of one gateway where both are in one table ("on" or "off")."""
    return dataclasses.replace(
        query, key=f"{query.key}_cache_{cache}", label=f"{query.label}, cache {cache}"
    )


@dataclass
class Timer:
    """Records how long each part of the run took, for the report's last lines."""

    report: Report

    @contextlib.contextmanager
    def __call__(self, label: str) -> Iterator[None]:
        """Time the ``with`` block as ``label``; printed as it ends, so progress shows."""
        started = time.monotonic()
        print(f"  {label}...", flush=True)
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            self.report.timings.append(Timing(label, seconds))


def _cache_on(bench: Bench, gw: Gateway, prepared: Prepared) -> Phase:
    conc = bench.args.concurrency
    rows = [
        bench.graphql(gw, "cache on", q, conc)
        for q in queries.canonical(prepared.meeting_id, prepared.cursor)
    ]
    return Phase(
        "cache_on", "CACHE ON (production settings: cache_ttl 10 s), simulators at 0 ms", rows
    )


def _cache_off(bench: Bench, gw: Gateway, prepared: Prepared) -> Phase:
    conc = bench.args.concurrency
    wanted = ("meeting_by_id", "merged_20", "merged_100", "deep_page")
    rows = [
        bench.graphql(gw, "cache off", q, conc)
        for q in queries.canonical(prepared.meeting_id, prepared.cursor)
        if q.key in wanted
    ]
    # One client: every request pays its own upstream calls. With many clients, identical
    # queries in flight together share upstream requests (the client's coalescing).
    rows.append(bench.graphql(gw, "cache off", queries.merged_20(), 1))
    return Phase(
        "cache_off",
        "CACHE OFF (cache_ttl = 0 and rate_limit = 0 for every provider), simulators at 0 ms; "
        f"at {conc} clients identical concurrent queries still share upstream calls",
        rows,
    )


def _peer(
    bench: Bench, on: Gateway, off: Gateway, prepared: Prepared, report: Report
) -> Phase | None:
    """meetingmesh and Hive Gateway on the same 20 Daily sessions, back to back."""
    conc = bench.args.concurrency
    supergraph = bench.log_dir / "supergraph.graphql"
    try:
        report.notes.append(peer.ensure_installed())
        peer.compose(bench.sims, supergraph)
        hive_gateway = peer.hive_gateway(bench.log_dir, supergraph)
    except peer.PeerUnavailable as exc:
        report.notes.append(f"peer phase absent: {exc}")
        return None
    daily = queries.daily_sessions()
    with hive_gateway as hive:
        hive_query = queries.GraphQLQuery(
            "hive_daily", "Hive Gateway: listMeetings(20)", peer.HIVE_DAILY_QUERY
        )
        with simctl.local_client() as client:
            data = queries.execute(client, hive.url, hive_query.document, {})
        sessions = data["listMeetings"]["data"]
        theirs = sum(len(s.get("participants") or []) for s in sessions)
        if len(sessions) != 20 or theirs != prepared.daily_participants:
            report.notes.append(
                f"the peer's page differs: {len(sessions)} sessions and {theirs} participants, "
                f"meetingmesh {prepared.daily_participants} participants"
            )
        warmup = max(bench.args.warmup, PEER_MIN_WARMUP_S)
        rows = [
            bench.graphql(on, "cache on", _cached(daily, "on"), conc),
            bench.graphql(off, "cache off", _cached(daily, "off"), conc),
            bench.graphql(hive, "hive", hive_query, conc, warmup=warmup),
        ]
    versions = ", ".join(f"{k} {v}" for k, v in peer.pinned_versions().items())
    return Phase(
        "peer",
        f"PEER: 20 Daily sessions with their {prepared.daily_participants} participants "
        f"(one upstream call each; the peer has no upstream cache); {versions}",
        rows,
    )


def _latency(
    bench: Bench, on: Gateway, off: Gateway, prepared: Prepared
) -> tuple[Phase, BaselineResult]:
    merged = queries.merged_20()
    with bench.latency():
        rows = bench.direct_calls()
        rows.append(bench.together())
        rows.append(bench.graphql(off, "cache off", _cached(merged, "off"), 1))
        rows.append(bench.graphql(on, "cache on", _cached(merged, "on"), 1))
        baseline_row, baseline = bench.baseline(prepared.merged_page)
        rows.append(baseline_row)
    phase = Phase(
        "latency",
        f"EVERY PROVIDER AT {bench.args.latency_ms:g} ms injected latency, one client "
        "(cache on: answered from the cache after the first request)",
        rows,
    )
    return phase, baseline


def _workers(bench: Bench, report: Report) -> Phase | None:
    """The gateway at ``--workers`` workers, when ``[server] workers`` exists."""
    workers = bench.args.workers
    refusal = processes.server_setting_refusal(bench.log_dir, "workers", workers)
    if refusal is not None:
        report.notes.append(
            f"workers row not available: the gateway refuses [server] workers = {workers} "
            f"({refusal})"
        )
        return None
    config = processes.gateway_config(bench.sims, server={"workers": workers})
    conc = bench.args.concurrency
    with processes.gateway(bench.log_dir, "gateway-workers", config) as gw:
        prepared = _prepare(gw)
        rows = [
            bench.graphql(gw, "workers", q, conc)
            for q in queries.canonical(prepared.meeting_id, prepared.cursor)
            if q.key in ("meeting_by_id", "merged_20")
        ]
    return Phase(
        "workers",
        f"CACHE ON, {workers} WORKERS ([server] workers = {workers}), simulators at 0 ms",
        rows,
    )


def measure(args: argparse.Namespace, report: Report, log_dir: Path, timer: Timer) -> None:
    """Run every phase, appending phases, comparisons, targets and notes to ``report``."""
    wrk = None
    if args.client != "python":
        found = loadwrk.find_wrk(install=True)
        wrk = found.path
        report.notes.append(found.note)
        if wrk is None and args.client == "wrk":
            raise processes.ProcessError(found.note)
    else:
        report.notes.append("load generator: the Python client (--client python)")
    if wrk is not None:
        report.notes.append(
            "wrk's percentiles include failed requests, and upstream calls of the requests "
            "still in flight at its deadline are counted in their row"
        )
    peer_phase: Phase | None = None
    with contextlib.ExitStack() as stack:
        with timer(f"simulators at --size {args.size}"):
            sims = stack.enter_context(
                processes.simulators(log_dir, size=args.size, seed=args.seed)
            )
            bench = Bench(args, log_dir, sims, wrk)
            on = stack.enter_context(
                processes.gateway(log_dir, "gateway-cache-on", processes.gateway_config(sims))
            )
            off = stack.enter_context(
                processes.gateway(
                    log_dir, "gateway-cache-off", processes.gateway_config(sims, COLD_SETTINGS)
                )
            )
            prepared = _prepare(on)
        with timer("cache on"):
            report.phases.append(_cache_on(bench, on, prepared))
        with timer("cache off"):
            report.phases.append(_cache_off(bench, off, prepared))
        if args.no_peer:
            report.notes.append("peer phase absent: --no-peer")
        else:
            with timer("peer (Hive Gateway)"):
                peer_phase = _peer(bench, on, off, prepared, report)
            if peer_phase is not None:
                report.phases.append(peer_phase)
        with timer(f"{args.latency_ms:g} ms latency"):
            latency, baseline = _latency(bench, on, off, prepared)
            report.phases.append(latency)
        with timer("workers"):
            workers = _workers(bench, report)
            if workers is not None:
                report.phases.append(workers)
        with timer("live updates"):
            report.phases.append(live.measure(sims, log_dir))
        with timer("multi-process"):
            _multiprocess(sims, log_dir, report)
    for size in args.growth_sizes:
        with timer(f"cost growth at {size:,}"):
            report.growth += growth.measure(size, args.seed, log_dir, report.growth_setup)
    if not baseline.matches_gateway:
        report.notes.append(
            "the N+1 script's page differs from the gateway's (same providers and starts "
            "expected): compare its figures with care"
        )
    targets.compare(report, args.concurrency, peer_phase)
    report.targets += targets.judge(
        report, args.concurrency, bench.rows_by_gateway, peer_phase, args.growth_sizes
    )
    _note_contention(report)


def _multiprocess(sims: Simulators, log_dir: Path, report: Report) -> None:
    """Three processes with and without shared Redis, and their calls per 1,000 requests."""
    try:
        phase = multiprocess.measure(sims, log_dir)
    except multiprocess.Absent as exc:
        report.notes.append(f"multi-process phase absent: {exc}")
        return
    report.phases.append(phase)
    local = multiprocess.calls_per_thousand(phase, "multiprocess_local")
    shared = multiprocess.calls_per_thousand(phase, "multiprocess_shared")
    if local and shared:
        report.comparisons.append(
            Comparison(
                "multiprocess_calls",
                "upstream calls per 1,000 requests on 3 processes, own caches over shared Redis",
                local / shared,
                f"{local:.0f} vs {shared:.0f}",
            )
        )


def _note_contention(report: Report) -> None:
    """Say so when other processes were busy: the figures are then lower than they should be."""
    others = [
        row.cpu_percent["other"]
        for phase in report.phases
        for row in phase.rows
        if row.cpu_percent.get("other") is not None
    ]
    average = sum(o for o in others if o is not None) / len(others) if others else 0.0
    if average >= 20:
        cpus = report.machine["cpus"]
        report.notes.append(
            f"other processes used {average:.0f}% of one core on average while rows were "
            f"measured (of {cpus} CPUs): rerun on a quiet machine for figures to compare"
        )


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the ``finally`` blocks stop every child on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the report and write the JSON file."""
    args = parse_args(argv)
    # Both explicitly: a shell starting the harness in the background ignores SIGINT, and
    # Python then never raises KeyboardInterrupt; SIGTERM (timeout, CI) must clean up too.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    settings = {
        "size": args.size,
        "seed": args.seed,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "latency_ms": args.latency_ms,
        "baseline_runs": args.baseline_runs,
        "growth_sizes": args.growth_sizes,
        "workers": args.workers,
        "client": args.client,
    }
    report = Report(machine=procfs.machine(), settings=settings)
    log_dir = Path(tempfile.mkdtemp(prefix="meetingmesh-bench-"))
    print("benchmarking: about 5 minutes (more on the first run: npm ci)...", flush=True)
    try:
        measure(args, report, log_dir, Timer(report))
    except Interrupted as exc:
        print(f"{exc}: every process stopped; logs in {log_dir}", file=sys.stderr)
        return 128 + exc.signum
    except (processes.ProcessError, queries.QueryFailed, httpx.HTTPError) as exc:
        print(f"benchmark failed: {exc}\nlogs in {log_dir}", file=sys.stderr)
        return 1
    # Logs are kept only when something went wrong: then they are the diagnosis.
    shutil.rmtree(log_dir, ignore_errors=True)
    report.runtime_s = time.monotonic() - started
    print(format_report(report))
    write_json(report, args.output)
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
