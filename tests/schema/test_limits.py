"""Query limits refuse abusive documents before any upstream call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


def _doubling_fragments(levels: int) -> str:
    """F0 spreads F1 twice, F1 spreads F2 twice, ...: 2^levels expansions in a few bytes."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query {{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"


def test_doubling_fragments_are_refused_while_the_server_keeps_answering(gateway: Stack) -> None:
    health: list[int] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(gateway.query, _doubling_fragments(30))
        # The event loop stays free: health checks sent while the query is pending are
        # answered (a blocked loop would leave them to time out).
        while len(health) < 3 or (not pending.done() and len(health) < 50):
            response = gateway.http.get(gateway.gateway_url + "/healthz", timeout=5)
            health.append(response.status_code)
        answer = pending.result(timeout=30)
    assert set(health) == {200}
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert f"query cost {2**30} exceeds the limit" in answer["errors"][0]["message"]


def test_aliases_inside_introspection_count_too(gateway: Stack) -> None:
    fields = " ".join(f"t{i}: types {{ name }}" for i in range(31))
    answer = gateway.query(f"{{ __schema {{ {fields} }} }}")
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "31 aliases exceed the limit of 30" in answer["errors"][0]["message"]


def test_a_document_needing_too_many_upstream_calls_is_refused_before_any(gateway: Stack) -> None:
    ids = [f"id-{i}" for i in range(101)]
    answer = gateway.query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "101 upstream calls, more than the limit of 100" in answer["errors"][0]["message"]
    assert sum(gateway.calls(p) for p in PROVIDERS) == 0
