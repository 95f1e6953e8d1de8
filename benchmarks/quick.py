"""Gateway CPU per request of the headline queries, in a minute: for measuring one change.

Usage: ``.venv/bin/python -m benchmarks.quick [--cache-off] [--duration 4] [--query merged_20]``

Starts the simulators (``--size 500``) and one gateway (production settings, or the cache
off), then drives each query with ``--concurrency`` clients (wrk when present) and prints
requests per second and the gateway's CPU per request read from ``/proc``, the figure
that stays comparable on a busy machine. ``make bench`` is the full report; this is the
before/after of a single cut.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks import loadwrk, processes, queries, simctl
from benchmarks.load import LoadResult, LoadSpec


def _queries(meeting_id: str) -> dict[str, queries.GraphQLQuery]:
    return {
        "merged_20": queries.merged_20(),
        "daily_sessions": queries.daily_sessions(),
        "meeting_by_id": queries.GraphQLQuery(
            "meeting_by_id", "meeting(id)", queries.MEETING_BY_ID, {"id": meeting_id}
        ),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quick", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per query")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=20, help="clients (default 20)")
    parser.add_argument("--size", type=int, default=500, help="meetings per provider")
    parser.add_argument("--repeat", type=int, default=1, help="rows per query (default 1)")
    parser.add_argument("--cache-off", action="store_true", help="cache_ttl = 0 and rate_limit = 0")
    parser.add_argument(
        "--query",
        action="append",
        choices=("merged_20", "daily_sessions", "meeting_by_id"),
        help="measure only this query (repeatable; default: all)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print one line per query and repetition."""
    args = parse_args(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="meetingmesh-quick-"))
    wrk = loadwrk.find_wrk(install=False).path
    overrides = {"cache_ttl": 0, "rate_limit": 0} if args.cache_off else None
    with processes.simulators(log_dir, size=args.size) as sims:
        config = processes.gateway_config(sims, overrides)
        with processes.gateway(log_dir, "gateway-quick", config) as gw:
            with simctl.local_client() as client:
                meeting_id = queries.sample_meeting_id(client, gw.url)
            chosen = _queries(meeting_id)
            for name in args.query or list(chosen):
                for _ in range(args.repeat):
                    spec = LoadSpec(
                        url=gw.url,
                        body=chosen[name].body(),
                        concurrency=args.concurrency,
                        warmup_s=args.warmup,
                        duration_s=args.duration,
                        watch_pids={"gateway": gw.process.pid},
                        wrk=wrk,
                    )
                    data = processes.run_worker(
                        "benchmarks.load", asdict(spec), log_dir, timeout=args.duration + 120
                    )
                    result = LoadResult(**data)
                    cpu = result.cpu_percent.get("gateway")
                    per_request = (
                        cpu * 10 / result.requests_per_s if cpu and result.requests_per_s else 0
                    )
                    print(
                        f"{name:15} {result.requests_per_s:7.0f} req/s  "
                        f"{per_request:5.2f} ms CPU/req  p50 {result.p50_ms:6.1f} ms  "
                        f"errors {result.errors}  other {result.cpu_percent.get('other')}",
                        flush=True,
                    )
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
