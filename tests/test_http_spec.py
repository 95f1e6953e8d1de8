"""GraphQL over HTTP: media types, status codes, refusals, request ids, CORS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.graphql_view import negotiate
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack

NEW = "application/graphql-response+json"
OK_QUERY = "{ providers { provider } }"
COSTLY = "{ meetings(first: 10) { edges { node { attendees(first: 10) { totalCount } } } } }"


def _post(gateway: Stack, body: object, accept: str = NEW) -> httpx.Response:
    return gateway.http.post(
        f"{gateway.gateway_url}/graphql", json=body, headers={"Accept": accept}
    )


def test_clients_accepting_the_graphql_media_type_get_it(gateway: Stack) -> None:
    response = _post(gateway, {"query": OK_QUERY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(NEW)
    assert len(response.json()["data"]["providers"]) == 4


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": "{ providers { provider "}, "Syntax Error"),
        ({"query": "{ nosuchfield }"}, "Cannot query field"),
        (
            {"query": "query($n: Int!) { meetings(first: $n) { totalCount } }", "variables": {}},
            "to be provided",
        ),
        (
            {
                "query": "query($n: Int) { meetings(first: $n) { totalCount } }",
                "variables": {"n": "x"},
            },
            "Int cannot represent",
        ),
    ],
)
def test_requests_that_never_execute_are_400_without_data(
    gateway: Stack, body: object, fragment: str
) -> None:
    response = _post(gateway, body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(NEW)
    answer = response.json()
    assert "data" not in answer
    assert fragment in answer["errors"][0]["message"]


def test_field_errors_during_execution_stay_200_with_data(gateway: Stack) -> None:
    response = _post(gateway, {"query": '{ meetings(first: 5, after: "bogus") { totalCount } }'})
    assert response.status_code == 200
    assert response.json()["data"] == {"meetings": None}
    assert response.json()["errors"][0]["path"] == ["meetings"]


def test_classic_json_clients_keep_200_for_validation_errors(gateway: Stack) -> None:
    response = _post(gateway, {"query": "{ nosuchfield }"}, accept="application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (NEW, NEW),
        (f"{NEW}, application/json;q=0.9", NEW),
        (f"application/json, {NEW};q=0.5", "application/json"),
        (f"{NEW};q=0", "application/json"),
    ],
)
def test_accept_negotiation(accept: str, media: str) -> None:
    assert negotiate(accept) == media


def test_post_bodies_must_be_json(gateway: Stack) -> None:
    response = gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        content=OK_QUERY,
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415


def _gateway(stack: Stack, serve: Callable[[ASGIApp], str], **server: object) -> str:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, **server), providers=base.providers)  # type: ignore[arg-type]
    return serve(create_app(settings))


def test_bodies_over_the_limit_are_413(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(stack, serve, max_body_bytes=200)
    padded = {"query": OK_QUERY + " " * 300}
    response = httpx.post(f"{url}/graphql", json=padded)
    assert response.status_code == 413
    small = httpx.post(f"{url}/graphql", json={"query": OK_QUERY})
    assert small.status_code == 200


def test_chunked_bodies_over_the_limit_are_413(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(stack, serve, max_body_bytes=200)

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "' + b" " * 150
        yield b" " * 150 + b'{ providers { provider } }"}'

    response = httpx.post(
        f"{url}/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_request_ids_are_echoed_made_up_and_sent_upstream(gateway: Stack) -> None:
    given = gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        json={"query": "{ meetings(first: 1, filter: {providers: [DAILY]}) { totalCount } }"},
        headers={"X-Request-ID": "trace-abc.123"},
    )
    assert given.headers["x-request-id"] == "trace-abc.123"
    stats = gateway.http.get(f"{gateway.provider_url('daily')}/_sim/stats").json()
    assert stats["endpoints"]["GET /meetings"]["last_request_id"] == "trace-abc.123"
    made = gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        json={"query": OK_QUERY},
        headers={"X-Request-ID": "not ok; <script>"},
    )
    assert len(made.headers["x-request-id"]) == 32


def test_introspection_and_graphiql_can_be_turned_off(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(stack, serve, introspection=False, graphiql=False)
    answer = httpx.post(f"{url}/graphql", json={"query": "{ __schema { types { name } } }"}).json()
    assert "introspection" in answer["errors"][0]["message"].lower()
    assert httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}).status_code == 404
    assert httpx.post(f"{url}/graphql", json={"query": OK_QUERY}).status_code == 200


def test_cors_allows_only_listed_origins(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(stack, serve, cors_origins=("https://app.example.com",))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = httpx.options(
        f"{url}/graphql", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    refused = httpx.options(
        f"{url}/graphql", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


def test_no_cors_headers_by_default(gateway: Stack) -> None:
    response = gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        json={"query": OK_QUERY},
        headers={"Origin": "https://app.example.com"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_page_size_and_cost_limits_are_configurable(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(stack, serve, max_page_size=10, max_cost=50)
    too_big = httpx.post(f"{url}/graphql", json={"query": "{ meetings(first: 11) { totalCount } }"})
    assert "at most 10" in too_big.json()["errors"][0]["message"]
    costly = httpx.post(
        f"{url}/graphql",
        json={"query": COSTLY},
    ).json()
    assert costly["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    assert "exceeds the limit of 50" in costly["errors"][0]["message"]


def test_too_many_tokens_is_query_too_complex(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(stack, serve, max_tokens=20)
    query = "{ " + " ".join(f"a{i}: providers {{ provider }}" for i in range(10)) + " }"
    answer = httpx.post(f"{url}/graphql", json={"query": query}).json()
    assert answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}


def _raw_post(
    gateway: Stack, body: bytes, accept: str, content_type: str = "application/json"
) -> httpx.Response:
    return gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        content=body,
        headers={"Accept": accept, "Content-Type": content_type},
    )


NAMED = b'"query": "query A { providers { provider } }"'
MALFORMED = {
    "not-json": b'{"query": ',
    "array-of-scalars": b"[1, 2]",
    "empty-array": b"[]",
    "scalar": b"42",
    "null": b"null",
    "not-utf-8": b'{"query": "{ providers { provider } }", "operationName": "\xff"}',
    "object-operation-name": b"{" + NAMED + b', "operationName": {}}',
    "array-operation-name": b"{" + NAMED + b', "operationName": ["A"]}',
    "number-operation-name": b"{" + NAMED + b', "operationName": 1}',
    "boolean-operation-name": b"{" + NAMED + b', "operationName": true}',
    "no-query": b'{"variables": {}}',
    "variables-not-an-object": b'{"query": "{ providers { provider } }", "variables": [1]}',
    "document-id-not-a-string": b'{"documentId": 7}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_are_400_with_a_graphql_error_body(gateway: Stack, body: bytes) -> None:
    response = _raw_post(gateway, body, NEW)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(NEW)
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_classic_json_clients_get_malformed_requests_refused_with_400_too(
    gateway: Stack, body: bytes
) -> None:
    response = _raw_post(gateway, body, "application/json")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


UNDETERMINED = {
    "unknown-operation-name": b"{" + NAMED + b', "operationName": "B"}',
    "several-operations-no-name": (
        b'{"query": "query A { providers { provider } } query B { providers { provider } }"}'
    ),
    "no-operation": b'{"query": "fragment F on Query { providers { provider } }"}',
}


@pytest.mark.parametrize("body", UNDETERMINED.values(), ids=UNDETERMINED.keys())
def test_an_operation_that_cannot_be_determined_is_refused_like_a_validation_error(
    gateway: Stack, body: bytes
) -> None:
    new = _raw_post(gateway, body, NEW)
    assert new.status_code == 400
    assert "data" not in new.json()
    assert new.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    classic = _raw_post(gateway, body, "application/json")
    assert classic.status_code == 200
    assert classic.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_several_operations_need_an_operation_name(gateway: Stack) -> None:
    two = "query A { meetings(first: 1) { totalCount } } query B { providers { provider } }"
    refused = _post(gateway, {"query": two})
    assert refused.status_code == 400
    assert "operationName" in refused.json()["errors"][0]["message"]
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 0
    chosen = _post(gateway, {"query": two, "operationName": "B"})
    assert chosen.status_code == 200
    assert len(chosen.json()["data"]["providers"]) == 4


def test_a_mutation_named_in_a_get_is_405_even_after_a_query(gateway: Stack) -> None:
    document = (
        "query A { providers { provider } } "
        'mutation B { bookMeeting(input: {slug: "x", firstName: "a", lastName: "b", '
        'email: "a@b.co", startTime: "2030-01-01T00:00:00Z", durationMinutes: 30, '
        'timezone: "UTC"}) { booking { start } } }'
    )
    response = gateway.http.get(
        f"{gateway.gateway_url}/graphql", params={"query": document, "operationName": "B"}
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["message"] == "Mutations must be sent with POST."


def test_get_with_variables_that_are_not_json_is_a_graphql_error(gateway: Stack) -> None:
    response = gateway.http.get(
        f"{gateway.gateway_url}/graphql",
        params={"query": OK_QUERY, "variables": "{nope"},
        headers={"Accept": NEW},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(NEW)
    assert response.json()["errors"][0]["message"] == "`variables` is not valid JSON."


def test_refusals_with_other_statuses_are_json_in_the_negotiated_type(gateway: Stack) -> None:
    response = _raw_post(gateway, OK_QUERY.encode(), NEW, content_type="text/plain")
    assert response.status_code == 415
    assert response.headers["content-type"].startswith(NEW)
    assert response.json()["errors"][0]["message"] == "POST bodies must be application/json."


def test_media_types_are_case_insensitive(gateway: Stack) -> None:
    body = b'{"query": "{ providers { provider } }"}'
    response = _raw_post(
        gateway, body, "APPLICATION/GRAPHQL-RESPONSE+JSON", content_type="APPLICATION/JSON"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(NEW)
    assert len(response.json()["data"]["providers"]) == 4
