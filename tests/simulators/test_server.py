"""All four simulators under one port, as ``meetingmesh simulate`` serves them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import httpx
from starlette.types import ASGIApp

from meetingmesh.simulators import daily, heypeers, hubspot, thoughtindustries
from meetingmesh.simulators.server import MOUNTS, TOKENS, create_simulators

#: One documented request per provider, relative to its base URL.
PROBES = {
    "heypeers": "/api/v2/organizations/5/members/sso-user-abc123/upcoming_meetings",
    "thoughtindustries": "/incoming/v2/meetings",
    "hubspot": "/scheduler/v3/meetings/meeting-links?name=menelson",
    "daily": "/meetings?limit=1",
}


def test_one_port_serves_every_provider_at_its_base_url(serve: Callable[[ASGIApp], str]) -> None:
    url = serve(create_simulators(size=24).app)
    for provider, path in PROBES.items():
        response = httpx.get(
            url + MOUNTS[provider] + path,
            headers={"Authorization": f"Bearer {TOKENS[provider]}"},
        )
        assert response.status_code == 200, (provider, response.text)


def test_combined_stats_count_each_provider_and_reset(serve: Callable[[ASGIApp], str]) -> None:
    url = serve(create_simulators(size=24).app)
    headers = {"Authorization": f"Bearer {TOKENS['daily']}"}
    httpx.get(url + "/daily/v1" + PROBES["daily"], headers=headers)
    httpx.get(url + "/daily/v1" + PROBES["daily"], headers=headers)
    stats = httpx.get(url + "/_sim/stats").json()
    assert stats["daily"]["endpoints"]["GET /meetings"]["count"] == 2
    assert {stats[p]["total"] for p in ("heypeers", "thoughtindustries", "hubspot")} == {0}
    assert httpx.delete(url + "/_sim/stats").json()["daily"]["total"] == 0


def test_same_seed_gives_the_same_bytes_for_every_provider() -> None:
    generators = (
        heypeers.HeyPeersData,
        thoughtindustries.ThoughtIndustriesData,
        hubspot.HubSpotData,
        daily.DailyData,
    )
    for generator in generators:
        first = generator.generate(seed=7, size=30).dump()
        assert generator.generate(seed=7, size=30).dump() == first
        assert generator.generate(seed=8, size=30).dump() != first


def test_simulate_command_prints_base_urls_and_serves_them() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "meetingmesh.cli", "simulate", "--port", "0", "--size", "24"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        bases = dict(re.findall(r"(\w+)\s+base_url = (\S+)\s+token", "".join(lines)))
        assert set(bases) == set(MOUNTS)
        for provider, base in bases.items():
            response = httpx.get(
                base + PROBES[provider],
                headers={"Authorization": f"Bearer {TOKENS[provider]}"},
                timeout=10,
            )
            assert response.status_code == 200, provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_simulate_command_sets_behaviour_switches_at_start() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meetingmesh.cli",
            "simulate",
            "--port",
            "0",
            "--size",
            "24",
            "--behaviour",
            "daily:participant_order=newest_first",
            "--behaviour",
            "daily:float_times=true",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        bases = dict(re.findall(r"(\w+)\s+base_url = (\S+)\s+token", "".join(lines)))
        shown = httpx.get(bases["daily"] + "/_sim/behaviour", timeout=10).json()
        assert (shown["participant_order"], shown["float_times"]) == ("newest_first", True)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_simulate_command_refuses_an_unknown_switch() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "meetingmesh.cli", "simulate", "--behaviour", "daily:nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "nope" in done.stderr
