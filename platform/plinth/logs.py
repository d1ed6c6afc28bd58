"""Log lines that carry the request id and the user, as JSON or for a console.

Every record created while a request is served gets two attributes,
``request_id`` and ``user`` (the caller the security policy has resolved so
far, or None), whichever module logs it: Plinth, a plugin, SQLAlchemy,
pyramid_retry, an error view.  They are set by a log record factory rather
than by a filter, because ``pserve`` configures logging from the ini file,
whose format cannot attach filters to handlers, and a factory reaches every
handler and formatter an operator configures.  Outside a request both are
None.

:class:`JsonFormatter` writes one JSON object per line (production);
:class:`ConsoleFormatter` writes one readable line, and for each request the
access line ``GET /stock/A-1 200 3.1 ms user:admin req=<request id>``
(development).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from . import requestcontext

ACCESS_LOGGER = "plinth.access"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_CONTEXT = frozenset({"request_id", "user"})


def _request_user(request: Any) -> str | None:
    # Only what the security policy already knows: a log line never looks
    # the caller up (that would cost a query, possibly after the commit).
    from .security import resolved_userid  # here: security imports the ACL engine

    return resolved_userid(request)


class _ContextRecordFactory:
    """Wraps the record factory in place, adding the request's id and user."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        context = requestcontext.current()
        if context is None:
            record.request_id = None
            record.user = None
        else:
            record.request_id = context.request_id
            record.user = _request_user(context.request)
        return record


def install_record_factory() -> None:
    """Add the request context to every log record (once per process)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _ContextRecordFactory):
        logging.setLogRecordFactory(_ContextRecordFactory(factory))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the context.

    ``request_id`` and ``user`` appear on every line logged during a request
    (``user`` is null for an anonymous caller); anything passed in ``extra``
    (the access line's method, path, status...) becomes a field.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        in_request = getattr(record, "request_id", None) is not None
        for key, value in vars(record).items():
            if key in _STANDARD or key in entry:
                continue
            if key in _CONTEXT and not in_request:
                continue
            entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """One readable line per record, for a developer's terminal.

    An access line reads ``12:00:01 GET /stock/A-1 200 3.1 ms user:admin
    req=<id>``; any other line logged during a request ends with the request
    id and the user.  A ``format`` given in the ini file replaces the
    beginning of the non-access lines.
    """

    default_time_format = "%H:%M:%S"
    default_msec_format = None

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Any = "%",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)s [%(name)s] %(message)s",
            datefmt,
            style,
            *args,
            **kwargs,
        )

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        if record.name == ACCESS_LOGGER and request_id is not None:
            line = f"{self.formatTime(record, self.datefmt)} {record.getMessage()}"
        else:
            line = super().format(record)
            if request_id is None:
                return line
            user = getattr(record, "user", None) or "anonymous"
            first, newline, rest = line.partition("\n")
            return f"{first}  req={request_id} {user}{newline}{rest}"
        return f"{line}  req={request_id}"


def includeme(config: Any) -> None:
    install_record_factory()
