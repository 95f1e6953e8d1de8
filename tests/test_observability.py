"""Observability: Prometheus metrics after known traffic, traces, logs, Cache-Control."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import orjson
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.logs import JsonFormatter, RequestIdFilter, TextFormatter
from meetingmesh.redaction import register
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import SECRETS, Stack

DAILY_PAGE = "query Sessions { meetings(first: 5, filter: {providers: [DAILY]}) { totalCount } }"
TWO_PROVIDERS = (
    "{ meetings(first: 5, filter: {providers: [DAILY, THOUGHT_INDUSTRIES]}) { totalCount } }"
)
SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)


def _fresh(stack: Stack, serve: Callable[[ASGIApp], str], **server: object) -> str:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, **server), providers=base.providers)  # type: ignore[arg-type]
    return serve(create_app(settings, clock=Clock().now))


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_known_traffic(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _fresh(stack, serve)
    for _ in range(3):
        httpx.post(f"{url}/graphql", json={"query": DAILY_PAGE})
    httpx.post(f"{url}/graphql", json={"query": "{ nosuchfield }"})
    samples = _samples(url)
    assert (
        samples[
            (
                "meetingmesh_graphql_requests_total",
                (("operation", "Sessions"), ("outcome", "success")),
            )
        ]
        == 3
    )
    assert (
        samples[
            (
                "meetingmesh_graphql_requests_total",
                (("operation", "anonymous"), ("outcome", "error")),
            )
        ]
        == 1
    )
    assert samples[("meetingmesh_graphql_request_seconds_count", (("operation", "Sessions"),))] == 3
    upstream = (("endpoint", "GET /meetings"), ("provider", "DAILY"), ("status", "200"))
    assert samples[("meetingmesh_upstream_requests_total", upstream)] == 1  # then the cache
    assert (
        samples[("meetingmesh_upstream_cache_total", (("provider", "DAILY"), ("result", "hit")))]
        == 2
    )
    assert (
        samples[("meetingmesh_upstream_cache_total", (("provider", "DAILY"), ("result", "miss")))]
        == 1
    )
    latency = (("endpoint", "GET /meetings"), ("provider", "DAILY"))
    assert samples[("meetingmesh_upstream_request_seconds_count", latency)] == 1


def test_only_operations_that_ran_are_labelled(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _fresh(stack, serve)
    for i in range(50):
        # 100 junk names: names the document does not hold, named documents that never run.
        httpx.post(f"{url}/graphql", json={"query": DAILY_PAGE, "operationName": f"junk{i}"})
        httpx.post(f"{url}/graphql", json={"query": f"query Junk{i} {{ nosuchfield }}"})
    httpx.post(f"{url}/graphql", json={"query": DAILY_PAGE, "operationName": "Sessions"})
    labels = {
        dict(labels)["operation"]
        for (name, labels), _ in _samples(url).items()
        if name == "meetingmesh_graphql_requests_total"
    }
    assert labels == {"Sessions", "anonymous"}


def test_metrics_show_retries_and_the_circuit(
    stack: Stack, serve: Callable[[ASGIApp], str], gateway: Stack
) -> None:
    settings = gateway_settings(
        stack.sim_url, retries=1, breaker_threshold=2, breaker_cooldown=60, cache_ttl=0
    )
    url = serve(create_app(settings, clock=Clock().now))
    gateway.fault("daily", error_rate=1, error_status=503)
    httpx.post(f"{url}/graphql", json={"query": DAILY_PAGE})
    samples = _samples(url)
    assert samples[("meetingmesh_upstream_retries_total", (("provider", "DAILY"),))] == 1
    failed = (("endpoint", "GET /meetings"), ("provider", "DAILY"), ("status", "503"))
    assert samples[("meetingmesh_upstream_requests_total", failed)] == 2
    assert samples[("meetingmesh_circuit_open", (("provider", "DAILY"),))] == 1.0
    assert samples[("meetingmesh_circuit_open", (("provider", "HEYPEERS"),))] == 0.0


def test_one_span_per_upstream_call(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _fresh(stack, serve, tracing=True)
    SPANS.clear()
    httpx.post(
        f"{url}/graphql",
        json={"query": TWO_PROVIDERS},
    )
    names = sorted(span.name for span in SPANS.get_finished_spans())
    assert names == ["DAILY GET /meetings", "THOUGHT_INDUSTRIES GET /incoming/v2/meetings"]
    span = SPANS.get_finished_spans()[0]
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == "200"


def test_no_spans_when_tracing_is_off(gateway: Stack) -> None:
    SPANS.clear()
    gateway.query(DAILY_PAGE)
    assert SPANS.get_finished_spans() == ()


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord(
        "meetingmesh.graphql", logging.WARNING, __file__, 1, "x %s", ("y",), None
    )
    RequestIdFilter().filter(record)
    line = orjson.loads(JsonFormatter().format(record))
    assert line["message"] == "x y"
    assert line["level"] == "WARNING"
    assert line["logger"] == "meetingmesh.graphql"
    assert line["request_id"] == "-"


def test_error_free_queries_may_be_cached_privately(gateway: Stack) -> None:
    cached = gateway.post(DAILY_PAGE).headers
    assert cached["cache-control"] == "private, max-age=10"
    assert cached["vary"] == "Accept, Authorization"
    assert gateway.post("{ nosuchfield }").headers["cache-control"] == "no-store"
    gateway.fault("daily", error_rate=1, error_status=500)
    assert (
        gateway.post("{ meetings(first: 3, filter: {providers: [DAILY]}) { totalCount } }").headers[
            "cache-control"
        ]
        == "no-store"
    )


@pytest.mark.parametrize(
    "selection",
    ['availability(timezone: "UTC") { start }', 'bookingInfo(timezone: "UTC") { linkId }'],
    ids=["availability", "bookingInfo"],
)
def test_answers_with_bookable_slots_are_never_cached(gateway: Stack, selection: str) -> None:
    # A booking takes a slot at once: a reused answer would show it free.
    query = (
        "query { ...Slots } fragment Slots on Query "
        f'{{ schedulingLink(slug: "menelson") {{ {selection} }} }}'
    )
    response = gateway.post(query)
    assert "errors" not in response.json()
    assert response.headers["cache-control"] == "no-store"


def test_mutations_are_never_cached(gateway: Stack) -> None:
    response = gateway.post(
        'mutation { bookMeeting(input: {slug: "nope", firstName: "A", lastName: "B", '
        'email: "a@example.com", startTime: "2026-06-01T14:00:00Z", durationMinutes: 30, '
        'timezone: "UTC"}) { booking { start } } }'
    )
    assert response.headers["cache-control"] == "no-store"


FORGED = "nope\n2030-01-01 00:00:00,000 ERROR meetingmesh.graphql [-] forged line"
#: HubSpot repeats the name of a form field its page does not have in its refusal, which
#: the gateway returns and logs as it is.
BOOK_UNKNOWN_FIELD = (
    "mutation($s: String!, $start: DateTime!, $minutes: Int!) { bookMeeting(input: {"
    'slug: "menelson", firstName: "A", lastName: "B", email: "a@example.com", '
    'startTime: $start, durationMinutes: $minutes, timezone: "UTC", '
    'formFields: [{name: $s, value: "x"}]}) { booking { start } } }'
)


def _book_with_a_forged_field_name(gateway: Stack) -> httpx.Response:
    """A booking of a slot the page offers, refused only for its unknown form field."""
    slots = gateway.data(
        '{ schedulingLink(slug: "menelson") { availability(timezone: "UTC") '
        "{ start durationMinutes } } }"
    )["schedulingLink"]["availability"]
    slot = {"start": slots[0]["start"], "minutes": slots[0]["durationMinutes"]}
    return gateway.post(BOOK_UNKNOWN_FIELD, {"s": FORGED, **slot})


@contextmanager
def _written(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    """What the gateway's loggers write through ``formatter`` meanwhile."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger("meetingmesh")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_text_logs_escape_client_text_so_it_cannot_forge_a_line(gateway: Stack) -> None:
    with _written(TextFormatter()) as written:
        answer = _book_with_a_forged_field_name(gateway)
    assert FORGED in answer.json()["errors"][0]["message"]  # HubSpot's text, as it was
    lines = written.getvalue().splitlines()
    assert lines
    assert not any(line.startswith("2030-01-01") for line in lines), lines
    assert any("form field 'nope\\n2030-01-01 00:00:00,000 ERROR" in line for line in lines)


def test_json_logs_keep_client_text_inside_one_object(gateway: Stack) -> None:
    with _written(JsonFormatter()) as written:
        _book_with_a_forged_field_name(gateway)
    lines = written.getvalue().splitlines()
    assert lines
    messages = [orjson.loads(line)["message"] for line in lines]
    assert any(FORGED in message for message in messages), messages


def test_text_tracebacks_are_indented_and_escaped() -> None:
    try:
        raise ValueError("bad\r\n2030-01-01 00:00:00,000 ERROR x [-] forged")
    except ValueError:
        failure = sys.exc_info()
    record = logging.LogRecord(
        "meetingmesh.graphql", logging.ERROR, __file__, 1, "id %s", ("a\x1b[2Jb",), failure
    )
    RequestIdFilter().filter(record)
    head, *traceback = TextFormatter().format(record).split("\n")
    assert head.endswith("[-] id a\\x1b[2Jb")
    assert traceback and all(line.startswith("    | ") for line in traceback)
    assert traceback[-2:] == [
        "    | ValueError: bad\\r",
        "    | 2030-01-01 00:00:00,000 ERROR x [-] forged",
    ]


def test_metrics_can_move_to_a_port_of_their_own(
    stack: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=replace(base.server, metrics_port=9464), providers=base.providers)
    app = create_app(settings, clock=Clock().now)
    url = serve(app)
    metrics_url = serve(app.state.metrics_app)
    httpx.post(f"{url}/graphql", json={"query": DAILY_PAGE})
    assert httpx.get(f"{url}/metrics").status_code == 404
    sample = (
        "meetingmesh_graphql_requests_total",
        (("operation", "Sessions"), ("outcome", "success")),
    )
    assert _samples(metrics_url)[sample] == 1


#: The key ``/metrics`` requires below, known to the leak check from collection on.
METRICS_KEY = "metrics-key-7d2e90"
SECRETS.add(METRICS_KEY)


def test_metrics_can_require_a_key(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _fresh(stack, serve, metrics_api_keys=(METRICS_KEY,))
    refused = httpx.get(f"{url}/metrics")
    assert refused.status_code == 401
    assert "meetingmesh_" not in refused.text
    allowed = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"})
    assert allowed.status_code == 200
    assert "meetingmesh_graphql_requests_total" in allowed.text


def test_json_logs_redact_a_secret_that_json_would_escape() -> None:
    secret = 'se"cret\\with-escapes-7f3a'
    register(secret)
    record = logging.LogRecord(
        "meetingmesh.graphql", logging.WARNING, __file__, 1, "token %s", (secret,), None
    )
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert secret not in line and orjson.dumps(secret).decode()[1:-1] not in line
    assert orjson.loads(line)["message"].startswith("token ")
