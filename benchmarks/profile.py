"""``make profile``: where the gateway's CPU goes, as py-spy flame graphs under load.

Usage: ``.venv/bin/python -m benchmarks.profile [--duration 10] [--concurrency 20]``

Starts the simulators (``--size 500``) and one gateway with the production settings
(upstream cache on; ``--cache-off``: ``cache_ttl = 0`` and ``rate_limit = 0``, files
named ``<query>-cache-off.*``), then for each profiled query drives it with the load
client (wrk when present) and attaches py-spy (PyPI ``py-spy``, the ``bench`` extra) to
the gateway twice in a row: once for a flame graph (``<query>.svg``), once for the
collapsed stacks (``<query>.collapsed.txt.gz``: py-spy's ``raw`` format, gzipped because
async stacks are deep; speedscope and ``benchmarks.flame`` read it once unzipped).
``<query>.summary.txt`` is ``benchmarks.flame``'s reading of the stacks, with the gateway
CPU per request measured while they were sampled (py-spy pauses the process to sample,
so that figure is a little above ``make bench``'s). Samples are aggregated by function
(``--function``), not by line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks import flame, loadwrk, processes, queries, simctl
from benchmarks.load import LoadResult, LoadSpec

DEFAULT_OUTPUT = processes.PROJECT_ROOT / "benchmarks" / "profiles"
#: The profiled queries: the merged page (issue 15's headline) and the peer's Daily query.
PROFILED = {
    "merged_20": queries.merged_20(),
    "daily_sessions": queries.daily_sessions(),
}


class ProfileError(RuntimeError):
    """py-spy is missing or could not attach (ptrace refused, for one)."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; the defaults are what ``make profile`` runs."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per recording")
    parser.add_argument("--rate", type=int, default=200, help="samples per second (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="clients (default 20)")
    parser.add_argument("--size", type=int, default=500, help="meetings per provider")
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT, help="default %(default)s"
    )
    parser.add_argument(
        "--cache-off",
        action="store_true",
        help="profile a gateway with cache_ttl = 0 and rate_limit = 0 (files *-cache-off.*)",
    )
    parser.add_argument(
        "--query",
        action="append",
        choices=sorted(PROFILED),
        help="profile only this query (repeatable; default: all)",
    )
    return parser.parse_args(argv)


def py_spy() -> str:
    """The py-spy executable beside this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise ProfileError("py-spy is not installed: run `make profile` (the bench extra)")
    return found


def record(pid: int, output: Path, fmt: str, seconds: float, rate: int) -> None:
    """Sample process ``pid`` for ``seconds`` into ``output`` in py-spy's format ``fmt``."""
    argv = [py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    argv += ["--rate", str(rate), "--format", fmt, "--function", "--output", str(output)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0 or not output.exists():
        raise ProfileError(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def profile_query(
    args: argparse.Namespace,
    name: str,
    gateway: processes.Gateway,
    log_dir: Path,
    wrk: str | None,
) -> str:
    """Record one query's flame graph and stacks under load; return the summary text."""
    query = PROFILED[name]
    cache = "off" if args.cache_off else "on"
    stem = f"{name}-cache-off" if args.cache_off else name
    warmup = 2.0
    spec = LoadSpec(
        url=gateway.url,
        body=query.body(),
        concurrency=args.concurrency,
        warmup_s=warmup,
        # Both recordings fall inside the measured phase, with a second to spare.
        duration_s=2 * args.duration + 3,
        watch_pids={"gateway": gateway.process.pid},
        wrk=wrk,
    )
    spec_path = log_dir / f"profile-{name}-spec.json"
    result_path = log_dir / f"profile-{name}-result.json"
    spec_path.write_text(json.dumps(asdict(spec)), encoding="utf-8")
    argv = [sys.executable, "-m", "benchmarks.load", str(spec_path), str(result_path)]
    out = args.output_dir
    with processes.managed(f"load-{name}", argv, log_dir) as load:
        time.sleep(warmup + 1.5)
        pid = gateway.process.pid
        record(pid, out / f"{stem}.svg", "flamegraph", args.duration, args.rate)
        raw = log_dir / f"{stem}.collapsed.txt"
        record(pid, raw, "raw", args.duration, args.rate)
        code = load.wait(spec.duration_s + 120)
        if code != 0 or not result_path.exists():
            raise processes.ProcessError(f"load client exited with {code}:\n{load.output()}")
    result = LoadResult(**json.loads(result_path.read_text(encoding="utf-8")))
    gateway_cpu = result.cpu_percent.get("gateway")
    cpu_ms = (
        gateway_cpu * 10 / result.requests_per_s if gateway_cpu and result.requests_per_s else None
    )
    text = raw.read_text(encoding="utf-8")
    # mtime=0: the same stacks give the same bytes, so a rerun shows no spurious change.
    (out / f"{stem}.collapsed.txt.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    stacks = flame.parse_collapsed(text)
    head = (
        f"{query.label} ({name}): upstream cache {cache}, {args.concurrency} clients, "
        f"{result.requests_per_s:.0f} req/s while profiled, {result.errors} errors"
    )
    reading = head + "\n" + flame.summary(stacks, cpu_ms)
    (out / f"{stem}.summary.txt").write_text(reading + "\n", encoding="utf-8")
    return reading


def main(argv: Sequence[str] | None = None) -> int:
    """Profile each query and print the readings; files go to ``--output-dir``."""
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="meetingmesh-profile-"))
    found = loadwrk.find_wrk(install=True)
    print(found.note, flush=True)
    try:
        py_spy()
        with processes.simulators(log_dir, size=args.size) as sims:
            overrides = {"cache_ttl": 0, "rate_limit": 0} if args.cache_off else None
            config = processes.gateway_config(sims, overrides)
            with processes.gateway(log_dir, "gateway-profile", config) as gw:
                with simctl.local_client() as client:
                    for query in PROFILED.values():
                        queries.execute(client, gw.url, query.document, query.variables)
                for name in args.query or list(PROFILED):
                    print(f"profiling {name} for 2 x {args.duration:g} s...", flush=True)
                    print(profile_query(args, name, gw, log_dir, found.path), "\n", flush=True)
    except (ProfileError, processes.ProcessError, queries.QueryFailed) as exc:
        print(f"profile failed: {exc}\nlogs in {log_dir}", file=sys.stderr)
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    print(f"written: {args.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
