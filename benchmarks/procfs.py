"""What Linux's ``/proc`` says about a process: peak and current RSS, CPU time, the machine.

Read directly rather than through psutil so the harness needs nothing beyond the
project's own dependencies. Every reader degrades to ``None`` where ``/proc`` is missing
(another OS) or the process is gone, so a figure goes blank instead of the run failing.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

#: Kernel clock ticks per second, the unit of utime/stime in ``/proc/<pid>/stat``.
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _status_kb(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (``VmHWM``) in MiB, or None when unknown."""
    kb = _status_kb(pid, "VmHWM")
    return None if kb is None else kb / 1024


def rss_mb(pid: int) -> float | None:
    """The process's current resident set size (``VmRSS``) in MiB, or None when unknown."""
    kb = _status_kb(pid, "VmRSS")
    return None if kb is None else kb / 1024


def reset_peak_rss(pid: int) -> bool:
    """Restart ``VmHWM`` from the current RSS, so the next peak belongs to one scenario.

    Writing 5 to ``clear_refs`` does exactly that (Linux >= 4.0). False when the kernel
    or permissions refuse: the peak then covers the process's whole life so far.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds the process has used so far, or None when unknown."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    return text[text.rindex(")") + 2 :].split()


def group_pids(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (empty when ``/proc`` is missing).

    The harness starts every server as a group leader, so a server that forks workers
    (uvicorn ``--workers``, Node's cluster) is measured whole through its group.
    """
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    pids = []
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        # pgrp is field 5 of the whole line, 3 after the name.
        if fields is not None and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def group_cpu_seconds(pgid: int) -> float | None:
    """User plus system CPU seconds of every live process in group ``pgid``, or None.

    Children the leader has reaped add their time to its own cutime/cstime; those are
    counted too, so a worker that exits during a phase does not lose its CPU.
    """
    total = None
    for pid in group_pids(pgid):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of the whole line, 12-15 after the name.
        ticks = sum(int(v) for v in fields[11:15])
        total = (total or 0.0) + ticks / _TICKS
    return total


def group_rss_mb(pgid: int) -> float | None:
    """Summed current RSS (``VmRSS``) of group ``pgid``'s processes in MiB, or None."""
    sizes = [rss_mb(pid) for pid in group_pids(pgid)]
    known = [s for s in sizes if s is not None]
    return sum(known) if known else None


def group_peak_rss_mb(pgid: int) -> float | None:
    """Summed peak RSS (``VmHWM``) of group ``pgid``'s processes in MiB, or None.

    An upper bound of the group's peak: each process's own peak, added up.
    """
    sizes = [peak_rss_mb(pid) for pid in group_pids(pgid)]
    known = [s for s in sizes if s is not None]
    return sum(known) if known else None


def reset_group_peak_rss(pgid: int) -> None:
    """``reset_peak_rss`` for every process of group ``pgid``."""
    for pid in group_pids(pgid):
        reset_peak_rss(pid)


def busy_cpu_seconds() -> float | None:
    """CPU seconds every process on the machine has used (all CPUs), or None when unknown.

    Over a phase, this minus the harness's own processes is what others took: a busy
    machine shows up in the report instead of silently lowering the figures.
    """
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0]
    except (OSError, IndexError):
        return None
    # cpu user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    ticks = [int(v) for v in first.split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / _TICKS


def machine() -> dict[str, str | int]:
    """The machine the figures come from: CPUs usable, CPU model, Python, kernel."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus or 0,
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
