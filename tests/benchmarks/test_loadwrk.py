"""wrk's command line and the figures its Lua script prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import loadwrk


def wrk_line(**overrides: object) -> str:
    data = {
        "requests": 1000,
        "duration_us": 4_000_000,
        "failures": 3,
        "socket_errors": 1,
        "timeouts": 1,
        "p50_us": 2500,
        "p95_us": 9000,
        "p99_us": 12000,
        "mean_us": 3100.5,
        "sample": "HTTP 502: bad gateway",
    }
    data.update(overrides)
    return json.dumps(data)


def test_figures_are_read_from_the_last_json_line() -> None:
    output = "Running 4s test @ http://127.0.0.1:1/graphql\n" + wrk_line() + "\n"
    figures = loadwrk.parse_output(output)
    assert figures.seconds == 4.0
    assert (figures.p50_ms, figures.p95_ms, figures.p99_ms) == (2.5, 9.0, 12.0)
    assert figures.sample == "HTTP 502: bad gateway"


def test_requests_without_an_answer_count_as_failed_requests() -> None:
    figures = loadwrk.parse_output(wrk_line())
    # 1000 answers (3 of them failures) plus a socket error and a timeout.
    assert (figures.requests, figures.failures) == (1002, 5)


def test_a_run_without_answers_has_no_latency() -> None:
    figures = loadwrk.parse_output(wrk_line(requests=0, p50_us=99999, sample=""))
    assert figures.p50_ms == 0.0
    assert figures.sample is None


def test_output_without_figures_is_an_error() -> None:
    with pytest.raises(ValueError, match="no JSON line"):
        loadwrk.parse_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_command_posts_the_body_file_with_its_content_type() -> None:
    argv = loadwrk.command(
        "/usr/bin/wrk",
        "http://127.0.0.1:8000/graphql",
        method="POST",
        headers={"authorization": "Bearer x"},
        body_file=Path("/tmp/body.json"),
        graphql=True,
        connections=50,
        seconds=4.0,
    )
    assert argv[:7] == ["/usr/bin/wrk", "-t", "1", "-c", "50", "-d", "4s"]
    assert argv[argv.index("Content-Type: application/json") - 1] == "-H"
    assert argv[-5:] == ["http://127.0.0.1:8000/graphql", "--", "POST", "/tmp/body.json", "1"]


def test_the_command_runs_at_least_one_whole_second() -> None:
    argv = loadwrk.command(
        "wrk",
        "http://127.0.0.1:8000/x",
        method="GET",
        headers={},
        body_file=None,
        graphql=False,
        connections=1,
        seconds=0.4,
    )
    assert argv[argv.index("-d") + 1] == "1s"
    assert argv[-3:] == ["GET", "-", "0"]
