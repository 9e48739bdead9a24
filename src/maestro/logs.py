"""Structured JSON logs with correlation ids, and no secrets.

The correlation id of the current run or request lives in a context variable, so
every log line emitted while handling it carries it without being passed around.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

__all__ = ["configure_logging", "correlation_id", "redact"]

correlation_id: ContextVar[str | None] = ContextVar("maestro_correlation_id", default=None)

_SECRET = re.compile(
    r"(mk_[0-9a-f]{8}_[A-Za-z0-9_-]+|sk-[A-Za-z0-9_-]{8,}|(?<=://)[^:/@\s]+:[^@/\s]+(?=@))"
)


def redact(text: str) -> str:
    """Mask API keys and URL passwords."""
    return _SECRET.sub("***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        cid = correlation_id.get()
        prefix = f"[{cid}] " if cid else ""
        return redact(f"{record.levelname:7} {record.name}: {prefix}{record.getMessage()}")


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send Maestro's logs to stderr, one JSON object (or text line) each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger("maestro")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
