"""The N+1 baseline: the merged 20-meeting page fetched the naive way, straight from the providers.

What a plain client script would do without the gateway: ask each list provider for its
first page, one after another; merge them by start time; then fetch every kept
meeting's nested data one call at a time (Thought Industries ``GET /meetings/:id`` for
course and attendees, Daily ``GET /meetings/:id/participants``). HeyPeers export rows
already carry the group leader and HeyPeers has no per-meeting endpoint, so its meetings
cost nothing more. The gateway answers the same page with one call per provider, made
concurrently; comparing the two at the same injected latency is the point. The script
uses a plain ``httpx.Client`` with keep-alive, as such a script would; its own CPU per
call (a millisecond or two here) is small beside the injected latency.

Run as its own process: ``python -m benchmarks.baseline SPEC.json RESULT.json``.
"""

from __future__ import annotations

import heapq
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks import simctl
from benchmarks.load import summarise

#: The export columns the merged query's fields need (title, start, duration, status, host).
HEYPEERS_COLUMNS = ("name", "start_time", "duration", "status", "group_leader_id")
#: The widest custom range: without ``reporting_days`` HeyPeers returns past meetings only.
HEYPEERS_RANGE = {
    "reporting_days": "custom",
    "start_time": "01/01/1970 12:00 AM",
    "end_time": "12/31/2999 11:59 PM",
}


@dataclass(frozen=True)
class BaselineSpec:
    """Where the providers are, how many meetings and how many timed runs."""

    #: Provider name -> [base_url, token], as ``meetingmesh simulate`` printed them.
    upstreams: Mapping[str, Sequence[str]]
    heypeers_organization_id: int
    stats_url: str
    first: int = 20
    iterations: int = 5
    #: The gateway's page as sorted [provider, unix start] pairs, to check like for like.
    expected: Sequence[Sequence[Any]] = ()


@dataclass(frozen=True)
class BaselineResult:
    """Timings of the measured runs and what they cost upstream."""

    runs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    upstream_calls_per_run: float
    #: True when the baseline's page holds the same meetings as the gateway's.
    matches_gateway: bool


@dataclass(frozen=True)
class _Listed:
    start: float
    provider: str
    key: str


@dataclass(frozen=True)
class DirectCall:
    """One provider list request, as the gateway itself sends it for the merged page."""

    provider: str
    label: str
    url: str
    headers: dict[str, str]


def direct_list_calls(
    upstreams: Mapping[str, Sequence[str]], heypeers_organization_id: int, first: int = 20
) -> list[DirectCall]:
    """Each list provider's first page, with the parameters the gateway uses for ``first``.

    The gateway asks for ``first + 1`` rows (to know whether a next page exists) and,
    with ``attendees`` selected, lets Daily embed participants. Thought Industries is
    asked for ``perPage=first + 2``, as the gateway asks with its upstream cache off (one
    more row for the group of ties held back at a page's end; with the cache on it reads
    pages of 100 once and answers from them).
    """
    hp_url, hp_token = upstreams["heypeers"]
    ti_url, ti_token = upstreams["thoughtindustries"]
    dy_url, dy_token = upstreams["daily"]
    heypeers = httpx.URL(
        f"{hp_url}/api/v2/organizations/{heypeers_organization_id}/export_meetings",
        params={
            **HEYPEERS_RANGE,
            "page": 1,
            "per_page": first + 1,
            "column[]": list(HEYPEERS_COLUMNS),
        },
    )
    daily = httpx.URL(f"{dy_url}/meetings", params={"limit": first + 1, "ending_before": "OLDEST"})
    return [
        DirectCall(
            "heypeers",
            f"direct HeyPeers export ({first + 1})",
            str(heypeers),
            {"authorization": f"Bearer {hp_token}"},
        ),
        DirectCall(
            "thoughtindustries",
            f"direct Thought Ind. page ({first + 2})",
            f"{ti_url}/incoming/v2/meetings?page=1&perPage={first + 2}",
            {"authorization": f"Bearer {ti_token}"},
        ),
        DirectCall(
            "daily",
            f"direct Daily meetings ({first + 1})",
            str(daily),
            {"authorization": f"Bearer {dy_token}"},
        ),
    ]


def _get(client: httpx.Client, url: str, token: str, **params: Any) -> httpx.Response:
    return client.get(url, params=params, headers={"authorization": f"Bearer {token}"})


def _first_pages(client: httpx.Client, spec: BaselineSpec) -> list[list[_Listed]]:
    hp_url, hp_token = spec.upstreams["heypeers"]
    ti_url, ti_token = spec.upstreams["thoughtindustries"]
    dy_url, dy_token = spec.upstreams["daily"]
    org = spec.heypeers_organization_id

    exported = _get(
        client,
        f"{hp_url}/api/v2/organizations/{org}/export_meetings",
        hp_token,
        **HEYPEERS_RANGE,
        page=1,
        per_page=spec.first,
        **{"column[]": list(HEYPEERS_COLUMNS)},
    )
    exported.raise_for_status()
    heypeers = [
        _Listed(_iso(row["start_time"]), "HEYPEERS", f"{row['start_time']}|{row['name']}")
        for row in exported.json()["meetings"]
    ]

    # Thought Industries pages of 100 (it honours perPage), oldest first.
    listed = _get(client, f"{ti_url}/incoming/v2/meetings", ti_token, page=1, perPage=100)
    listed.raise_for_status()
    thought = [
        _Listed(_iso(m["startDate"]), "THOUGHT_INDUSTRIES", m["id"])
        for m in listed.json()["data"]["Meetings"]["meetings"][: spec.first]
    ]

    # Daily lists newest first; ``ending_before=OLDEST`` is its oldest page, still newest first.
    sessions = _get(
        client,
        f"{dy_url}/meetings",
        dy_token,
        limit=spec.first,
        ending_before="OLDEST",
        no_participants="true",
    )
    sessions.raise_for_status()
    daily = [
        _Listed(float(s["start_time"]), "DAILY", s["id"]) for s in reversed(sessions.json()["data"])
    ]
    return [heypeers, thought, daily]


def _nested(client: httpx.Client, spec: BaselineSpec, meeting: _Listed) -> None:
    if meeting.provider == "THOUGHT_INDUSTRIES":
        url, token = spec.upstreams["thoughtindustries"]
        _get(client, f"{url}/incoming/v2/meetings/{meeting.key}", token).raise_for_status()
    elif meeting.provider == "DAILY":
        url, token = spec.upstreams["daily"]
        answer = _get(client, f"{url}/meetings/{meeting.key}/participants", token)
        # Daily answers 404 for a session that recorded nobody: an empty list, not a failure.
        if answer.status_code != 404:
            answer.raise_for_status()


def run_once(client: httpx.Client, spec: BaselineSpec) -> list[_Listed]:
    """Fetch the merged page and every meeting's nested data sequentially; return the page."""
    pages = _first_pages(client, spec)
    merged = list(heapq.merge(*pages, key=lambda m: (m.start, m.provider)))[: spec.first]
    for meeting in merged:
        _nested(client, spec, meeting)
    return merged


def _iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def measure(spec: BaselineSpec) -> BaselineResult:
    """One untimed run (connections, imports), then ``iterations`` timed runs."""
    with simctl.local_client() as client:
        page = run_once(client, spec)
        simctl.reset_stats(client, spec.stats_url)
        timings: list[float] = []
        for _ in range(spec.iterations):
            started = time.perf_counter()
            run_once(client, spec)
            timings.append((time.perf_counter() - started) * 1000)
        calls = simctl.upstream_calls(client, spec.stats_url)
    mine = sorted([m.provider, round(m.start)] for m in page)
    expected = sorted([str(p), round(float(s))] for p, s in spec.expected)
    timings.sort()
    return BaselineResult(
        runs=len(timings),
        **summarise(timings),
        upstream_calls_per_run=calls / len(timings),
        matches_gateway=mine == expected,
    )


def main(argv: Sequence[str]) -> int:
    """Worker entry point: ``python -m benchmarks.baseline SPEC.json RESULT.json``."""
    spec_path, result_path = argv
    spec = BaselineSpec(**json.loads(Path(spec_path).read_text(encoding="utf-8")))
    result = measure(spec)
    Path(result_path).write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
