"""Batched requests: an array of operations in one POST, answered in order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from graphql import GraphQLError, parse
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.batching import Planned, over_budget
from meetingmesh.config import Settings
from meetingmesh.redaction import REDACTED
from meetingmesh.schema.selection import select_operation
from meetingmesh.simulators.server import TOKENS, gateway_settings
from tests.conftest import Clients, Stack

NEW = "application/graphql-response+json"
PROVIDERS = "query A { providers { provider } }"
COUNT = "query B($n: Int) { meetings(first: $n) { totalCount } }"
BAD_CURSOR = 'query C { meetings(first: 1, after: "bogus") { totalCount } }'
#: Costs 31 and has 17 tokens.
TEN_TITLES = "{ meetings(first: 10) { edges { node { title } } } }"


def _gateway(stack: Stack, serve: Callable[[ASGIApp], str], **server: Any) -> str:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, **server), providers=base.providers)
    return serve(create_app(settings)) + "/graphql"


def _batch(url: str, *operations: dict[str, Any], accept: str = "*/*") -> httpx.Response:
    return httpx.post(url, json=list(operations), headers={"Accept": accept})


def test_a_batch_is_answered_by_an_array_in_order(gateway: Stack) -> None:
    url = f"{gateway.gateway_url}/graphql"
    response = _batch(
        url, {"query": COUNT, "variables": {"n": 2}}, {"query": PROVIDERS}, {"query": BAD_CURSOR}
    )
    assert response.status_code == 200
    count, providers, bad = response.json()
    assert count == {"data": gateway.data(COUNT, {"n": 2})}
    assert providers == {"data": gateway.data(PROVIDERS)}
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


def test_a_failing_provider_shows_only_in_the_operation_that_asked_it(gateway: Stack) -> None:
    gateway.fault("daily", error_rate=1.0, error_status=503)
    daily = "{ meetings(first: 2, filter: {providers: [DAILY]}) { totalCount } }"
    failing, other = _batch(
        f"{gateway.gateway_url}/graphql", {"query": daily}, {"query": PROVIDERS}
    ).json()
    assert failing["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert other == {"data": gateway.data(PROVIDERS)}


def test_a_batch_over_the_limit_is_refused_whole(gateway: Stack) -> None:
    url = f"{gateway.gateway_url}/graphql"
    refused = {
        "errors": [
            {
                "message": "A batch may hold at most 10 operations; this one has 11.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    response = _batch(url, *[{"query": PROVIDERS}] * 11, accept=NEW)
    assert response.status_code == 400
    assert response.json() == refused
    classic = _batch(url, *[{"query": PROVIDERS}] * 11, accept="application/json")
    assert (classic.status_code, classic.json()) == (400, refused)


def test_batching_can_be_turned_off(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(stack, serve, max_batch_operations=0)
    response = _batch(url, {"query": PROVIDERS}, accept=NEW)
    assert response.status_code == 400
    assert "Batching is turned off" in response.json()["errors"][0]["message"]
    assert httpx.post(url, json={"query": PROVIDERS}).status_code == 200


def test_every_entry_must_be_an_operation_object(gateway: Stack) -> None:
    url = f"{gateway.gateway_url}/graphql"
    for body in ([{"query": PROVIDERS}, 3], [{"query": 5}], [{"operationName": 1}], []):
        response = httpx.post(url, json=body, headers={"Accept": NEW})
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_the_cost_limit_holds_for_the_batch_as_a_whole(
    stack: Stack, serve: Callable[[ASGIApp], str], gateway: Stack
) -> None:
    url = _gateway(stack, serve, max_cost=50)
    assert "errors" not in httpx.post(url, json={"query": TEN_TITLES}).json()
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    answers = _batch(url, {"query": TEN_TITLES}, {"query": TEN_TITLES}).json()
    for answer in answers:
        assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
        assert "cost 62 together, over the limit of 50" in answer["errors"][0]["message"]
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 0


def test_the_token_limit_holds_for_the_batch_as_a_whole(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(stack, serve, max_tokens=30)
    assert "errors" not in httpx.post(url, json={"query": TEN_TITLES}).json()
    for answer in _batch(url, {"query": TEN_TITLES}, {"query": TEN_TITLES}).json():
        assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
        assert "more than 30 tokens together" in answer["errors"][0]["message"]


def _planned(query: str) -> Planned:
    """An operation as the view reads it: parsed, or not when it does not parse."""
    try:
        document = parse(query)
    except GraphQLError:
        return Planned(query)
    return Planned(query, document, select_operation(document, None))


def test_budgets_add_up_what_each_operation_would_cost() -> None:
    two = [_planned(TEN_TITLES), _planned(TEN_TITLES)]
    assert over_budget(two, max_tokens=34, max_cost=62, max_calls=2) is None
    assert over_budget(two, max_tokens=33, max_cost=62, max_calls=2) is not None
    assert over_budget(two, max_tokens=34, max_cost=61, max_calls=2) is not None
    assert over_budget(two, max_tokens=34, max_cost=62, max_calls=1) is not None
    broken = [_planned("{ meetings("), _planned(TEN_TITLES)]
    assert over_budget(broken, max_tokens=20, max_cost=31, max_calls=1) is None


def test_a_persisted_query_miss_inside_a_batch_stays_in_its_entry(gateway: Stack) -> None:
    unknown = hashlib.sha256(b"{ never sent }").hexdigest()
    persisted = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}}
    miss, hit = _batch(f"{gateway.gateway_url}/graphql", persisted, {"query": PROVIDERS}).json()
    assert miss["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert hit == {"data": gateway.data(PROVIDERS)}


def test_apollo_batch_http_link_sends_one_post_and_gets_each_answer(
    gateway: Stack, clients: Clients
) -> None:
    operations = [
        {"query": COUNT, "variables": {"n": 3}},
        {"query": PROVIDERS},
        {"query": BAD_CURSOR},
    ]
    seen = clients.run(
        "batch_apollo.mjs", url=f"{gateway.gateway_url}/graphql", operations=operations
    )
    assert [r["method"] for r in seen["requests"]] == ["POST"]
    count, providers, bad = seen["results"]
    assert (
        count["data"]["meetings"]["totalCount"]
        == gateway.data(COUNT, {"n": 3})["meetings"]["totalCount"]
    )
    assert [p["provider"] for p in providers["data"]["providers"]] == [
        p["provider"] for p in gateway.data(PROVIDERS)["providers"]
    ]
    assert count["error"] is None and providers["error"] is None
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphql_request_batch_requests_gets_each_answer(gateway: Stack, clients: Clients) -> None:
    operations = [{"query": PROVIDERS}, {"query": COUNT, "variables": {"n": 1}}]
    url = f"{gateway.gateway_url}/graphql"
    seen = clients.run("batch_graphql_request.mjs", url=url, operations=operations)
    assert seen["results"] == [
        {"data": gateway.data(PROVIDERS)},
        {"data": gateway.data(COUNT, {"n": 1})},
    ]
    refused = clients.run("batch_graphql_request.mjs", url=url, operations=operations * 6)
    assert refused["error"]["status"] == 400
    assert refused["error"]["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def _one_provider(provider: str) -> str:
    return f"{{ meetings(first: 5, filter: {{providers: [{provider}]}}) {{ totalCount }} }}"


def test_the_upstream_call_estimate_holds_for_the_batch_as_a_whole(
    stack: Stack, serve: Callable[[ASGIApp], str], gateway: Stack
) -> None:
    url = _gateway(stack, serve, max_upstream_calls=2)
    operations = [{"query": _one_provider(p)} for p in ("DAILY", "HEYPEERS", "THOUGHT_INDUSTRIES")]
    for operation in operations:  # each is estimated at one call: alone, each runs
        assert "errors" not in httpx.post(url, json=operation).json()
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    for answer in _batch(url, *operations).json():
        assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
        assert (
            "3 upstream calls together, more than the limit of 2"
            in (answer["errors"][0]["message"])
        )
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 0


def test_the_requests_call_budget_is_shared_by_every_operation_of_a_batch(
    stack: Stack, serve: Callable[[ASGIApp], str], gateway: Stack
) -> None:
    # Estimated at one call each, Daily's list takes one call and HeyPeers' two: each
    # alone fits a budget of 2, together they need 3.
    url = _gateway(stack, serve, max_upstream_calls=2)
    daily, heypeers = {"query": _one_provider("DAILY")}, {"query": _one_provider("HEYPEERS")}
    for operation in (daily, heypeers):
        assert "errors" not in httpx.post(url, json=operation).json()
    url = _gateway(stack, serve, max_upstream_calls=2)  # a cold upstream cache
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    answers = _batch(url, daily, heypeers).json()
    errors = [e for answer in answers for e in answer.get("errors", ())]
    assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COMPLEX"]
    assert "made its 2 upstream calls" in errors[0]["message"]
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 2


def test_secrets_a_provider_echoes_are_redacted_inside_batched_answers(gateway: Stack) -> None:
    daily = gateway.provider_url("daily")
    gateway.http.put(f"{daily}/_sim/behaviour", json={"echo_credentials": True})
    gateway.fault("daily", error_rate=1, error_status=401)
    response = _batch(
        f"{gateway.gateway_url}/graphql", {"query": _one_provider("DAILY")}, {"query": PROVIDERS}
    )
    assert TOKENS["daily"] not in response.text
    failing, other = response.json()
    assert failing["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAUTHORIZED",
        "provider": "DAILY",
    }
    assert f"Authorization: Bearer {REDACTED}" in failing["errors"][0]["message"]
    assert other == {"data": gateway.data(PROVIDERS)}
