"""Log lines of a run: who they belong to, and never a secret.

- `run_log_context(fields, secrets)` is opened by the run executor (`core.execute`) around a
  run's execution: every record logged meanwhile, by any logger, gets the run's fields (run_id,
  integration_id or connection_id, group, provider or platform, kind) from `RunContextFilter`,
  and the run's secrets are hidden from the line. It is a context variable, so two runs in two
  threads keep apart; a thread that a run starts without copying its context (the page
  prefetch) gets the fields too when exactly one run is open in the process and the thread was
  started after it.
- `redact(text, secrets)` removes each secret (verbatim, JSON-escaped, URL-quoted) and, with
  `fragments` (the default), any run of 6+ characters of it in any shape an upstream may echo
  it in (cut, re-cased, base64, hex...: `core.scrub`), and the `user:password@` of any URL. The
  formatters (`PlainFormatter`, and `JsonFormatter` for `LOG_FORMAT=json`) apply it to the
  whole formatted line, exception and extra fields included: the open run's secrets in any
  shape, the site's own (SECRET_KEY, the field encryption keys, METRICS_TOKEN, the mail
  password) verbatim or escaped, and anything after `Bearer ` or `Basic `.
- A plain line is one line: `PlainFormatter` writes the control characters of the message
  (its arguments included: an upstream `detail` with "\n2026-01-01 ... CRITICAL forged") as
  escapes (`\n`, `\x1b`, `\u2028`); the traceback that follows keeps its own lines, the text
  of each exception in it (its message, on the last line, and notes) escaped the same way: an
  exception quoting an upstream's words cannot forge a line either. A JSON line holds by
  construction (the encoder escapes them) and keeps the text as it was.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from .scrub import escape_controls, scrub_secrets

MIN_SECRET_LENGTH = 4  # shorter values would hide ordinary words of every line
HIDDEN = "[hidden]"
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#\"']+@")
# An Authorization value (`Bearer <token>`, `Basic <base64>`, DRF's `Token <key>`).
_AUTH_VALUE = re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{16,}")


@dataclass(frozen=True)
class RunLogContext:
    fields: Mapping[str, Any]
    secrets: tuple[str, ...] = ()
    threads_before: frozenset[int] = field(default_factory=frozenset)


_current: ContextVar[RunLogContext | None] = ContextVar("lmsbridge_run_log", default=None)
_open: dict[int, RunLogContext] = {}  # every context open in this process, by id
_open_lock = threading.Lock()


@contextmanager
def run_log_context(fields: Mapping[str, Any], secrets: Iterable[str] = ()) -> Iterator[None]:
    """Tag every record logged inside with `fields`; hide `secrets` from them."""
    context = RunLogContext(
        fields=dict(fields),
        secrets=tuple(s for s in secrets if isinstance(s, str) and s),
        threads_before=frozenset(t.ident for t in threading.enumerate() if t.ident),
    )
    token = _current.set(context)
    with _open_lock:
        _open[id(context)] = context
    try:
        yield
    finally:
        with _open_lock:
            _open.pop(id(context), None)
        _current.reset(token)


def current_run_context() -> RunLogContext | None:
    context = _current.get()
    if context is not None:
        return context
    with _open_lock:
        if len(_open) != 1:
            return None  # none, or ambiguous: better no fields than another run's
        (context,) = _open.values()
    return None if threading.get_ident() in context.threads_before else context


class RunContextFilter(logging.Filter):
    """Adds the open run's fields to every record (never replacing an attribute it has)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_run_context()
        if context is not None:
            for name, value in context.fields.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True


# ------------------------------------------------------------------ what never reaches a line


def secret_forms(secret: str) -> set[str]:
    """A secret as it may appear in a line: verbatim, JSON-escaped, URL-quoted."""
    return {
        secret,
        secret.replace("/", "\\/"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
    }


def redact(
    text: str, *, secrets: Iterable[str] = (), marker: str = HIDDEN, fragments: bool = True
) -> str:
    """`text` without the secrets (any of their forms; with `fragments`, any run of 6+ of
    their characters in any shape, `core.scrub`) and without the `user:password@` of any URL
    in it."""
    secrets = [s for s in secrets if isinstance(s, str) and s]
    forms = {form for s in secrets if s for form in secret_forms(s)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, marker)
    if fragments:
        long_enough = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
        text = scrub_secrets(text, long_enough, marker=marker)
    return _URL_USERINFO.sub(r"\1", text)


def site_secrets() -> tuple[str, ...]:
    """The secrets of the site's own configuration (read when logging starts to format)."""
    try:
        from django.conf import settings

        values = [
            getattr(settings, "SECRET_KEY", ""),
            *getattr(settings, "FIELD_ENCRYPTION_KEYS", ()),
            getattr(settings, "METRICS_TOKEN", ""),
            getattr(settings, "EMAIL_HOST_PASSWORD", ""),
        ]
    except Exception:  # settings not configured: a script using the core alone
        return ()
    return tuple(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)


class _Redacting:
    """Mixin of the formatters: the formatted line, whole, goes through `redact`. Times are UTC
    and say so ("2026-12-07 16:33:04.411Z"), whatever the site's zone: beside a process
    manager's or a proxy's lines (UTC), one clock reads."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%d %H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)  # type: ignore[misc]
        context = current_run_context()
        run_secrets = context.secrets if context is not None else ()
        # The site's secrets never come back from an upstream: verbatim and escaped forms only
        # (a 6-character run of a long random key could match an ordinary hex id).
        line = redact(line, secrets=site_secrets(), fragments=False)
        line = redact(line, secrets=run_secrets)
        return _AUTH_VALUE.sub(r"\1 " + HIDDEN, line)


class PlainFormatter(_Redacting, logging.Formatter):
    """The default, human-readable lines: one per record (plus its traceback, if any), the
    message's control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the other handlers (the JSON one, Sentry's) get the record as it was.
        escaped = copy.copy(record)
        escaped.msg, escaped.args = escape_controls(record.getMessage()), None
        if escaped.exc_info:  # formatted here, not as another handler's formatter cached it
            escaped.exc_text = None
        return super().format(escaped)

    def formatException(self, ei) -> str:
        """The traceback with its own lines, the text of each exception in it (its message
        and notes: an upstream's words, maybe) on one line, control characters escaped."""
        exc = ei[1]
        if exc is None:
            return super().formatException(ei)
        # As logging's own (traceback.print_exception), the texts escaped before the lines
        # are made.
        trace = traceback.TracebackException(type(exc), exc, ei[2], compact=True)
        _escape_exception_texts(trace, seen=set())
        text = "".join(trace.format())
        return text[:-1] if text.endswith("\n") else text


def _escape_exception_texts(trace: traceback.TracebackException, *, seen: set[int]) -> None:
    """Escape the control characters of the message and notes of `trace`, of the exceptions it
    was caused by or raised while handling, and of those of a group (the lines the traceback
    itself makes stay as they are)."""
    if id(trace) in seen:
        return
    seen.add(id(trace))
    if isinstance(getattr(trace, "_str", None), str):
        trace._str = escape_controls(trace._str)
    if isinstance(getattr(trace, "msg", None), str):  # a SyntaxError's
        trace.msg = escape_controls(trace.msg)
    notes = getattr(trace, "__notes__", None)
    if isinstance(notes, list | tuple):
        trace.__notes__ = [escape_controls(n) if isinstance(n, str) else n for n in notes]
    linked = [trace.__cause__, trace.__context__, *(getattr(trace, "exceptions", None) or ())]
    for other in linked:
        if other is not None:
            _escape_exception_texts(other, seen=seen)


class JsonFormatter(_Redacting, _BaseJsonFormatter):
    """One JSON object per line (`LOG_FORMAT=json`): time, level, logger, message, the run's
    fields and any other extra of the record; `exc_info` holds the traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        # `request` (Django's) is an object whose text says little: left out.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)
