"""Fuzzing the running gateway: generated queries and garbage never earn a 5xx.

At least 1,000 schema-valid queries (hypothesis-graphql) plus malformed documents,
variables, cursors and bodies go to the gateway over HTTP. None may produce a 5xx,
an unmasked exception (a traceback, or a masked ``INTERNAL_SERVER_ERROR``, which
would mean a bug), or a hang (every request has a 10 s timeout).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from meetingmesh.schema import print_schema
from tests.conftest import Stack, known_secrets

SCHEMA = print_schema()


def fuzz(examples: int) -> settings:
    """Settings for a fuzz test: ``examples`` cases, no per-case deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: nodes.String(d.isoformat()))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        body: Any = response.json()
        for error in body.get("errors") or () if isinstance(body, dict) else ():
            code = (error.get("extensions") or {}).get("code")
            assert code != "INTERNAL_SERVER_ERROR", error


def _no_secret(sent: str | bytes) -> None:
    """Skip an input that carries a configured token itself.

    Hypothesis draws strings from the project's own literals, tokens included; an error
    that quotes such an input back would trip the suite's leak check without any leak.
    """
    text = sent.decode("utf-8", "replace") if isinstance(sent, bytes) else sent
    assume(not any(secret in text for secret in known_secrets()))


def _post(gateway: Stack, body: Any) -> httpx.Response:
    _no_secret(repr(body))
    return gateway.http.post(f"{gateway.gateway_url}/graphql", json=body, timeout=10)


@fuzz(1000)
@given(query=queries(SCHEMA, custom_scalars={"DateTime": DATETIMES}))
def test_generated_queries_never_fail_the_server(gateway: Stack, query: str) -> None:
    response = _post(gateway, {"query": query})
    _check(response)
    assert response.status_code == 200


@fuzz(300)
@given(document=st.text(max_size=300))
def test_malformed_documents_are_refused_cleanly(gateway: Stack, document: str) -> None:
    _check(_post(gateway, {"query": document}))


@fuzz(200)
@given(variables=JSON, operation=st.none() | st.text(max_size=20))
def test_malformed_variables_are_refused_cleanly(
    gateway: Stack, variables: Any, operation: str | None
) -> None:
    query = (
        "query Q($first: Int, $after: String, $filter: MeetingFilter) "
        "{ meetings(first: $first, after: $after, filter: $filter) { totalCount } }"
    )
    _check(_post(gateway, {"query": query, "variables": variables, "operationName": operation}))


@fuzz(200)
@given(cursor=st.text(max_size=200) | st.binary(max_size=120).map(lambda b: b.hex()))
def test_malformed_cursors_are_bad_user_input(gateway: Stack, cursor: str) -> None:
    query = "query($c: String) { meetings(first: 3, after: $c) { totalCount } }"
    response = _post(gateway, {"query": query, "variables": {"c": cursor}})
    _check(response)
    errors = response.json().get("errors") or []
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors)


@fuzz(200)
@given(body=st.binary(max_size=300))
def test_malformed_bodies_are_refused_cleanly(gateway: Stack, body: bytes) -> None:
    _no_secret(body)
    response = gateway.http.post(
        f"{gateway.gateway_url}/graphql",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    _check(response)
