"""Read py-spy's collapsed stacks: where the gateway's CPU goes, by layer and by function.

py-spy's ``raw`` format is one line per distinct stack, ``root;...;leaf COUNT``, each
frame ``function (path/file.py:line)``, paths shortened to the package part. Samples are
taken only while the process runs (py-spy skips idle threads), so shares of samples are
shares of the gateway's CPU.

A sample is charged to the layer of its innermost frame that belongs to one: frames of
single-file standard-library modules (``contextlib.py``, ``enum.py``), frozen modules and
generated code (``<string>``: dataclass ``__init__``, attribute lambdas) are charged to
their caller, so a record's generated ``__init__`` counts where the record is built.
C extensions (orjson, httptools) have no frame of their own and count in the Python frame
that called them, which is why JSON encoding is recognised by the calling function's name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

#: Layers by path prefix, first match wins (the report's rows, in this order).
LAYERS: tuple[tuple[str, str], ...] = (
    ("graphql/execution/", "graphql-core: execution"),
    ("graphql/language/", "graphql-core: parse + validate"),
    ("graphql/validation/", "graphql-core: parse + validate"),
    ("graphql/", "graphql-core: types, utilities"),
    ("strawberry/extensions/", "Strawberry: extensions"),
    ("strawberry/http/", "Strawberry: HTTP view"),
    ("strawberry/asgi/", "Strawberry: HTTP view"),
    ("strawberry/", "Strawberry: field wrappers, arguments, info"),
    ("meetingmesh/schema/fastpath.py", "meetingmesh: fast path (planned execution)"),
    ("meetingmesh/schema/", "meetingmesh: schema types and checks"),
    ("meetingmesh/resolvers/", "meetingmesh: resolvers (merge, cursors, loaders)"),
    ("meetingmesh/providers/", "meetingmesh: providers (pages, record building)"),
    ("meetingmesh/domain.py", "meetingmesh: providers (pages, record building)"),
    ("meetingmesh/", "meetingmesh: app, middleware, other"),
    ("aiodataloader", "meetingmesh: resolvers (merge, cursors, loaders)"),
    ("httpx/", "httpx + httpcore (upstream client)"),
    ("httpcore/", "httpx + httpcore (upstream client)"),
    ("h11/", "httpx + httpcore (upstream client)"),
    ("uvicorn/", "uvicorn + Starlette (HTTP server)"),
    ("starlette/", "uvicorn + Starlette (HTTP server)"),
    ("asyncio/", "event loop (asyncio, uvloop)"),
    ("uvloop/", "event loop (asyncio, uvloop)"),
)
JSON_LAYER = "JSON encoding and decoding (orjson)"
#: Frames on at least this share of the stacks are the server's outer loop and request
#: path (event loop, middleware, the HTTP view): left out of the inclusive table.
SHARED_SHARE = 0.75
OTHER_LAYER = "other"


@dataclass(frozen=True)
class Frame:
    """One stack frame: the function's (qualified) name and its shortened file path."""

    function: str
    file: str

    @property
    def label(self) -> str:
        """``function (file)``, as tables print it."""
        return f"{self.function} ({self.file})"


@dataclass(frozen=True)
class Stack:
    """One distinct stack, root first, and how many samples had it."""

    frames: tuple[Frame, ...]
    samples: int


def parse_frame(text: str) -> Frame:
    """``Executor.execute_field (graphql/execution/executor.py:928)`` as a Frame."""
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "")
    return Frame(match["function"], match["file"])


def parse_collapsed(text: str) -> list[Stack]:
    """Every stack of a py-spy ``raw`` (collapsed) file; lines without a count are skipped."""
    stacks = []
    for line in text.splitlines():
        head, _, count = line.rstrip().rpartition(" ")
        if not head or not count.isdigit():
            continue
        frames = tuple(parse_frame(part) for part in head.split(";"))
        stacks.append(Stack(frames, int(count)))
    return stacks


def is_transparent(frame: Frame) -> bool:
    """True for frames charged to their caller: generated code and one-file stdlib modules."""
    if frame.file.startswith("<"):
        return True
    # ``contextlib.py``, ``functools.py``: a bare file name is a standard-library module
    # (packages are shortened to ``package/module.py``; the console script is ``meetingmesh``).
    return "/" not in frame.file and frame.file.endswith(".py")


def layer(frame: Frame) -> str:
    """The layer a (non-transparent) frame belongs to."""
    name = frame.function.lower()
    if "json" in name and not frame.file.startswith(("graphql/", "strawberry/")):
        return JSON_LAYER
    for prefix, label in LAYERS:
        if frame.file.startswith(prefix):
            return label
    return OTHER_LAYER


def charged_frame(stack: Stack) -> Frame:
    """The innermost frame of ``stack`` that is not transparent (the leaf if all are)."""
    for frame in reversed(stack.frames):
        if not is_transparent(frame):
            return frame
    return stack.frames[-1]


def by_layer(stacks: Iterable[Stack]) -> Counter[str]:
    """Samples per layer, each sample charged to its innermost non-transparent frame."""
    counts: Counter[str] = Counter()
    for stack in stacks:
        counts[layer(charged_frame(stack))] += stack.samples
    return counts


def by_self(stacks: Iterable[Stack]) -> Counter[Frame]:
    """Samples per function as the charged frame (self time, generated code included)."""
    counts: Counter[Frame] = Counter()
    for stack in stacks:
        counts[charged_frame(stack)] += stack.samples
    return counts


def by_inclusive(stacks: Iterable[Stack]) -> Counter[Frame]:
    """Samples per function anywhere on the stack (once per stack, however deep)."""
    counts: Counter[Frame] = Counter()
    for stack in stacks:
        for frame in set(stack.frames):
            counts[frame] += stack.samples
    return counts


def _share(samples: int, total: int, cpu_ms: float | None) -> str:
    pct = 100 * samples / total if total else 0.0
    per_request = "" if cpu_ms is None else f"  {cpu_ms * pct / 100:6.2f} ms"
    return f"{pct:5.1f}%{per_request}"


def summary(stacks: Sequence[Stack], cpu_ms_per_request: float | None = None, top: int = 25) -> str:
    """A plain-text reading: shares by layer, then the top functions by self and inclusive.

    With ``cpu_ms_per_request`` each share is also shown as milliseconds per request.
    """
    total = sum(s.samples for s in stacks)
    lines = [
        f"{total} samples"
        + (
            ""
            if cpu_ms_per_request is None
            else f"; {cpu_ms_per_request:.2f} ms of gateway CPU per request"
        ),
        "",
        "by layer:",
    ]
    for name, samples in by_layer(stacks).most_common():
        lines.append(f"  {_share(samples, total, cpu_ms_per_request)}  {name}")
    lines += ["", f"top {top} functions, self time (generated and stdlib code in its caller):"]
    for frame, samples in by_self(stacks).most_common(top):
        lines.append(f"  {_share(samples, total, cpu_ms_per_request)}  {frame.label}")
    lines += ["", f"top {top} functions, inclusive (below the frames every request shares):"]
    inclusive = [
        (frame, samples)
        for frame, samples in by_inclusive(stacks).most_common()
        if samples < SHARED_SHARE * total
    ]
    for frame, samples in inclusive[:top]:
        lines.append(f"  {_share(samples, total, cpu_ms_per_request)}  {frame.label}")
    return "\n".join(lines)
