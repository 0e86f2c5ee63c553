"""Logging: text or JSON lines, the RequestId on every line logged while serving a call, one access line a call.

Structured facts travel as `extra=` fields: the JSON format writes them as keys (python-json-logger),
the text format as `key=value` after the message. The RequestId comes from a context variable the
gateway sets, so a line logged deep in a use case still carries it.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("opencams_request_id", default=None)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


class RequestIdFilter(logging.Filter):
    """Stamps every record with the RequestId of the call being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    skip = ("request_id", "message", "asctime")
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k not in skip}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [RequestId] message key=value ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            head, sep, rest = line.partition(f" {record.name} ")
            line = f"{head}{sep}[{request_id}] {rest}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return TextFormatter()


def configure(level: str, fmt: LogFormat) -> None:
    """Send every log line to stderr in `fmt`, at `level`; idempotent per process."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_opencams", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._opencams = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(fmt))
    root.setLevel(level.upper())
    # httpx logs every Graph request at INFO: noise for an operator, and measurable at load.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # uvicorn's own error logger: the same format and RequestId filter, no second handler.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
