"""Issue 15's targets judged on a run's figures, and how a verdict is printed."""

from __future__ import annotations

import pytest

from benchmarks import targets
from benchmarks.report import GrowthRow, Row, Target, format_target


def row(requests_per_s: float, gateway_cpu_percent: float, errors: int = 0) -> Row:
    return Row(
        key="daily_sessions",
        label="Daily 20 sessions + participants",
        concurrency=50,
        requests=int(requests_per_s * 4),
        errors=errors,
        requests_per_s=requests_per_s,
        p50_ms=10.0,
        p95_ms=20.0,
        p99_ms=30.0,
        upstream_per_request=1.0,
        gateway_peak_rss_mb=80.0,
        cpu_percent={"gateway": gateway_cpu_percent, "other": 0.0},
        error_sample="HTTP 500: boom" if errors else None,
    )


def growth_rows() -> list[GrowthRow]:
    calls = {"heypeers": 1, "thoughtindustries": 8, "daily": 1}
    return [
        GrowthRow(1000, "cold", 50.0, calls),
        GrowthRow(1000, "warm, same", 5.0, {"heypeers": 0, "thoughtindustries": 0, "daily": 0}),
        GrowthRow(1000, "warm, next day", 8.0, {"heypeers": 1, "thoughtindustries": 0, "daily": 1}),
    ]


def test_the_peer_ratio_is_our_cpu_per_request_over_the_peers() -> None:
    # 100% of a core at 200 req/s is 5 ms a request; 100% at 500 req/s is 2 ms.
    judged = targets.peer_cpu(row(200, 100), row(500, 100), "cache on")
    assert judged.met is False
    assert judged.ratio == pytest.approx(2.5)
    assert judged.at_most


def test_the_peer_target_is_met_at_equal_cost() -> None:
    assert targets.peer_cpu(row(500, 100), row(500, 100), "cache off").met


def test_failed_requests_leave_the_peer_target_unmeasured_as_missed() -> None:
    judged = targets.peer_cpu(row(500, 100, errors=3), row(500, 100), "cache on")
    assert judged.met is False
    assert judged.reason == "HTTP 500: boom"


def test_throughput_ratio_is_measured_over_the_goal() -> None:
    judged = targets.throughput(row(150, 100), 300.0, "merged")
    assert (judged.met, judged.ratio) == (False, 0.5)


def test_cold_growth_is_judged_on_the_provider_with_most_calls() -> None:
    cold, warm = targets.growth(growth_rows(), 1000)
    assert cold.met is False
    assert "8 (thoughtindustries)" in cold.measured
    assert cold.ratio == pytest.approx(8 / 3)
    assert cold.reason is not None and "Next:" in cold.reason
    assert warm.met is True


def test_the_repeated_query_is_shown_but_not_judged() -> None:
    judged = targets.growth(growth_rows(), 1000)
    assert [t.label.split(", ")[1].split(":")[0] for t in judged] == ["cold", "warm"]


def test_a_size_that_was_not_measured_has_no_growth_targets() -> None:
    assert targets.growth(growth_rows(), 10_000) == []


def test_a_verdict_prints_its_ratio_and_which_side_meets_the_goal() -> None:
    lines = format_target(Target("RSS < 150 MB", "peak 90 MB", True, None, 0.6, at_most=True))
    assert lines == ["  [met   ] RSS < 150 MB: peak 90 MB; ratio to goal 0.60 (met at <= 1)"]


def test_an_unmeasured_target_says_so_instead_of_met_or_missed() -> None:
    lines = format_target(Target("Daily vs Hive", "not measured: no Node.js", None))
    assert lines == ["  [n/a   ] Daily vs Hive: not measured: no Node.js"]


def test_a_missed_overhead_splits_the_time_between_answering_three_and_the_gateway() -> None:
    # 65 ms through the gateway; 52 ms for the slowest call alone, 57 for all three at once.
    judged = targets.overhead(65.0, 52.0, 57.0, "cache off")
    assert judged.met is False
    assert judged.ratio == pytest.approx(65 / 52 / targets.OVERHEAD_LIMIT)
    assert judged.reason is not None
    assert "5.0 ms until all three answers are in" in judged.reason
    assert "8.0 ms the gateway's own work" in judged.reason
    assert "Next:" in judged.reason
