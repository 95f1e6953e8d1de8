"""The peer gateway: GraphQL Hive Gateway serving a Mesh-composed OpenAPI source for Daily.

Everything it needs lives in ``benchmarks/peer/``: ``package.json`` and
``package-lock.json`` pin the npm packages, ``daily-openapi.yaml`` is the project's own
description of Daily's ``GET /meetings`` (participants embedded) and
``GET /meetings/{id}/participants``, and ``mesh.config.ts`` composes it against the
Daily simulator. ``ensure_installed`` runs ``npm ci`` into ``benchmarks/peer/node_modules``
(git-ignored) once per lock file; ``compose`` writes the supergraph for one simulator
run; ``hive_gateway`` serves it as one Node process (``--fork 1``) on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks import processes
from benchmarks.processes import LOOPBACK, ManagedProcess, Simulators

PEER_DIR = processes.PROJECT_ROOT / "benchmarks" / "peer"
NODE_MODULES = PEER_DIR / "node_modules"
#: Holds the lock file's hash once ``npm ci`` succeeded with it.
_STAMP = NODE_MODULES / ".meetingmesh-lock-sha256"
#: Hive Gateway 2 needs Node 20 (its ``engines``).
MIN_NODE_MAJOR = 20
_LISTENING = re.compile(r"Listening on (http://\S+?)(?:\x1b|\s|$)")

#: The peer's equivalent of meetingmesh's Daily page: the same 20 sessions (the oldest
#: page, as meetingmesh's first page in start order) with their participants.
HIVE_DAILY_QUERY = """
query DailySessions {
  listMeetings(limit: 20, ending_before: "OLDEST") {
    total_count
    data {
      id room start_time duration ongoing
      participants { participant_id user_name join_time duration }
    }
  }
}
"""


class PeerUnavailable(Exception):
    """The peer cannot run here; the message says why, for the report."""


def _lock_hash() -> str:
    return hashlib.sha256((PEER_DIR / "package-lock.json").read_bytes()).hexdigest()


def node_version() -> tuple[str, int]:
    """The ``node`` executable and its major version; ``PeerUnavailable`` without one."""
    node = shutil.which("node")
    if node is None:
        raise PeerUnavailable("Node.js is not installed (no `node` on PATH)")
    try:
        text = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        major = int(text.lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise PeerUnavailable(f"`node --version` failed: {exc}") from None
    if major < MIN_NODE_MAJOR:
        raise PeerUnavailable(f"Node.js {text} is too old: Hive Gateway needs {MIN_NODE_MAJOR}+")
    return node, major


def ensure_installed() -> str:
    """Install the pinned packages with ``npm ci`` unless this lock file's are there.

    Returns a one-line note for the report; ``PeerUnavailable`` when Node.js or npm is
    missing or the install fails (the npm registry unreachable, for one).
    """
    _node, major = node_version()
    npm = shutil.which("npm")
    if npm is None:
        raise PeerUnavailable("npm is not installed")
    digest = _lock_hash()
    if _STAMP.exists() and _STAMP.read_text(encoding="ascii").strip() == digest:
        return f"peer packages cached in {NODE_MODULES.relative_to(processes.PROJECT_ROOT)}"
    print("installing the peer gateway's npm packages (once per lock file)...", flush=True)
    argv = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(
            argv,
            cwd=PEER_DIR,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env=processes.child_environment(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"npm ci failed: {exc}") from None
    if done.returncode != 0:
        raise PeerUnavailable(f"npm ci failed: {(done.stderr or done.stdout).strip()[-500:]}")
    _STAMP.write_text(digest + "\n", encoding="ascii")
    return f"peer packages installed with npm ci (Node {major})"


def _bin(name: str) -> str:
    return str(NODE_MODULES / ".bin" / name)


def compose(sims: Simulators, output: Path) -> None:
    """Compose the supergraph over ``sims``' Daily simulator into ``output`` (mesh-compose)."""
    daily = sims.upstreams["daily"]
    env = processes.child_environment()
    env["DAILY_BASE_URL"] = daily.base_url
    env["DAILY_TOKEN"] = daily.token
    argv = [_bin("mesh-compose"), "-c", "mesh.config.ts", "-o", str(output)]
    try:
        done = subprocess.run(
            argv, cwd=PEER_DIR, capture_output=True, text=True, timeout=180, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"mesh-compose failed: {exc}") from None
    if done.returncode != 0 or not output.exists():
        raise PeerUnavailable(f"mesh-compose failed: {(done.stderr or done.stdout)[-800:]}")


def free_port() -> int:
    """A port free on 127.0.0.1 right now (Hive Gateway cannot be told to pick one)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PeerGateway:
    """A running Hive Gateway and its GraphQL endpoint."""

    process: ManagedProcess
    url: str


@contextlib.contextmanager
def hive_gateway(log_dir: Path, supergraph: Path) -> Iterator[PeerGateway]:
    """Serve ``supergraph`` with Hive Gateway: one Node process, no cluster, loopback only.

    It runs from the project root, where no ``gateway.config.*`` or ``mesh.config.*`` is
    found, so the command line is its whole configuration.
    """
    port = free_port()
    argv = [_bin("hive-gateway"), "supergraph", str(supergraph)]
    argv += ["--host", LOOPBACK, "--port", str(port), "--fork", "1"]
    with processes.managed("hive-gateway", argv, log_dir) as process:
        process.wait_for(_LISTENING, timeout=90)
        yield PeerGateway(process, f"http://{LOOPBACK}:{port}/graphql")


def pinned_versions() -> dict[str, str]:
    """The versions ``package-lock.json`` pins for the packages the report names."""
    lock = json.loads((PEER_DIR / "package-lock.json").read_text(encoding="utf-8"))
    wanted = (
        "@graphql-hive/gateway",
        "@graphql-mesh/compose-cli",
        "@omnigraph/openapi",
        "@graphql-tools/batch-execute",
        "graphql",
    )
    packages = lock.get("packages", {})
    return {
        name: str(packages[f"node_modules/{name}"]["version"])
        for name in wanted
        if f"node_modules/{name}" in packages
    }
