"""Log lines that name their request: plain text for people, JSON for log pipelines.

``[server] log_format = "json"`` writes one JSON object a line (``time``, ``level``,
``logger``, ``request_id``, ``message``, and ``exception`` with the traceback when
there is one). Every line carries the request id of the request it was written for.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from meetingmesh.request_id import current as current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


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
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(log_format: str = "text", level: str = "INFO") -> logging.Handler:
    """Send meetingmesh's and uvicorn's logs to stderr in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    for name in ("meetingmesh", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler
