"""Start and stop the processes a benchmark needs: simulators, gateway, client workers.

Every process runs in its own session (so its own process group) with its output in a
log file, and is stopped by signalling the whole group: SIGTERM, a bounded wait, then
SIGKILL. On Linux each child also asks the kernel to SIGTERM it when the harness dies,
so even a ``kill -9`` of the harness leaves nothing listening behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
#: The project root: workers run ``python -m benchmarks.<module>`` from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The HeyPeers organization the simulated data belongs to (README, "The simulators").
#: ``meetingmesh simulate`` does not print it, yet the gateway configuration needs it.
HEYPEERS_ORGANIZATION_ID = 5
#: The providers ``meetingmesh simulate`` prints a base URL and a token for.
PROVIDERS = ("heypeers", "thoughtindustries", "hubspot", "daily")
#: ``  heypeers           base_url = http://127.0.0.1:8100/heypeers   token = sim-...``
_SIM_LINE = re.compile(r"^\s*(\w+)\s+base_url = (http://\S+)\s+token = (\S+)\s*$", re.MULTILINE)
_SIM_HEADER = re.compile(r"meetingmesh simulators on (http://\S+)")
_GATEWAY_LINE = re.compile(r"meetingmesh gateway on (http://\S+/graphql)")
#: Proxy variables would send the children's loopback traffic elsewhere: never pass them on.
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


class ProcessError(RuntimeError):
    """A child process failed to start, or a worker did not produce its result."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. PR_SET_PDEATHSIG (1) makes the kernel send
    # SIGTERM when the harness exits by any means, including SIGKILL, which no finally
    # block survives. Best effort: outside Linux there is no prctl and the finally
    # blocks are the only cleanup.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def child_environment() -> dict[str, str]:
    """The harness's environment for a child: unbuffered output, no proxies."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES}
    # ``meetingmesh simulate`` prints its addresses without flushing; through a file that
    # output would wait in the buffer until exit, and the harness would wait for it.
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = LOOPBACK
    return env


class ManagedProcess:
    """One child process in its own process group, output captured to ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_environment(),
                cwd=PROJECT_ROOT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        return self.popen.pid

    def output(self) -> str:
        """Everything the child has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> str:
        """Wait until the output matches ``pattern``; return the output at that moment.

        Raises ``ProcessError`` with the output's tail when the child exits first or
        ``timeout`` seconds pass.
        """
        deadline = time.monotonic() + timeout
        while True:
            text = self.output()
            if pattern.search(text):
                return text
            if self.popen.poll() is not None:
                raise ProcessError(
                    f"{self.name} exited with {self.popen.returncode}:\n{text[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise ProcessError(f"{self.name} not ready after {timeout:.0f} s:\n{text[-2000:]}")
            time.sleep(0.05)

    def wait(self, timeout: float) -> int:
        """Wait for the child to exit on its own; ``ProcessError`` after ``timeout`` s."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ProcessError(f"{self.name} still running after {timeout:.0f} s") from None

    def stop(self, grace: float = 5.0) -> None:
        """Stop the child's whole process group: SIGTERM, ``grace`` seconds, then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            # Signal the group even when the leader has exited: a grandchild may remain.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


@contextlib.contextmanager
def managed(name: str, argv: Sequence[str], log_dir: Path) -> Iterator[ManagedProcess]:
    """Run a child for the duration of a ``with`` block; it is stopped on any exit."""
    process = ManagedProcess(name, argv, log_dir)
    try:
        yield process
    finally:
        process.stop()


def meetingmesh_command() -> str:
    """The ``meetingmesh`` console script of the interpreter running the harness."""
    beside = Path(sys.executable).parent / "meetingmesh"
    if beside.exists():
        return str(beside)
    raise ProcessError(f"no meetingmesh script beside {sys.executable}; run `make bench`")


@dataclass(frozen=True)
class Upstream:
    """One simulated provider as ``meetingmesh simulate`` printed it."""

    base_url: str
    token: str


@dataclass(frozen=True)
class Simulators:
    """A running ``meetingmesh simulate`` process and the addresses it printed."""

    process: ManagedProcess
    url: str
    upstreams: Mapping[str, Upstream]

    @property
    def stats_url(self) -> str:
        """``GET`` reads every provider's request counts, ``DELETE`` resets them."""
        return f"{self.url}/_sim/stats"


@contextlib.contextmanager
def simulators(
    log_dir: Path, *, size: int, seed: int = 0, now: str | None = None, name: str = "simulators"
) -> Iterator[Simulators]:
    """Start ``meetingmesh simulate --port 0`` and parse the base URLs and tokens it prints.

    They start without faults; latency is injected at run time (``simctl.py``), so one
    simulator process serves every phase and its data is generated once. ``now`` is the
    simulated clock (``--now``); None keeps the simulators' fixed default.
    """
    argv = [meetingmesh_command(), "simulate", "--host", LOOPBACK, "--port", "0"]
    argv += ["--size", str(size), "--seed", str(seed)]
    if now is not None:
        argv += ["--now", now]
    with managed(name, argv, log_dir) as process:
        # Generating the data sets takes a few seconds at large sizes (about half a minute
        # at 100,000 per provider); the statistics line comes last, after every provider's.
        text = process.wait_for(re.compile(r"statistics: "), timeout=120 + size / 500)
        header = _SIM_HEADER.search(text)
        upstreams = {m[1]: Upstream(m[2], m[3]) for m in _SIM_LINE.finditer(text)}
        missing = [p for p in PROVIDERS if p not in upstreams]
        if header is None or missing:
            raise ProcessError(f"cannot read the simulators' addresses ({missing}):\n{text}")
        yield Simulators(process, header[1], upstreams)


def gateway_config(
    sims: Simulators,
    overrides: Mapping[str, int | float] | None = None,
    server: Mapping[str, int | float | str] | None = None,
) -> str:
    """A TOML configuration for every simulated provider (README, configuration contract).

    ``overrides`` are provider settings (``cache_ttl``, ``rate_limit``, ...) written into
    every provider's section; ``server`` adds ``[server]`` settings; without them the
    gateway runs on its own defaults.
    """
    lines = ["[server]", "graphiql = false"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in (server or {}).items()]
    lines.append("")
    for provider in PROVIDERS:
        upstream = sims.upstreams[provider]
        lines.append(f"[providers.{provider}]")
        lines.append(f"base_url = {json.dumps(upstream.base_url)}")
        lines.append(f"token = {json.dumps(upstream.token)}")
        if provider == "heypeers":
            lines.append(f"organization_id = {HEYPEERS_ORGANIZATION_ID}")
        lines += [f"{key} = {value}" for key, value in (overrides or {}).items()]
        lines.append("")
    return "\n".join(lines)


def server_setting_refusal(log_dir: Path, key: str, value: int | str) -> str | None:
    """Why ``meetingmesh check-config`` refuses ``[server] key = value``; None if it accepts.

    How the harness learns whether a setting exists yet (``workers``, issue 15) without
    importing the gateway's code: the gateway's own validation answers.
    """
    path = log_dir / f"probe-{key}.toml"
    path.write_text(f"[server]\n{key} = {json.dumps(value)}\n", encoding="utf-8")
    done = subprocess.run(
        [meetingmesh_command(), "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=child_environment(),
    )
    if done.returncode == 0:
        return None
    said = (done.stderr + done.stdout).strip().splitlines()
    return said[0] if said else f"exit status {done.returncode}"


@dataclass(frozen=True)
class Gateway:
    """A running ``meetingmesh serve`` process and its GraphQL endpoint."""

    process: ManagedProcess
    url: str


@contextlib.contextmanager
def gateway(log_dir: Path, name: str, config: str) -> Iterator[Gateway]:
    """Write ``config`` to a file and run ``meetingmesh serve --port 0`` on it."""
    config_path = log_dir / f"{name}.toml"
    config_path.write_text(config, encoding="utf-8")
    argv = [meetingmesh_command(), "serve", "--config", str(config_path)]
    argv += ["--host", LOOPBACK, "--port", "0"]
    with managed(name, argv, log_dir) as process:
        text = process.wait_for(_GATEWAY_LINE, timeout=60)
        match = _GATEWAY_LINE.search(text)
        assert match is not None  # wait_for returned only once it matched
        yield Gateway(process, match[1])


def run_worker(module: str, spec: Mapping[str, Any], log_dir: Path, *, timeout: float) -> Any:
    """Run ``python -m <module> SPEC RESULT`` in its own process and return RESULT's JSON.

    Client work (load driving, the N+1 baseline) runs outside the harness so that it
    competes with the gateway only as a real client would, and so that a stuck worker
    can be killed as a whole after ``timeout`` seconds.
    """
    name = module.rsplit(".", 1)[-1]
    spec_path = log_dir / f"{name}-spec.json"
    result_path = log_dir / f"{name}-result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    argv = [sys.executable, "-m", module, str(spec_path), str(result_path)]
    with managed(name, argv, log_dir) as process:
        code = process.wait(timeout)
        if code != 0 or not result_path.exists():
            raise ProcessError(f"{module} exited with {code}:\n{process.output()[-3000:]}")
    return json.loads(result_path.read_text(encoding="utf-8"))
