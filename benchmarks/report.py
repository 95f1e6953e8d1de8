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
    #: True met, False missed, None not measured (the reason is in ``measured``).
    met: bool | None
    #: Why it was missed, in one line (None when met).
    reason: str | None = None
    #: The measured figure over the goal's: an "at least" goal is met at >= 1, an
    #: "at most" goal at <= 1 (``at_most`` says which). None when there is no figure.
    ratio: float | None = None
    at_most: bool = False


@dataclass(frozen=True)
class GrowthRow:
    """One cost-growth measurement: the merged page from a start time, at one data size."""

    size: int
    #: "cold" (a fresh gateway), "warm, same" (that query again), "warm, next day" (a
    #: later start, the cache filled by the cold query).
    case: str
    latency_ms: float
    #: Upstream requests per list provider (simulator counters), by provider name.
    calls: dict[str, int]


@dataclass(frozen=True)
class Timing:
    """How long one part of the run took."""

    label: str
    seconds: float


@dataclass
class Report:
    """Everything one run produced."""

    machine: dict[str, str | int]
    settings: dict[str, Any]
    phases: list[Phase] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    growth: list[GrowthRow] = field(default_factory=list)
    #: Simulator start-up per data size: seconds to generate and serve, and its RSS in MiB.
    growth_setup: dict[int, tuple[float, float | None]] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    runtime_s: float = 0.0

    def phase(self, key: str) -> Phase:
        """The phase with ``key`` (KeyError when it did not run)."""
        for phase in self.phases:
            if phase.key == key:
                return phase
        raise KeyError(key)


_COLUMNS = (
    ("query", "<", 40),
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


def format_growth(report: Report) -> str:
    """The cost-growth table: upstream calls per provider and latency at each data size."""
    providers = sorted({name for row in report.growth for name in row.calls})
    head = f"{'size':>7}  {'case':<15}{'latency ms':>11}  " + "  ".join(
        f"{name[:18]:>18}" for name in providers
    )
    lines = [head]
    for row in report.growth:
        cells = "  ".join(f"{row.calls.get(name, 0):>18}" for name in providers)
        lines.append(f"{row.size:>7}  {row.case:<15}{row.latency_ms:>11.1f}  {cells}")
    for size, (seconds, rss) in sorted(report.growth_setup.items()):
        lines.append(
            f"  simulators at {size}: started in {seconds:.1f} s, RSS {_number(rss, 0)} MiB"
        )
    return "\n".join(lines)


def format_target(target: Target) -> list[str]:
    """One judged target: verdict, goal, figure, ratio to the goal, and why when missed."""
    verdict = {True: "met   ", False: "MISSED", None: "n/a   "}[target.met]
    ratio = ""
    if target.ratio is not None:
        need = "<=" if target.at_most else ">="
        ratio = f"; ratio to goal {target.ratio:.2f} (met at {need} 1)"
    lines = [f"  [{verdict}] {target.label}: {target.measured}{ratio}"]
    if target.reason:
        lines.append(f"           why: {target.reason}")
    return lines


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
    if report.growth:
        out.append(
            "COST GROWTH: merged meetings(first:20, startsAfter), cold and warm, upstream "
            "calls per provider"
        )
        out += [format_growth(report), ""]
    if report.targets:
        out.append("targets (issue 15):")
        for target in report.targets:
            out += format_target(target)
        out.append("")
    out += [f"note: {note}" for note in report.notes]
    if report.timings:
        out.append("phases: " + ", ".join(f"{t.label} {t.seconds:.0f} s" for t in report.timings))
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
