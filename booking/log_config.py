"""Structured logs: one JSON object per line, with the request id of the request it belongs to.

JSON lines, because a log shipper then needs no regular expressions. Log records never carry
request bodies or query strings (names, email addresses, manage tokens; invariant 7), and
exception texts lose the parts where PostgreSQL and asyncpg quote values (a unique email in
a ``DETAIL:`` line, a query argument), so a traceback cannot leak what a citizen typed.
"""

from __future__ import annotations

import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

# Set for the duration of a request by ``booking.api.request_context``; None elsewhere.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_VALUE_QUOTES: Final = (
    # PostgreSQL: "DETAIL:  Key (email)=(erika@example.org) already exists."
    (re.compile(r"^DETAIL:.*$", re.MULTILINE), "DETAIL:  (withheld)"),
    # asyncpg: "invalid input for query argument $2: 'erika@example.org' (...)"
    (re.compile(r"(invalid input for query argument \$\d+):.*$", re.MULTILINE), r"\1"),
)
_encoder = msgspec.json.Encoder()


def redact(text: str) -> str:
    for pattern, replacement in _VALUE_QUOTES:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id"}`` plus what a record adds.

    A record adds fields with ``extra={"fields": {...}}`` (the access log's method and status).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return _encoder.encode(entry).decode()


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig``; Granian applies it in each of its worker processes."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # Granian's own loggers replace its defaults; its access log stays off (ours has
            # the request id and leaves out query strings, which may hold manage tokens).
            "_granian": {"handlers": ["stderr"], "level": level, "propagate": False},
            "granian.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


def setup_logging(level: str) -> None:
    logging.config.dictConfig(logging_config(level))
