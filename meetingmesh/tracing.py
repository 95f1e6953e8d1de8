"""Optional OpenTelemetry tracing: one span per upstream call.

Off by default. ``[server] tracing = true`` needs the ``otel`` extra
(``pip install 'meetingmesh[otel]'``); the operator configures where spans go with
OpenTelemetry's own SDK settings (``OTEL_*`` environment variables or code), and the
gateway only creates the spans, through the global tracer provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import trace
except ImportError:  # the otel extra is not installed
    trace = None  # type: ignore[assignment]


def available() -> bool:
    """Whether OpenTelemetry's API is installed."""
    return trace is not None


@contextmanager
def upstream_span(
    enabled: bool, provider: str, endpoint: str, attributes: dict[str, Any]
) -> Iterator[Any]:
    """A span around one upstream call when tracing is on; nothing otherwise."""
    if not enabled or trace is None:
        yield None
        return
    tracer = trace.get_tracer("meetingmesh")
    with tracer.start_as_current_span(
        f"{provider} {endpoint}", kind=trace.SpanKind.CLIENT, attributes=attributes
    ) as span:
        yield span
