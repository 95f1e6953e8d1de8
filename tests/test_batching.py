"""Batched requests: an array of operations in one POST, answered in order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.batching import over_budget
from meetingmesh.config import Settings
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Clients, Stack

PROVIDERS = "query A { providers { provider } }"
COUNT = "query B($n: Int) { meetings(first: $n) { totalCount } }"
BAD_CURSOR = 'query C { meetings(first: 1, after: "bogus") { totalCount } }'
#: Costs 31 and has 17 tokens.
TEN_TITLES = "{ meetings(first: 10) { edges { node { title } } } }"


def _gateway(stack: Stack, serve: Callable[[ASGIApp], str], **server: Any) -> str:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, **server), providers=base.providers)
    return serve(create_app(settings)) + "/graphql"


def _batch(url: str, *operations: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=list(operations))


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
    response = _batch(f"{gateway.gateway_url}/graphql", *[{"query": PROVIDERS}] * 11)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "A batch may hold at most 10 operations; this one has 11.",
            "extensions": {"code": "BAD_REQUEST"},
        }
    ]


def test_batching_can_be_turned_off(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(stack, serve, max_batch_operations=0)
    response = _batch(url, {"query": PROVIDERS})
    assert response.status_code == 400
    assert "Batching is turned off" in response.json()["errors"][0]["message"]
    assert httpx.post(url, json={"query": PROVIDERS}).status_code == 200


def test_every_entry_must_be_an_operation_object(gateway: Stack) -> None:
    url = f"{gateway.gateway_url}/graphql"
    for body in ([{"query": PROVIDERS}, 3], [{"query": 5}], []):
        response = httpx.post(url, json=body)
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


def test_budgets_add_up_what_each_operation_would_cost() -> None:
    two = [(TEN_TITLES, None, None), (TEN_TITLES, None, None)]
    assert over_budget(two, max_tokens=34, max_cost=62) is None
    assert over_budget(two, max_tokens=33, max_cost=62) is not None
    assert over_budget(two, max_tokens=34, max_cost=61) is not None
    broken = [("{ meetings(", None, None), (TEN_TITLES, None, None)]
    assert over_budget(broken, max_tokens=20, max_cost=31) is None


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
