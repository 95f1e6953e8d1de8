"""The README's "Using it from a frontend" set-ups run as written, with the real libraries."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.schema import possible_types
from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.server import gateway_settings
from tests.clients import harness
from tests.conftest import Clients, Stack

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README.split("## Using it from a frontend", 1)[1].split("\n## ", 1)[0]
#: The section's modules by the file name on their first line.
MODULES = {
    m.group(1): m.group(0)
    for m in re.finditer(r"(?<=```js\n)// (\S+\.mjs)\n.*?(?=```)", SECTION, flags=re.S)
}
RELAY_CONFIG = json.loads(re.findall(r"```json\n(.*?)```", SECTION, flags=re.S)[0])


@pytest.fixture(scope="module")
def project(clients: Clients) -> Iterator[Path]:
    """The README's files in a scratch folder beside the installed client libraries."""
    work = Path(harness.HERE / f".readme-{id(clients)}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    for name, text in MODULES.items():
        (work / name).write_text(text)
    (work / "possible-types.json").write_text(json.dumps(possible_types()))
    relay = work / "relay"
    relay.mkdir()
    # A fresh app's package.json: relay-compiler's artifacts are CommonJS.
    (relay / "package.json").write_text('{"private": true}')
    (relay / "relay.config.json").write_text(json.dumps(RELAY_CONFIG))
    shutil.copy(ROOT / "schema.graphql", relay / "schema.graphql")
    shutil.copytree(harness.HERE / "relay" / "src", relay / "src")
    (relay / RELAY_CONFIG["persistConfig"]["file"]).write_text("{}")
    done = clients.command("relay-compiler", cwd=relay)
    assert done.returncode == 0, done.stdout + done.stderr
    yield work
    shutil.rmtree(work, ignore_errors=True)


SCOUT = """query($p: [Provider!]) { meetings(first: 30, filter: {providers: $p}) {
  edges { node { id course { id meetings(first: 0) { totalCount } }
    attendees(first: 30) { totalCount edges { node { providerId joinedAt member { id } } } }
} } } }"""


def _sharing(meetings: list[dict[str, Any]], person: Any) -> list[str]:
    """Two meetings that share an attendee by ``person`` (a function of an attendee)."""
    first_seen: dict[Any, str] = {}
    for meeting in meetings:
        for edge in meeting["attendees"]["edges"]:
            who = person(edge["node"])
            if who is not None and first_seen.setdefault(who, meeting["id"]) != meeting["id"]:
                return [first_seen[who], meeting["id"]]
    raise AssertionError("no two meetings share an attendee")


def _subjects(stack: Stack) -> dict[str, Any]:
    """The meetings, course and member the README's Apollo cache is checked on."""
    daily = [e["node"] for e in stack.data(SCOUT, {"p": ["DAILY"]})["meetings"]["edges"]]
    ti = [e["node"] for e in stack.data(SCOUT, {"p": ["THOUGHT_INDUSTRIES"]})["meetings"]["edges"]]
    attended = max(
        (m for m in daily if m["attendees"]["totalCount"] <= 30),
        key=lambda m: m["attendees"]["totalCount"],
    )
    course = max(
        (m["course"] for m in ti if m["course"] is not None),
        key=lambda c: c["meetings"]["totalCount"],
    )
    return {
        "attendeesOf": attended["id"],
        "member": "sso-user-0001",
        "course": course["id"],
        # The same Thought Industries user (one provider id) in two meetings.
        "thoughtIndustriesPair": _sharing(ti, lambda a: a["providerId"]),
        # The same Daily user joining two sessions, at different times.
        "dailyPair": _sharing(daily, lambda a: a["member"] and a["member"]["id"]),
        "dailySession": daily[0]["id"],
    }


@pytest.fixture(scope="module")
def subjects(stack: Stack) -> dict[str, Any]:
    """What the Apollo cache checks run on, found in the data set."""
    return _subjects(stack)


@pytest.fixture(scope="module")
def seen(
    project: Path,
    clients: Clients,
    stack: Stack,
    subjects: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """What each README client reported, against fresh gateways (Relay's trusts only it)."""
    base = gateway_settings(stack.sim_url)
    manifest = project / "relay" / RELAY_CONFIG["persistConfig"]["file"]
    trusted = replace(base.server, trusted_documents=str(manifest))
    open_gateway = start_in_thread(create_app(base))
    relay_gateway = start_in_thread(create_app(Settings(server=trusted, providers=base.providers)))
    try:
        yield clients.run(
            "frontend_readme.mjs",
            dir=str(project),
            url=f"{open_gateway.url}/graphql",
            relayUrl=f"{relay_gateway.url}/graphql",
            subjects=subjects,
        )
    finally:
        open_gateway.stop()
        relay_gateway.stop()


def test_the_section_has_each_clients_set_up() -> None:
    assert set(MODULES) == {"apollo.mjs", "urql.mjs", "relay.mjs"}
    assert "persistConfig" in RELAY_CONFIG


def _first_ids(gateway: Stack, count: int) -> list[str]:
    data = gateway.data(f"{{ meetings(first: {count}) {{ edges {{ node {{ id }} }} }} }}")
    return [e["node"]["id"] for e in data["meetings"]["edges"]]


def test_apollo_pages_meetings_into_one_list(gateway: Stack, seen: dict[str, Any]) -> None:
    apollo = seen["apollo"]
    assert apollo["mergedIds"] == _first_ids(gateway, 6)
    assert apollo["firstIds"] == _first_ids(gateway, 3)


def test_apollo_batches_and_persists_its_queries(seen: dict[str, Any]) -> None:
    apollo = seen["apollo"]
    assert "query" not in apollo["firstRequest"][0]
    assert "persistedQuery" in apollo["firstRequest"][0]["extensions"]
    # Two queries at once: one batch, first by hash only, then once more with the text.
    assert [len(batch) for batch in apollo["batched"]] == [2, 2]
    assert apollo["providers"] == 4
    assert apollo["total"] > 0


def test_apollo_matches_fragments_on_node_with_possible_types(seen: dict[str, Any]) -> None:
    node = seen["apollo"]["node"]
    assert node is not None
    assert node["id"] == seen["apollo"]["firstIds"][0]


def test_urql_sends_its_persisted_query_as_get(gateway: Stack, seen: dict[str, Any]) -> None:
    urql = seen["urql"]
    assert urql["error"] is None
    total = gateway.data("{ meetings(first: 2) { totalCount } }")["meetings"]["totalCount"]
    assert urql["data"]["meetings"]["totalCount"] == total
    assert {r["method"] for r in urql["requests"]} == {"GET"}
    first = parse_qs(urlsplit(urql["requests"][0]["url"]).query)
    assert "query" not in first
    assert "persistedQuery" in json.loads(first["extensions"][0])


def test_relay_runs_by_document_id_on_a_trusted_gateway(
    gateway: Stack, seen: dict[str, Any]
) -> None:
    relay = seen["relay"]
    assert relay["data"] is not None
    assert [set(sent) for sent in relay["sent"]] == [{"doc_id", "variables"}]
    assert relay["sent"][0]["variables"]["count"] == 2
    assert sorted(relay["meetingIds"]) == sorted(_first_ids(gateway, 2))


CONNECTION = "pageInfo { hasNextPage endCursor } edges { node { id } }"
#: Each list the Apollo walk pages: the query of its pages, its subject, where it is.
WALKED: dict[str, tuple[str, str | None, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "schedulingLinks": (
        "query($after: String) { schedulingLinks(first: 100, after: $after) "
        f"{{ {CONNECTION} }} }}",
        None,
        lambda data: data["schedulingLinks"],
    ),
    "meetings": (
        f"query($after: String) {{ meetings(first: 100, after: $after) {{ {CONNECTION} }} }}",
        None,
        lambda data: data["meetings"],
    ),
    "Meeting.attendees": (
        "query($id: ID!, $after: String) { meeting(id: $id) "
        f"{{ attendees(first: 100, after: $after) {{ {CONNECTION} }} }} }}",
        "attendeesOf",
        lambda data: data["meeting"]["attendees"],
    ),
    "Member.upcomingMeetings": (
        "query($id: String!, $after: String) { member(provider: HEYPEERS, id: $id) "
        f"{{ upcomingMeetings(first: 100, after: $after) {{ {CONNECTION} }} }} }}",
        "member",
        lambda data: data["member"]["upcomingMeetings"],
    ),
    "Course.meetings": (
        "query($id: ID!, $after: String) { node(id: $id) { ... on Course "
        f"{{ meetings(first: 100, after: $after) {{ {CONNECTION} }} }} }} }}",
        "course",
        lambda data: data["node"]["meetings"],
    ),
}


def _every_id(gateway: Stack, name: str, subjects: dict[str, Any]) -> list[str]:
    """The whole list, paged by end cursor in pages of 100."""
    query, subject, connection = WALKED[name]
    variables = {} if subject is None else {"id": subjects[subject]}
    ids: list[str] = []
    after = None
    for _ in range(20):
        page = connection(gateway.data(query, {**variables, "after": after}))
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"{name} did not end")


@pytest.mark.parametrize("name", WALKED)
def test_apollo_fetch_more_walks_every_list_to_its_end(
    gateway: Stack, seen: dict[str, Any], subjects: dict[str, Any], name: str
) -> None:
    walked = seen["apolloCache"]["walks"][name]
    assert walked["pages"] > 2, "the walk must span several pages"
    assert walked["ids"] == _every_id(gateway, name, subjects)


def _attendance(gateway: Stack, meeting: str) -> list[dict[str, Any]]:
    data = gateway.data(
        """query($id: ID!) { meeting(id: $id) { attendees(first: 100) { edges { node {
             id providerId joinedAt durationSeconds member { id } } } } } }""",
        {"id": meeting},
    )
    return [e["node"] for e in data["meeting"]["attendees"]["edges"]]


@pytest.mark.parametrize("pair", ["thoughtIndustries", "daily"])
def test_apollo_keeps_each_meetings_attendances_apart(
    gateway: Stack, seen: dict[str, Any], subjects: dict[str, Any], pair: str
) -> None:
    cached = seen["apolloCache"][pair]
    meetings = subjects[f"{pair}Pair"]
    expected = [_attendance(gateway, meeting) for meeting in meetings]
    # Read back from the cache after both were loaded: each meeting its own join times.
    assert cached["shown"] == expected
    assert cached["entries"] == len(expected[0]) + len(expected[1])


def test_the_shared_person_is_one_member_in_both_meetings(
    gateway: Stack, subjects: dict[str, Any]
) -> None:
    first, second = (_attendance(gateway, m) for m in subjects["dailyPair"])
    shared = {a["member"]["id"] for a in first if a["member"]} & {
        a["member"]["id"] for a in second if a["member"]
    }
    assert shared
    joined = {a["joinedAt"] for a in first + second if a["member"] and a["member"]["id"] in shared}
    assert len(joined) >= 2, "the shared person must have joined at different times"


def test_apollo_merges_details_that_several_queries_selected(seen: dict[str, Any]) -> None:
    details = seen["apolloCache"]["details"]
    assert details["room"] is not None, "the second query's details replaced the first's"
    assert details["room"]["__typename"] == "DailyMeetingDetails"
    assert details["room"]["room"]
    assert set(details["live"]) == {"__typename", "ongoing", "maxParticipants"}
    assert not [w for w in details["warnings"] if "may be lost" in w]


def test_apollo_matches_an_attendee_as_a_node(seen: dict[str, Any]) -> None:
    assert seen["apolloCache"]["attendeeAsNode"] is not None
