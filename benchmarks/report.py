"""The figures of one run: plain records, the printed tables and the JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One scenario: a query (or direct call) at one concurrency for a few seconds."""

    key: str
    label: str
    concurrency: int
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    #: Upstream requests per answered request (simulator counters), None when not counted.
    upstream_per_request: float | None
    #: The gateway's peak RSS during this scenario (VmHWM), None when no gateway is involved.
    gateway_peak_rss_mb: float | None
    #: CPU used during the measured phase, in % of one core: "gateway", "simulators",
    #: "client" (the load driver) and "other" (everything else running on the machine).
    cpu_percent: dict[str, float | None] = field(default_factory=dict)
    error_sample: str | None = None

    @property
    def gateway_cpu_ms(self) -> float | None:
        """Gateway CPU milliseconds per answered request.

        Unlike requests/s, this barely moves when other processes compete for the CPUs,
        so it is the figure to compare between runs on a busy machine.
        """
        cpu = self.cpu_percent.get("gateway")
        if cpu is None or not self.requests_per_s:
            return None
        return cpu * 10 / self.requests_per_s


@dataclass(frozen=True)
class Phase:
    """Rows measured under the same settings, printed under one heading."""

    key: str
    title: str
    rows: list[Row]

    def row(self, key: str, concurrency: int) -> Row:
        """The row of ``key`` at ``concurrency`` (KeyError when this phase has none)."""
        for row in self.rows:
            if row.key == key and row.concurrency == concurrency:
                return row
        raise KeyError(f"{key} at {concurrency} clients")


@dataclass(frozen=True)
class Comparison:
    """A ratio of two figures measured in the same run."""

    key: str
    label: str
    ratio: float
    detail: str


@dataclass(frozen=True)
class Target:
    """A goal, the figure it is judged on, and an honest verdict."""

    label: str
    measured: str
    met: bool
    #: Why it was missed, in one line (None when met).
    reason: str | None = None


@dataclass
class Report:
    """Everything one run produced."""

    machine: dict[str, str | int]
    settings: dict[str, Any]
    phases: list[Phase] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runtime_s: float = 0.0

    def phase(self, key: str) -> Phase:
        """The phase with ``key`` (KeyError when it did not run)."""
        for phase in self.phases:
            if phase.key == key:
                return phase
        raise KeyError(key)


_COLUMNS = (
    ("query", "<", 32),
    ("conc", ">", 4),
    ("req/s", ">", 7),
    ("p50 ms", ">", 7),
    ("p95 ms", ">", 7),
    ("p99 ms", ">", 7),
    ("up/req", ">", 6),
    ("err", ">", 4),
    ("RSS MB", ">", 6),
    ("gw CPU ms/req", ">", 13),
    ("CPU% gw/sim/cli/other", ">", 21),
)


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cpu(row: Row) -> str:
    parts = [row.cpu_percent.get(k) for k in ("gateway", "simulators", "client", "other")]
    return "/".join("-" if p is None else f"{p:.0f}" for p in parts)


def _line(cells: Sequence[str]) -> str:
    return "  ".join(
        f"{cell:{align}{width}}" for cell, (_, align, width) in zip(cells, _COLUMNS, strict=True)
    )


def format_phase(phase: Phase) -> str:
    """One phase as a fixed-width table under its title."""
    lines = [phase.title, _line([name for name, _, _ in _COLUMNS])]
    for row in phase.rows:
        lines.append(
            _line(
                [
                    row.label,
                    str(row.concurrency),
                    _number(row.requests_per_s),
                    _number(row.p50_ms),
                    _number(row.p95_ms),
                    _number(row.p99_ms),
                    _number(row.upstream_per_request, 2),
                    str(row.errors),
                    _number(row.gateway_peak_rss_mb),
                    _number(row.gateway_cpu_ms, 2),
                    _cpu(row),
                ]
            )
        )
        if row.error_sample:
            lines.append(f"    first error: {row.error_sample}")
    return "\n".join(lines)


def format_report(report: Report) -> str:
    """The whole run as printed by ``make bench``."""
    m = report.machine
    s = report.settings
    out = [
        f"machine: {m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}, {m['platform']}",
        f"simulators: --size {s['size']} --seed {s['seed']} (one process, all four providers); "
        f"{s['duration_s']} s measured after {s['warmup_s']} s warm-up per row; "
        "one gateway process (one uvicorn worker)",
        "columns: up/req = upstream requests per answered request (simulator counters); "
        "RSS = gateway peak RSS (VmHWM) during the row; gw CPU ms/req = gateway CPU time "
        "per answered request; CPU% = % of one core over the measured phase for gateway / "
        "simulators / load client / other processes",
        "",
    ]
    for phase in report.phases:
        out += [format_phase(phase), ""]
    if report.comparisons:
        out.append("comparisons (same run):")
        out += [f"  {c.label}: {c.ratio:.2f}x  ({c.detail})" for c in report.comparisons]
        out.append("")
    if report.targets:
        out.append("targets:")
        for target in report.targets:
            verdict = "met   " if target.met else "MISSED"
            out.append(f"  [{verdict}] {target.label}: {target.measured}")
            if target.reason:
                out.append(f"           why: {target.reason}")
        out.append("")
    out += [f"note: {note}" for note in report.notes]
    out.append(f"runtime: {report.runtime_s:.0f} s")
    return "\n".join(out)


def as_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready object (derived figures included)."""
    data = asdict(report)
    for phase_data, phase in zip(data["phases"], report.phases, strict=True):
        for row_data, row in zip(phase_data["rows"], phase.rows, strict=True):
            row_data["gateway_cpu_ms_per_request"] = row.gateway_cpu_ms
    return data


def write_json(report: Report, path: Path) -> None:
    """Write the report as JSON (creating the folder; benchmarks/results is gitignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_json(report), indent=2) + "\n", encoding="utf-8")
