"""The canonical GraphQL queries, and the look-ups that give them real arguments.

Every list query selects the same meeting fields (the README's first example: course,
hosts and attendees), so rows differ only in how many meetings and from where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

MEETING_FIELDS = """
  id provider title startTime durationMinutes status
  course { title }
  hosts { name }
  attendees(first: 3) { totalCount edges { node { name } } }
"""

MEETING_BY_ID = """
query MeetingById($id: ID!) {
  meeting(id: $id) { id provider title startTime durationMinutes status }
}
"""

MEETINGS_PAGE = f"""
query MeetingsPage($first: Int!, $after: String, $filter: MeetingFilter) {{
  meetings(first: $first, after: $after, filter: $filter) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {MEETING_FIELDS} }} }}
  }}
}}
"""

MEMBER_UPCOMING = """
query MemberUpcoming($id: String!) {
  member(provider: HEYPEERS, id: $id) {
    upcomingMeetings(first: 10) {
      edges {
        registered registeredAt waitlistStatus
        node { title startTime capacity registeredCount hosts { name avatarUrl } }
      }
    }
  }
}
"""

#: The peer comparison's query (issue 15): 20 Daily sessions with all their participants,
#: the same fields as the peer's ``listMeetings(limit: 20)`` (``benchmarks.peer``).
DAILY_SESSIONS = """
query DailySessions($first: Int!) {
  meetings(first: $first, filter: {providers: [DAILY]}) {
    totalCount
    edges {
      node {
        id title startTime durationMinutes status
        attendees { totalCount edges { node { id name joinedAt durationSeconds } } }
      }
    }
  }
}
"""

#: Only what walking needs: the cost of getting to page 51 is not what is measured.
CURSOR_WALK = """
query CursorWalk($after: String) {
  meetings(first: 100, after: $after) { pageInfo { hasNextPage endCursor } }
}
"""

#: The documents' example member (README: in every simulated data set).
EXAMPLE_MEMBER = "sso-user-abc123"
#: How deep the deep page starts (the simulators must hold more meetings than this).
DEEP_OFFSET = 1000


@dataclass(frozen=True)
class GraphQLQuery:
    """One canonical query: a row label, the document and its variables."""

    key: str
    label: str
    document: str
    variables: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body of a GraphQL POST."""
        return {"query": self.document, "variables": dict(self.variables)}


class QueryFailed(RuntimeError):
    """The gateway answered a preparation query with errors or no data."""


def execute(
    client: httpx.Client, url: str, document: str, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """POST one query and return its ``data``; ``QueryFailed`` on any GraphQL error."""
    response = client.post(url, json={"query": document, "variables": dict(variables)})
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    if answer.get("errors") or answer.get("data") is None:
        raise QueryFailed(f"{document.split('(')[0].strip()}: {answer.get('errors')}")
    data: dict[str, Any] = answer["data"]
    return data


def merged_page(first: int, after: str | None = None) -> dict[str, Any]:
    """Variables of ``MEETINGS_PAGE`` over every list provider."""
    return {"first": first, "after": after, "filter": None}


def sample_meeting_id(client: httpx.Client, url: str) -> str:
    """The id of a real meeting for ``meeting(id)``: the first Thought Industries one.

    Thought Industries because its ``GET /meetings/:id`` is a plain one-call lookup,
    which is what "small lookup" is meant to measure.
    """
    variables = {"first": 1, "after": None, "filter": {"providers": ["THOUGHT_INDUSTRIES"]}}
    data = execute(client, url, MEETINGS_PAGE, variables)
    edges = data["meetings"]["edges"]
    if not edges:
        raise QueryFailed("no Thought Industries meeting to look up")
    meeting_id: str = edges[0]["node"]["id"]
    return meeting_id


def deep_cursor(client: httpx.Client, url: str, offset: int = DEEP_OFFSET) -> str:
    """The cursor after the first ``offset`` merged meetings, walked 100 at a time."""
    after: str | None = None
    for _ in range(offset // 100):
        info = execute(client, url, CURSOR_WALK, {"after": after})["meetings"]["pageInfo"]
        if not info["hasNextPage"]:
            raise QueryFailed(f"fewer than {offset} meetings: raise --size")
        after = info["endCursor"]
    assert after is not None  # offset >= 100, so the loop ran
    return after


def canonical(meeting_id: str, cursor: str) -> list[GraphQLQuery]:
    """The six canonical queries, in table order."""
    return [
        GraphQLQuery("meeting_by_id", "meeting(id)", MEETING_BY_ID, {"id": meeting_id}),
        GraphQLQuery(
            "daily_page_20",
            "meetings(first:20) DAILY only",
            MEETINGS_PAGE,
            {"first": 20, "after": None, "filter": {"providers": ["DAILY"]}},
        ),
        merged_20(),
        GraphQLQuery("merged_100", "meetings(first:100) merged", MEETINGS_PAGE, merged_page(100)),
        GraphQLQuery(
            "member_upcoming",
            "member.upcomingMeetings(10)",
            MEMBER_UPCOMING,
            {"id": EXAMPLE_MEMBER},
        ),
        GraphQLQuery(
            "deep_page",
            f"meetings(first:20) after {DEEP_OFFSET}",
            MEETINGS_PAGE,
            merged_page(20, cursor),
        ),
    ]


def daily_sessions() -> GraphQLQuery:
    """20 Daily sessions with their participants: the query compared with the peer's."""
    return GraphQLQuery(
        "daily_sessions", "Daily 20 sessions + participants", DAILY_SESSIONS, {"first": 20}
    )


def merged_after(starts_after: str) -> GraphQLQuery:
    """The merged 20-meeting page from ``starts_after`` on (the cost-growth query)."""
    variables = {"first": 20, "after": None, "filter": {"startsAfter": starts_after}}
    return GraphQLQuery("merged_after", "meetings(first:20, startsAfter)", MEETINGS_PAGE, variables)


def merged_20() -> GraphQLQuery:
    """The headline query: 20 merged meetings with course, hosts and attendees."""
    return GraphQLQuery("merged_20", "meetings(first:20) merged", MEETINGS_PAGE, merged_page(20))
