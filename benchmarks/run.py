"""``make bench``: measure the gateway against its simulators and print one report.

Usage: ``.venv/bin/python -m benchmarks.run [--concurrency 50] [--duration 4] ...``

Every server is a separate process on 127.0.0.1 (``meetingmesh simulate`` and
``meetingmesh serve`` with a generated configuration); every client is one too
(``benchmarks.load``, ``benchmarks.baseline``). Phases, in order:

1. production settings (the gateway's defaults, 10 s upstream cache), simulators at
   0 ms: the six canonical queries at ``--concurrency`` clients;
2. the same gateway with every provider at ``--latency-ms`` injected latency, one
   client: the merged 20-meeting page (identical queries, so these are cache hits);
3. a gateway with ``cache_ttl = 0`` for every provider (the cold path), simulators at
   0 ms: the merged-list queries at ``--concurrency`` clients and at one client. It
   also has ``rate_limit = 0``: the default client-side limits are the providers'
   published quotas (Thought Industries 120 a minute, Daily 20 a second), which would
   cap an uncached gateway at a few requests a second, so that phase would time the
   limiter, not the gateway;
4. that cold gateway at ``--latency-ms``, one client: each provider's list call made
   directly, the merged page through the gateway, and the N+1 baseline script;
5. live updates: webhook-to-subscriber latency with 100 subscribers (``benchmarks/live.py``).

Figures are printed and written to ``benchmarks/results/latest.json``; targets are
judged beside them and a miss never fails the run (timings belong to the machine).
The exit status is non-zero only when the harness itself fails (a process does not
start, a query errors while preparing).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from benchmarks import live, processes, procfs, queries, simctl, targets
from benchmarks.baseline import BaselineResult, BaselineSpec, direct_list_calls
from benchmarks.load import LoadResult, LoadSpec
from benchmarks.processes import Gateway, Simulators
from benchmarks.report import Comparison, Phase, Report, Row, format_report, write_json

DEFAULT_OUTPUT = processes.PROJECT_ROOT / "benchmarks" / "results" / "latest.json"
#: The cold path: no upstream cache, and no client-side rate limit (see the docstring).
COLD_SETTINGS = {"cache_ttl": 0, "rate_limit": 0}
#: The providers with meeting lists: the ones the merged page and the baseline touch.
LIST_PROVIDERS = ("heypeers", "thoughtindustries", "daily")


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
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON report (default %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.size * 3 <= queries.DEEP_OFFSET:
        parser.error(f"--size must exceed {queries.DEEP_OFFSET // 3} for the deep page")
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or args.baseline_runs < 1:
        parser.error("--concurrency, --duration and --baseline-runs must be positive")
    return args


@dataclass
class Bench:
    """What every measurement needs: the settings, the log folder and the simulators."""

    args: argparse.Namespace
    log_dir: Path
    sims: Simulators

    def _load(self, spec: LoadSpec) -> LoadResult:
        # Generous bound: a worker that outlives it is stuck, and is killed with its group.
        timeout = spec.warmup_s + spec.duration_s + 60
        data = processes.run_worker("benchmarks.load", asdict(spec), self.log_dir, timeout=timeout)
        return LoadResult(**data)

    def _watch(self, gateway: Gateway | None) -> dict[str, int]:
        pids = {"simulators": self.sims.process.pid}
        if gateway is not None:
            pids["gateway"] = gateway.process.pid
        return pids

    def graphql(self, gateway: Gateway, query: queries.GraphQLQuery, concurrency: int) -> Row:
        """Measure one GraphQL query through ``gateway`` at ``concurrency`` clients."""
        pid = gateway.process.pid
        procfs.reset_peak_rss(pid)
        result = self._load(
            LoadSpec(
                url=gateway.url,
                body=query.body(),
                concurrency=concurrency,
                warmup_s=self.args.warmup,
                duration_s=self.args.duration,
                stats_url=self.sims.stats_url,
                watch_pids=self._watch(gateway),
            )
        )
        return _row(query.key, query.label, concurrency, result, procfs.peak_rss_mb(pid))

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
        row = Row(
            key="baseline_n_plus_1",
            label="N+1 script, sequential",
            concurrency=1,
            requests=result.runs,
            errors=0,
            requests_per_s=1000 / result.mean_ms,
            p50_ms=result.p50_ms,
            p95_ms=result.p95_ms,
            p99_ms=result.p99_ms,
            upstream_per_request=result.upstream_calls_per_run,
            gateway_peak_rss_mb=None,
        )
        return row, result

    def _upstreams(self) -> dict[str, list[str]]:
        return {
            name: [self.sims.upstreams[name].base_url, self.sims.upstreams[name].token]
            for name in LIST_PROVIDERS
        }

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


def _prepare(gw: Gateway) -> Prepared:
    merged = queries.merged_20()
    with simctl.local_client() as client:
        page = queries.execute(client, gw.url, merged.document, merged.variables)
        return Prepared(
            meeting_id=queries.sample_meeting_id(client, gw.url),
            cursor=queries.deep_cursor(client, gw.url),
            merged_page=_page_keys(page),
        )


def _production(bench: Bench, gw: Gateway, prepared: Prepared) -> list[Phase]:
    args = bench.args
    canonical = queries.canonical(prepared.meeting_id, prepared.cursor)
    rows = [bench.graphql(gw, q, args.concurrency) for q in canonical]
    with bench.latency():
        cached = bench.graphql(gw, queries.merged_20(), 1)
    return [
        Phase(
            "production", "PRODUCTION SETTINGS (defaults: cache_ttl 10 s), simulators at 0 ms", rows
        ),
        Phase(
            "production_latency",
            f"PRODUCTION SETTINGS, every provider at {args.latency_ms:g} ms injected latency "
            "(repeated identical query: answered from the cache)",
            [cached],
        ),
    ]


def _cold(bench: Bench, gw: Gateway, prepared: Prepared) -> tuple[list[Phase], BaselineResult]:
    args = bench.args
    merged = queries.merged_20()
    lists = [
        q
        for q in queries.canonical(prepared.meeting_id, prepared.cursor)
        if q.key in ("merged_20", "merged_100", "deep_page")
    ]
    rows = [bench.graphql(gw, q, args.concurrency) for q in lists]
    # One client: every request pays its own upstream calls. With many clients, identical
    # queries in flight together share upstream requests (the client's coalescing).
    rows.append(bench.graphql(gw, merged, 1))
    cold = Phase(
        "cold",
        "COLD PATH (cache_ttl = 0 and rate_limit = 0 for every provider), simulators at 0 ms; at "
        f"{args.concurrency} clients identical concurrent queries still share upstream calls",
        rows,
    )
    with bench.latency():
        rows = bench.direct_calls()
        rows.append(bench.graphql(gw, merged, 1))
        baseline_row, baseline = bench.baseline(prepared.merged_page)
        rows.append(baseline_row)
    cold_latency = Phase(
        "cold_latency",
        f"COLD PATH (same gateway), every provider at {args.latency_ms:g} ms injected latency",
        rows,
    )
    return [cold, cold_latency], baseline


def measure(args: argparse.Namespace, report: Report, log_dir: Path) -> None:
    """Run every phase, appending phases, comparisons, targets and notes to ``report``."""
    with processes.simulators(log_dir, size=args.size, seed=args.seed) as sims:
        bench = Bench(args, log_dir, sims)
        config = processes.gateway_config(sims)
        with processes.gateway(log_dir, "gateway-production", config) as gw:
            prepared = _prepare(gw)
            report.phases += _production(bench, gw, prepared)
        # A fresh process, so its RSS and upstream client owe nothing to the first one.
        config = processes.gateway_config(sims, COLD_SETTINGS)
        with processes.gateway(log_dir, "gateway-cold", config) as gw:
            phases, baseline = _cold(bench, gw, prepared)
            report.phases += phases
        report.phases.append(live.measure(sims, log_dir))
    if not baseline.matches_gateway:
        report.notes.append(
            "the N+1 script's page differs from the gateway's (same providers and starts "
            "expected): compare its figures with care"
        )
    _judge(report, args)
    _note_contention(report)


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


def _judge(report: Report, args: argparse.Namespace) -> None:
    conc = args.concurrency
    production = report.phase("production")
    cold = report.phase("cold")
    cold_latency = report.phase("cold_latency")
    lat = f"{args.latency_ms:g} ms"
    directs = [r for r in cold_latency.rows if r.key.startswith("direct_")]
    slowest = max(directs, key=lambda r: r.p50_ms)
    gateway_cold = cold_latency.row("merged_20", 1)
    gateway_cached = report.phase("production_latency").row("merged_20", 1)
    baseline = cold_latency.row("baseline_n_plus_1", 1)
    merged_production = production.row("merged_20", conc)
    merged_cold = cold.row("merged_20", conc)
    report.comparisons += [
        Comparison(
            "overhead_cold",
            f"gateway overhead at {lat}, cache off: merged(20) p50 / slowest direct list p50",
            gateway_cold.p50_ms / slowest.p50_ms,
            f"{gateway_cold.p50_ms:.1f} ms vs {slowest.p50_ms:.1f} ms, {slowest.label}",
        ),
        Comparison(
            "overhead_cached",
            "same with production settings (cache hits): merged(20) p50 / slowest direct p50",
            gateway_cached.p50_ms / slowest.p50_ms,
            f"{gateway_cached.p50_ms:.1f} ms vs {slowest.p50_ms:.1f} ms",
        ),
        Comparison(
            "n_plus_1",
            f"N+1 baseline p50 / gateway merged(20) p50 at {lat}, cache off",
            baseline.p50_ms / gateway_cold.p50_ms,
            f"{baseline.p50_ms:.1f} ms with {baseline.upstream_per_request or 0:.0f} sequential "
            f"calls vs {gateway_cold.p50_ms:.1f} ms with "
            f"{gateway_cold.upstream_per_request or 0:.1f} concurrent calls",
        ),
        Comparison(
            "cache_cpu",
            "gateway CPU per merged(20) request, cache off / production settings "
            "(what the cache saves the gateway)",
            (merged_cold.gateway_cpu_ms or 0) / (merged_production.gateway_cpu_ms or 1),
            f"{merged_cold.gateway_cpu_ms or 0:.1f} vs {merged_production.gateway_cpu_ms or 0:.1f}"
            f" ms; {merged_cold.requests_per_s:.0f} vs {merged_production.requests_per_s:.0f} "
            f"req/s at {conc} clients",
        ),
    ]
    report.targets += [
        targets.overhead(gateway_cold.p50_ms, slowest.p50_ms, gateway_cached.p50_ms),
        targets.throughput(
            production.row("meeting_by_id", conc), targets.MEETING_BY_ID_RPS, "meeting(id)"
        ),
        targets.throughput(merged_production, targets.MERGED_20_RPS, "merged meetings(first:20)"),
        targets.throughput(
            merged_cold, targets.MERGED_20_RPS, "merged meetings(first:20), cache off"
        ),
        targets.memory(report.phases, conc),
    ]


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
    }
    report = Report(machine=procfs.machine(), settings=settings)
    log_dir = Path(tempfile.mkdtemp(prefix="meetingmesh-bench-"))
    print("benchmarking: about 2 minutes...", flush=True)
    try:
        measure(args, report, log_dir)
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
