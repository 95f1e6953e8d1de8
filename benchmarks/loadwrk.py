"""The external load generator: ``wrk`` (Debian package ``wrk``) with ``wrk/request.lua``.

The Python load client (``benchmarks.http1``) costs a few hundred microseconds of CPU
per request; on a 2-core machine that CPU is taken from the gateway, so at several
thousand requests a second the client, not the gateway, sets the figure. ``wrk`` is C
with LuaJIT and needs a small fraction of that. ``find_wrk`` finds it or installs it
(root with apt only); without it the harness uses the Python client and says so.

Differences from the Python client, printed with the report: wrk's latency percentiles
include failed requests (the Python client keeps only successful ones), and wrk stops
at its deadline with requests still in flight, so the upstream calls counted for a row
may include a few that belong to unanswered requests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The Lua script every wrk run uses (method, body file and GraphQL check as arguments).
SCRIPT = Path(__file__).resolve().parent / "wrk" / "request.lua"


@dataclass(frozen=True)
class WrkFound:
    """Where wrk is (None when absent) and what the harness did to get it."""

    path: str | None
    note: str


def find_wrk(install: bool = True) -> WrkFound:
    """``wrk`` on PATH; else, as root with apt-get and ``install``, install the package.

    An install is ``apt-get install -y wrk``, after ``apt-get update`` when the package
    lists do not know it yet. Any failure leaves ``path`` None with the reason in ``note``.
    """
    path = shutil.which("wrk")
    if path:
        return WrkFound(path, f"load generator: wrk ({path})")
    apt = shutil.which("apt-get")
    if not install:
        return WrkFound(None, "load generator: the Python client (wrk is not installed)")
    if apt is None or os.geteuid() != 0:
        why = "wrk is not installed, and installing it needs root and apt-get"
        return WrkFound(None, f"load generator: the Python client ({why})")
    print("installing wrk with apt-get...", flush=True)
    install_wrk = [apt, "install", "-y", "-q", "wrk"]
    for attempt in ([install_wrk], [[apt, "update", "-q"], install_wrk]):
        if all(_quiet(argv) for argv in attempt) and shutil.which("wrk"):
            path = shutil.which("wrk")
            return WrkFound(path, f"load generator: wrk ({path}, installed with apt-get)")
    return WrkFound(None, "load generator: the Python client (apt-get install wrk failed)")


def _quiet(argv: list[str]) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(argv, capture_output=True, timeout=600, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def command(
    wrk: str,
    url: str,
    *,
    method: str,
    headers: Mapping[str, str],
    body_file: Path | None,
    graphql: bool,
    connections: int,
    seconds: float,
) -> list[str]:
    """The wrk command line for one run (one thread: wrk's CPU stays small beside the gateway's).

    wrk needs at least one connection per thread and whole seconds of duration; the
    timeout is generous, so a slow answer counts as slow rather than as a failure.
    """
    argv = [wrk, "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
    argv += ["--timeout", "60s", "-s", str(SCRIPT)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    if body_file is not None:
        argv += ["-H", "Content-Type: application/json"]
    argv += [url, "--", method, str(body_file) if body_file else "-", "1" if graphql else "0"]
    return argv


@dataclass(frozen=True)
class WrkFigures:
    """What one wrk run printed (``done`` in request.lua), in milliseconds and counts."""

    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    sample: str | None


def parse_output(stdout: str) -> WrkFigures:
    """The figures from wrk's output: the last line that is a JSON object.

    Socket errors and timeouts count as requests that failed; a run with no answer at
    all has zero percentiles rather than wrk's meaningless ones.
    """
    line = next(
        (ln for ln in reversed(stdout.splitlines()) if ln.startswith("{")),
        None,
    )
    if line is None:
        raise ValueError(f"no JSON line in wrk's output:\n{stdout[-1000:]}")
    data: dict[str, Any] = json.loads(line)
    # Answers (failed ones included) plus requests that got none: a socket error or a timeout.
    unanswered = int(data["socket_errors"]) + int(data["timeouts"])
    answered = int(data["requests"]) > 0
    return WrkFigures(
        requests=int(data["requests"]) + unanswered,
        seconds=int(data["duration_us"]) / 1e6,
        failures=int(data["failures"]) + unanswered,
        p50_ms=int(data["p50_us"]) / 1000 if answered else 0.0,
        p95_ms=int(data["p95_us"]) / 1000 if answered else 0.0,
        p99_ms=int(data["p99_us"]) / 1000 if answered else 0.0,
        mean_ms=float(data["mean_us"]) / 1000 if answered else 0.0,
        sample=str(data["sample"]) or None,
    )
