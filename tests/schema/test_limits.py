"""Query limits refuse abusive documents before any upstream call."""

from __future__ import annotations

from tests.conftest import Stack

PROVIDERS = ("heypeers", "thoughtindustries", "hubspot", "daily")


def _nested_course_meetings(levels: int) -> str:
    inner = "totalCount"
    for _ in range(levels):
        inner = f"edges {{ node {{ course {{ meetings(first: 1) {{ {inner} }} }} }} }}"
    return f"{{ meetings(first: 1) {{ {inner} }} }}"


def test_a_too_deep_query_is_refused_without_upstream_calls(gateway: Stack) -> None:
    answer = gateway.query(_nested_course_meetings(4))
    assert answer["data"] is None
    error = answer["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "exceeds the limit of 12" in error["message"]
    assert sum(gateway.calls(p) for p in PROVIDERS) == 0


def test_depth_through_fragments_counts_too(gateway: Stack) -> None:
    query = (
        "query { ...A } fragment A on Query { meetings { edges { node { course { "
        "meetings { edges { node { course { meetings { edges { node { course { "
        "meetings { edges { node { id } } } } } } } } } } } } } } } }"
    )
    answer = gateway.query(query)
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}


def test_too_many_aliases_are_refused(gateway: Stack) -> None:
    fields = " ".join(f"a{i}: providers {{ provider }}" for i in range(31))
    answer = gateway.query(f"{{ {fields} }}")
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "31 aliases exceed the limit of 30" in answer["errors"][0]["message"]


def test_graphiql_introspection_is_not_limited(gateway: Stack) -> None:
    from graphql import get_introspection_query

    data = gateway.data(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_a_query_within_the_limits_runs(gateway: Stack) -> None:
    data = gateway.data(_nested_course_meetings(2))
    assert "meetings" in data
