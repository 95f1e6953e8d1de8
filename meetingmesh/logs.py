"""Log lines that name their request: plain text for people, JSON for log pipelines.

``[server] log_format = "json"`` writes one JSON object a line (``time``, ``level``,
``logger``, ``request_id``, ``message``, and ``exception`` with the traceback when
there is one). Every line carries the request id of the request it was written for.

Messages quote text a client controls (cursors, ids, operation names, and provider
messages that repeat them), so neither format lets that text forge a line: JSON
escapes it by construction, and the text format writes control characters as
escapes (a line feed becomes backslash and ``n``). A traceback keeps its
lines, each indented, so none of them can pass for a record of its own. Both formats
clean every line of every registered secret (``meetingmesh.redaction``).
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime

import orjson

from meetingmesh.redaction import redact
from meetingmesh.request_id import current as current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
#: C0 and C1 control characters, DEL, and Unicode's own line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Prefix of every traceback line after a text record's first line.
TRACEBACK_INDENT = "    | "


def escape_controls(text: str) -> str:
    """``text`` on one line: every control character written as a backslash escape."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group()) or _code(ord(m.group())), text)


def _code(point: int) -> str:
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``record.request_id``; never drops a record."""
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        request_id = getattr(record, "request_id", None) or current_request_id()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            # Redacted before encoding: JSON escapes a secret holding '"', '\\' or a
            # control character, and the escaped form would no longer match it.
            "request_id": None if request_id is None else redact(request_id),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


class TextFormatter(logging.Formatter):
    """The text format: one line a record, whatever its message holds."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line, then its traceback (if any) with every line indented."""
        escaped = logging.makeLogRecord(record.__dict__)  # other handlers see the original
        escaped.msg, escaped.args = escape_controls(record.getMessage()), None
        head, *traceback = redact(super().format(escaped)).split("\n")
        return "\n".join([head, *(TRACEBACK_INDENT + escape_controls(t) for t in traceback)])


def configure_logging(log_format: str = "text", level: str = "INFO") -> logging.Handler:
    """Send meetingmesh's and uvicorn's logs to stderr in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for name in ("meetingmesh", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler
