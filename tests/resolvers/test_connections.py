"""Every connection: each edge's cursor resumes right after that edge.

Apollo's ``relayStylePagination``, Relay and any client that keeps the cursor of the
last edge it showed (not ``pageInfo.endCursor``) continue from an edge's own cursor,
so a cursor shared by several edges loses or repeats items. Each connection is walked
once to learn its items and cursors, then walked again from every edge's cursor: the
walk must yield exactly the items after that edge, in order, each once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Stack

#: Page size of the first walk: small, so cursors come from several pages.
SIZE = 3
#: Page size of the walks from each cursor: another one, so pages end elsewhere.
RESUME_SIZE = 2
EDGES = "pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id } }"


@dataclass(frozen=True)
class Connection:
    """A connection under test: its query (``$first``/``$after``) and where the page is."""

    query: str
    page: Callable[[dict[str, Any]], dict[str, Any]]
    #: Variables naming the subject (a meeting, a course), found in the data set.
    subject: Callable[[Stack], dict[str, Any]]


def _no_subject(gateway: Stack) -> dict[str, Any]:
    return {}


def _meetings_window(gateway: Stack) -> dict[str, Any]:
    """About 25 merged meetings of every provider: a window of the whole list."""
    data = gateway.data("{ meetings(first: 100) { edges { node { startTime } } } }")
    starts = [e["node"]["startTime"] for e in data["meetings"]["edges"]]
    return {"filter": {"startsAfter": starts[40], "startsBefore": starts[65]}}


def _busiest_meeting(provider: str, most: int) -> Callable[[Stack], dict[str, Any]]:
    """The meeting of ``provider`` with the most attendees, at most ``most`` of them."""

    def find(gateway: Stack) -> dict[str, Any]:
        data = gateway.data(
            "query($p: [Provider!]) { meetings(first: 60, filter: {providers: $p}) "
            "{ edges { node { id attendees(first: 0) { totalCount } } } } }",
            {"p": [provider]},
        )
        counts = [
            (e["node"]["attendees"]["totalCount"], e["node"]["id"])
            for e in data["meetings"]["edges"]
        ]
        count, meeting = max(c for c in counts if c[0] <= most)
        assert count >= 2 * SIZE, "the data set has no meeting with attendees over pages"
        return {"id": meeting}

    return find


def _busiest_course(gateway: Stack) -> dict[str, Any]:
    data = gateway.data(
        "{ meetings(first: 60, filter: {providers: [THOUGHT_INDUSTRIES]}) "
        "{ edges { node { course { id meetings(first: 0) { totalCount } } } } } }"
    )
    count, course = max(
        (e["node"]["course"]["meetings"]["totalCount"], e["node"]["course"]["id"])
        for e in data["meetings"]["edges"]
        if e["node"]["course"] is not None
    )
    assert count >= 2 * SIZE
    return {"id": course}


CONNECTIONS = {
    "schedulingLinks": Connection(
        f"query($first: Int, $after: String) {{ schedulingLinks(first: $first, after: $after) "
        f"{{ {EDGES} }} }}",
        lambda data: data["schedulingLinks"],
        _no_subject,
    ),
    "meetings": Connection(
        "query($first: Int, $after: String, $filter: MeetingFilter) "
        f"{{ meetings(first: $first, after: $after, filter: $filter) {{ {EDGES} }} }}",
        lambda data: data["meetings"],
        _meetings_window,
    ),
    "Meeting.attendees (Daily)": Connection(
        "query($first: Int, $after: String, $id: ID!) "
        f"{{ meeting(id: $id) {{ attendees(first: $first, after: $after) {{ {EDGES} }} }} }}",
        lambda data: data["meeting"]["attendees"],
        _busiest_meeting("DAILY", 30),
    ),
    "Meeting.attendees (Thought Industries)": Connection(
        "query($first: Int, $after: String, $id: ID!) "
        f"{{ meeting(id: $id) {{ attendees(first: $first, after: $after) {{ {EDGES} }} }} }}",
        lambda data: data["meeting"]["attendees"],
        _busiest_meeting("THOUGHT_INDUSTRIES", 30),
    ),
    "Member.upcomingMeetings": Connection(
        'query($first: Int, $after: String) { member(provider: HEYPEERS, id: "sso-user-0001") '
        f"{{ upcomingMeetings(first: $first, after: $after) {{ {EDGES} }} }} }}",
        lambda data: data["member"]["upcomingMeetings"],
        _no_subject,
    ),
    "Course.meetings": Connection(
        "query($first: Int, $after: String, $id: ID!) { node(id: $id) { ... on Course "
        f"{{ meetings(first: $first, after: $after) {{ {EDGES} }} }} }} }}",
        lambda data: data["node"]["meetings"],
        _busiest_course,
    ),
}


def _walk(
    gateway: Stack, connection: Connection, subject: dict[str, Any], after: str | None, size: int
) -> list[tuple[str, str]]:
    """(cursor, id) of every edge after ``after``, page by page through ``endCursor``'s edge."""
    edges: list[tuple[str, str]] = []
    for _ in range(200):
        variables = {**subject, "first": size, "after": after}
        page = connection.page(gateway.data(connection.query, variables))
        edges += [(e["cursor"], e["node"]["id"]) for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        # Like relayStylePagination: continue from the last edge's own cursor.
        after = page["edges"][-1]["cursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("name", CONNECTIONS)
def test_every_edge_resumes_right_after_itself(gateway: Stack, name: str) -> None:
    connection = CONNECTIONS[name]
    subject = connection.subject(gateway)
    edges = _walk(gateway, connection, subject, None, SIZE)
    ids = [item for _, item in edges]
    assert len(ids) > 2 * SIZE, "the list must span several pages"
    assert len(set(ids)) == len(ids)
    for place, (cursor, item) in enumerate(edges):
        rest = [i for _, i in _walk(gateway, connection, subject, cursor, RESUME_SIZE)]
        assert rest == ids[place + 1 :], f"from the cursor of edge {place} ({item})"


BACKWARD = (
    "query($last: Int, $before: String, $filter: MeetingFilter) "
    f"{{ meetings(last: $last, before: $before, filter: $filter) {{ {EDGES} }} }}"
)


def _walk_back(
    gateway: Stack, subject: dict[str, Any], before: str | None, size: int
) -> list[tuple[str, str]]:
    """(cursor, id) of every edge before ``before``, page by page through the first edge."""
    edges: list[tuple[str, str]] = []
    for _ in range(200):
        variables = {**subject, "last": size, "before": before}
        page = gateway.data(BACKWARD, variables)["meetings"]
        edges = [(e["cursor"], e["node"]["id"]) for e in page["edges"]] + edges
        if not page["pageInfo"]["hasPreviousPage"]:
            return edges
        before = page["edges"][0]["cursor"]
    raise AssertionError("the walk did not end")


def test_every_meetings_edge_resumes_backward_right_before_itself(gateway: Stack) -> None:
    subject = _meetings_window(gateway)
    edges = _walk_back(gateway, subject, None, SIZE)
    ids = [item for _, item in edges]
    assert ids == [i for _, i in _walk(gateway, CONNECTIONS["meetings"], subject, None, SIZE)]
    for place, (cursor, item) in enumerate(edges):
        rest = [i for _, i in _walk_back(gateway, subject, cursor, RESUME_SIZE)]
        assert rest == ids[:place], f"from the cursor of edge {place} ({item})"
