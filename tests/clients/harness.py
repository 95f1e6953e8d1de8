"""Runs the real client libraries (Node) and Debian's Chromium against the gateway.

``package.json`` pins every npm package exactly and ``package-lock.json`` locks the
tree; ``ensure_installed`` runs ``npm ci`` into ``tests/clients/node_modules`` only when
the lock changed since the last install (a stamp holds the lock's sha256). Each script
in this folder takes one JSON argument and prints one JSON document: what the client
library itself reported. A missing tool fails the run with a message saying how to get
it; nothing is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOCK = HERE / "package-lock.json"
STAMP = HERE / "node_modules" / ".meetingmesh-lock.sha256"
#: Debian's chromium package; the Makefile installs it when it is missing.
CHROMIUM = os.environ.get("MEETINGMESH_CHROMIUM", "/usr/bin/chromium")
MIN_NODE = 20


class MissingTool(Exception):
    """A tool the client tests need is not on this machine; the message says how to get it."""


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} is not installed: {hint}")
    return path


def node() -> str:
    """The ``node`` executable, at least version 20."""
    path = _tool("node", "install Node.js 20 or newer (Debian: apt-get install nodejs npm)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < MIN_NODE:
        raise MissingTool(f"Node.js {version.stdout.strip()} is too old: {MIN_NODE} or newer")
    return path


def chromium() -> str:
    """Debian's Chromium, for the browser tests."""
    if not os.access(CHROMIUM, os.X_OK):
        raise MissingTool(
            f"{CHROMIUM} is missing: apt-get install chromium "
            "(`make test` installs it itself when run as root)"
        )
    return CHROMIUM


def ensure_installed() -> None:
    """``npm ci`` the pinned client libraries, unless this lock is already installed."""
    node()
    npm = _tool("npm", "install npm 11 (it comes with Node.js)")
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == digest:
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise MissingTool(f"npm ci in {HERE} failed:\n{done.stdout}\n{done.stderr}")
    STAMP.write_text(digest)


def run(script: str, argument: dict[str, Any], timeout: float = 120) -> Any:
    """Run ``script`` with ``argument`` and return the JSON it printed."""
    done = subprocess.run(
        [node(), str(HERE / script), json.dumps(argument)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script} exited {done.returncode}:\n{done.stderr}{done.stdout}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"{script} printed no JSON:\n{done.stdout}\n{done.stderr}") from None


def start(script: str, argument: dict[str, Any]) -> subprocess.Popen[str]:
    """Start ``script`` and leave it running: it talks over stdin and stdout, a line each way."""
    return subprocess.Popen(
        [node(), str(HERE / script), json.dumps(argument)],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def command(
    name: str, *args: str, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one of the installed packages' commands (``node_modules/.bin``) in ``cwd``."""
    return subprocess.run(
        [str(HERE / "node_modules" / ".bin" / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
