"""Logging set up once per process: JSON lines in production, readable text on a terminal.

Modules log with `logging.getLogger(__name__)` and pass data through `extra=`; the
formatters here turn the fixed message and those fields into one line. Two filters
run on every record: one adds the context of the current unit of work (request id,
collector run, lab session), one masks every secret value the settings hold.
"""

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["bind_context", "configure_logging", "current_context"]

REDACTED = "***"
NOISY_LOGGERS = ("httpx", "httpcore", "huey", "uvicorn.access", "alembic", "asyncio")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_SENSITIVE_KEYS = ("password", "secret", "token", "authorization", "api_key")
# Uvicorn attaches an ANSI-coloured copy of its message; it is noise in a log line.
_DROPPED_KEYS = frozenset({"color_message"})

_context: ContextVar[dict[str, Any] | None] = ContextVar(
    "omc_log_context", default=None
)


def current_context() -> dict[str, Any]:
    """Return the fields bound to the current unit of work."""
    return dict(_context.get() or {})


@contextmanager
def bind_context(**fields: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block."""
    token = _context.set({**current_context(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _RedactFilter(logging.Filter):
    """Mask known secret values and values of sensitive-looking fields."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if len(s) >= 4}, key=len, reverse=True
        )

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._mask(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                self._mask(a) if isinstance(a, str) else a for a in args
            )
        for key in _extra_keys(record):
            value = getattr(record, key)
            if any(word in key.lower() for word in _SENSITIVE_KEYS):
                setattr(record, key, REDACTED)
            elif isinstance(value, str):
                setattr(record, key, self._mask(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._mask(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


def _extra_keys(record: logging.LogRecord) -> list[str]:
    return [
        key
        for key in record.__dict__
        if key not in _RECORD_ATTRS and key not in _DROPPED_KEYS
    ]


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(
        timespec="milliseconds"
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key in _extra_keys(record):
            line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, event, then key=value fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={getattr(record, k)}" for k in _extra_keys(record))
        text = (
            f"{_timestamp(record)[11:23]} {record.levelname:<7} "
            f"{record.name}: {record.getMessage()}"
        )
        if fields:
            text = f"{text}  {fields}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        elif record.exc_text:
            text = f"{text}\n{record.exc_text}"
        return text


def configure_logging(
    *,
    level: str = "INFO",
    log_format: Literal["auto", "json", "text"] = "auto",
    secrets: Iterable[str] = (),
    stream: Any = None,
) -> None:
    """Install the process-wide handler; call once, at process start."""
    stream = stream or sys.stderr
    use_json = log_format == "json" or (
        log_format == "auto" and not getattr(stream, "isatty", lambda: False)()
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(_ContextFilter())
    handler.addFilter(_RedactFilter(secrets))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
