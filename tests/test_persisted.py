"""Automatic persisted queries and trusted documents, by the protocol and by real clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.types import ASGIApp
from strawberry.types import ExecutionResult

from meetingmesh.app import create_app
from meetingmesh.config import ConfigError, Settings
from meetingmesh.graphql_request import GraphQLRequest
from meetingmesh.persisted import ENTRY_BYTES, Documents, Resolved, load_manifest, sha256
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Clients, Stack

NEW = "application/graphql-response+json"
QUERY = "query Few($n: Int) { meetings(first: $n) { totalCount edges { node { id title } } } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
NOT_FOUND = [
    {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
]


def _refused(response: httpx.Response) -> list[dict[str, Any]]:
    """The errors of an answer that carries no data."""
    answer = response.json()
    assert answer.get("data") is None, answer
    errors: list[dict[str, Any]] = answer["errors"]
    return errors


def _persisted(sha: str = HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


def _gateway(stack: Stack, serve: Callable[[ASGIApp], str], **server: Any) -> str:
    """A gateway of its own (an empty APQ store), on the shared simulators."""
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, **server), providers=base.providers)
    return serve(create_app(settings)) + "/graphql"


@pytest.fixture
def url(stack: Stack, serve: Callable[[ASGIApp], str]) -> str:
    return _gateway(stack, serve)


@pytest.mark.parametrize("accept", ["application/json", NEW])
def test_an_unknown_hash_asks_for_the_query_with_a_200(url: str, accept: str) -> None:
    body = {"variables": {"n": 2}, "extensions": _persisted()}
    response = httpx.post(url, json=body, headers={"Accept": accept})
    assert response.status_code == 200
    assert _refused(response) == NOT_FOUND
    assert response.headers["cache-control"] == "no-store"


def test_a_document_sent_with_its_hash_is_then_served_by_hash(url: str, gateway: Stack) -> None:
    expected = gateway.data(QUERY, {"n": 2})
    sent = httpx.post(url, json={"query": QUERY, "variables": {"n": 2}, "extensions": _persisted()})
    assert sent.json() == {"data": expected}
    by_hash = httpx.post(url, json={"variables": {"n": 2}, "extensions": _persisted()})
    assert by_hash.json() == {"data": expected}


def test_persisted_queries_work_over_get(url: str, gateway: Stack) -> None:
    params = {"variables": json.dumps({"n": 1}), "extensions": json.dumps(_persisted())}
    assert _refused(httpx.get(url, params=params)) == NOT_FOUND
    assert "data" in httpx.get(url, params={**params, "query": QUERY}).json()
    assert httpx.get(url, params=params).json() == {"data": gateway.data(QUERY, {"n": 1})}


def test_a_hash_that_does_not_match_its_query_is_refused_and_not_stored(url: str) -> None:
    wrong = "0" * 64
    body = {"query": QUERY, "variables": {"n": 1}, "extensions": _persisted(wrong)}
    refused = _refused(httpx.post(url, json=body))
    assert refused[0]["message"] == "provided sha does not match query"
    assert refused[0]["extensions"] == {"code": "BAD_REQUEST"}
    assert _refused(httpx.post(url, json={"extensions": _persisted(wrong)})) == NOT_FOUND


def test_a_document_that_fails_validation_is_not_stored(url: str) -> None:
    invalid = "{ nosuchfield }"
    sha = hashlib.sha256(invalid.encode()).hexdigest()
    httpx.post(url, json={"query": invalid, "extensions": _persisted(sha)})
    assert _refused(httpx.post(url, json={"extensions": _persisted(sha)})) == NOT_FOUND


def test_only_version_1_of_the_protocol_is_spoken(url: str) -> None:
    answer = httpx.post(url, json={"extensions": _persisted(version=2)})
    assert _refused(answer)[0]["extensions"] == {"code": "BAD_REQUEST"}


def test_the_store_forgets_the_least_recently_used_document(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    small = _gateway(stack, serve, apq_cache_bytes=len(QUERY) + ENTRY_BYTES + 10)
    other = "query Other { providers { provider } }"
    for query in (QUERY, other):
        sha = hashlib.sha256(query.encode()).hexdigest()
        body = {"query": query, "variables": {"n": 1}, "extensions": _persisted(sha)}
        assert "data" in httpx.post(small, json=body).json()
    forgotten = httpx.post(small, json={"variables": {"n": 1}, "extensions": _persisted()})
    assert _refused(forgotten) == NOT_FOUND


def test_many_tiny_documents_keep_the_store_within_its_bound() -> None:
    """``apq_cache_bytes`` bounds the memory the store holds, bookkeeping included."""
    bound = 200_000
    store = Documents(bound)
    ran = ExecutionResult(data={"providers": []}, errors=None)

    async def fill() -> None:
        for number in range(5000):
            query = f"{{a{number}: providers {{ provider }}}}"
            request = GraphQLRequest(query, extensions={"persistedQuery": {"version": 1}})
            await store.remember(Resolved(request, register=sha256(query)), ran)

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(fill())
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= bound
    # The store kept the newest documents: the last one is served by its hash alone.
    last = "{a4999: providers { provider }}"
    by_hash = GraphQLRequest(None, extensions=_persisted(sha256(last)))
    assert store.resolve(by_hash).query == last


def test_with_apq_off_clients_are_told_it_is_not_supported(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    off = _gateway(stack, serve, apq_cache_bytes=0)
    answer = httpx.post(off, json={"extensions": _persisted()}, headers={"Accept": NEW})
    assert answer.status_code == 200
    assert _refused(answer)[0] == {
        "message": "PersistedQueryNotSupported",
        "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
    }


def _sent(request: dict[str, Any]) -> dict[str, Any]:
    """What a client sent: the JSON body of a POST or the parameters of a GET."""
    if request["method"] == "POST":
        body: dict[str, Any] = json.loads(request["body"])
        return body
    params = {k: v[0] for k, v in parse_qs(urlsplit(request["url"]).query).items()}
    params["extensions"] = json.loads(params.get("extensions", "{}"))
    return params


@pytest.mark.parametrize("use_get", [False, True], ids=["post", "get"])
def test_apollo_clients_persisted_query_link_sends_the_query_once(
    url: str, gateway: Stack, clients: Clients, use_get: bool
) -> None:
    seen = clients.run(
        "apollo_apq.mjs", url=url, query=QUERY, variables={"n": 2}, runs=2, useGET=use_get
    )
    expected = gateway.data(QUERY, {"n": 2})["meetings"]
    for result in seen["results"]:
        assert result["error"] is None
        assert result["data"]["meetings"]["totalCount"] == expected["totalCount"]
        assert [e["node"]["id"] for e in result["data"]["meetings"]["edges"]] == [
            e["node"]["id"] for e in expected["edges"]
        ]
    sent = [_sent(r) for r in seen["requests"]]
    assert ["query" in s for s in sent] == [False, True, False]
    assert all("sha256Hash" in s["extensions"]["persistedQuery"] for s in sent)
    assert [r["method"] for r in seen["requests"]] == (
        ["GET", "POST", "GET"] if use_get else ["POST", "POST", "POST"]
    )


def test_urqls_persisted_exchange_sends_the_query_once_over_get(
    url: str, gateway: Stack, clients: Clients
) -> None:
    seen = clients.run("urql_apq.mjs", url=url, query=QUERY, variables={"n": 2}, runs=2)
    expected = gateway.data(QUERY, {"n": 2})
    assert [r["data"] for r in seen["results"]] == [expected, expected]
    sent = [_sent(r) for r in seen["requests"]]
    assert ["query" in s for s in sent] == [False, True, False]
    assert [r["method"] for r in seen["requests"]] == ["GET", "GET", "GET"]


def _named(documents: dict[str, str], name: str) -> tuple[str, str]:
    return next((i, text) for i, text in documents.items() if text.startswith(f"query {name}("))


@pytest.fixture
def trusted(stack: Stack, serve: Callable[[ASGIApp], str], relay_manifest: Path) -> str:
    """A gateway that runs only the documents relay-compiler persisted."""
    return _gateway(stack, serve, trusted_documents=str(relay_manifest))


def test_trusted_documents_run_by_each_kind_of_id(trusted: str, relay_manifest: Path) -> None:
    documents = json.loads(relay_manifest.read_text())
    document_id, _ = _named(documents, "MeetingsPageQuery")
    variables = {"count": 2}
    for body in (
        {"doc_id": document_id, "variables": variables},
        {"documentId": f"sha256:{document_id}", "variables": variables},
        {"extensions": _persisted(document_id), "variables": variables},
    ):
        answer = httpx.post(trusted, json=body).json()
        assert len(answer["data"]["meetings"]["edges"]) == 2, body
    params = {"documentId": document_id, "variables": json.dumps(variables)}
    assert len(httpx.get(trusted, params=params).json()["data"]["meetings"]["edges"]) == 2


def test_a_trusted_documents_exact_text_runs(trusted: str, relay_manifest: Path) -> None:
    _, text = _named(json.loads(relay_manifest.read_text()), "MeetingsPageQuery")
    answer = httpx.post(trusted, json={"query": text, "variables": {"count": 1}}).json()
    assert len(answer["data"]["meetings"]["edges"]) == 1


def test_anything_else_is_refused_before_parsing(trusted: str) -> None:
    for query in ("{ providers { provider } }", "{ this does not parse"):
        response = httpx.post(trusted, json={"query": query}, headers={"Accept": NEW})
        assert response.status_code == 400
        assert _refused(response)[0]["extensions"] == {"code": "QUERY_NOT_IN_SAFELIST"}
    unknown = httpx.post(trusted, json={"documentId": "sha256:" + "0" * 64})
    assert _refused(unknown)[0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}


def test_a_trusted_gateway_registers_nothing(trusted: str) -> None:
    body = {"query": QUERY, "variables": {"n": 1}, "extensions": _persisted()}
    assert _refused(httpx.post(trusted, json=body))[0]["extensions"] == {
        "code": "PERSISTED_QUERY_NOT_IN_LIST"
    }


def test_manifests_are_read_in_each_tools_shape(tmp_path: Path) -> None:
    flat = tmp_path / "persisted-documents.json"
    flat.write_text(json.dumps({"abc": "{ providers { provider } }"}))
    assert load_manifest(flat) == {"abc": "{ providers { provider } }"}
    apollo = tmp_path / "persisted-query-manifest.json"
    apollo.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": "h1", "name": "A", "type": "query", "body": "query A { x }"}],
            }
        )
    )
    assert load_manifest(apollo) == {"h1": "query A { x }"}


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"a": 1}'])
def test_an_unusable_manifest_stops_start_up_naming_the_setting(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"server\.trusted_documents"):
        load_manifest(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_manifest(tmp_path / "missing.json")


BOOKING = (
    'mutation { bookMeeting(input: {slug: "menelson", firstName: "A", lastName: "B", '
    'email: "a@example.com", startTime: "2030-06-01T14:00:00Z", durationMinutes: 30, '
    'timezone: "UTC"}) { booking { start } } }'
)
#: GETs that a gateway would refuse differently if it parsed them: 405 for the mutation,
#: a syntax error, an ambiguous operation, the token limit.
UNPARSED = {
    "mutation": ({"query": BOOKING}, "QUERY_NOT_IN_SAFELIST"),
    "syntax-error": ({"query": "{ this does not parse"}, "QUERY_NOT_IN_SAFELIST"),
    "two-operations": (
        {"query": "query A { providers { provider } } query B { providers { provider } }"},
        "QUERY_NOT_IN_SAFELIST",
    ),
    "token-bomb": ({"query": "{ " + "a " * 3000 + "}"}, "QUERY_NOT_IN_SAFELIST"),
    "persisted-mutation": (
        {
            "query": BOOKING,
            "extensions": json.dumps(_persisted(hashlib.sha256(BOOKING.encode()).hexdigest())),
        },
        "PERSISTED_QUERY_NOT_IN_LIST",
    ),
    "unknown-document-id": (
        {"documentId": "sha256:" + "0" * 64, "query": BOOKING},
        "PERSISTED_QUERY_NOT_IN_LIST",
    ),
}


@pytest.mark.parametrize(("params", "code"), UNPARSED.values(), ids=UNPARSED.keys())
def test_a_trusted_gateway_refuses_an_unknown_get_before_parsing_it(
    trusted: str, gateway: Stack, params: dict[str, str], code: str
) -> None:
    response = httpx.get(trusted, params=params, headers={"Accept": NEW})
    assert response.status_code == 400
    assert _refused(response)[0]["extensions"] == {"code": code}
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "hubspot", "daily")) == 0


@pytest.mark.parametrize("accept", ["text/html", "*/*"])
def test_a_browser_get_naming_a_persisted_document_runs_it_rather_than_graphiql(
    url: str, gateway: Stack, accept: str
) -> None:
    params = {"variables": json.dumps({"n": 1}), "extensions": json.dumps(_persisted())}
    httpx.post(url, json={"query": QUERY, "variables": {"n": 1}, "extensions": _persisted()})
    response = httpx.get(url, params=params, headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": gateway.data(QUERY, {"n": 1})}
