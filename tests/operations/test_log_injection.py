"""Log lines cannot be forged: an upstream string with CR/LF (or another control character)
logged in the plain format stays on its line, escaped; the JSON format stays one object per
line; a traceback keeps its lines. A run's secret echoed cut or re-encoded is hidden too."""

from __future__ import annotations

import json
import logging
import sys
from base64 import b64encode

import pytest

from integrations.core.logs import JsonFormatter, PlainFormatter, run_log_context

FMT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FORGED = "Not found.\n2026-01-01 00:00:00 CRITICAL forged log line"


def record(msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("integrations.test", logging.WARNING, __file__, 1, msg, args, exc_info)


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("Udemy answered 404 (%s)", (FORGED,)),  # in the arguments
        (f"Udemy answered 404 ({FORGED})", ()),  # in the message itself
        ("detail %r", (FORGED,)),
        ("detail %s", ("a\rb\x1b[31mred\u2028c\u2029d\x85e\u202eevil",)),
    ],
)
def test_a_plain_line_escapes_control_characters(msg, args):
    line = PlainFormatter(FMT).format(record(msg, *args))
    assert len(line.splitlines()) == 1, line
    assert "\x1b" not in line and "\u202e" not in line
    if "forged" in line:
        assert "\\n2026-01-01 00:00:00 CRITICAL forged log line" in line


def test_the_json_line_holds_and_keeps_the_text():
    line = JsonFormatter(FMT).format(record("Udemy answered 404 (%s)", FORGED))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == f"Udemy answered 404 ({FORGED})"


def test_a_traceback_keeps_its_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    line = PlainFormatter(FMT).format(record("failed: %s", FORGED, exc_info=exc_info))
    first, *rest = line.splitlines()
    assert "forged log line" in first
    assert rest[0].startswith("Traceback") and rest[-1] == "ValueError: boom"


def test_the_record_is_left_as_it_was_for_the_other_handlers():
    rec = record("detail %s", FORGED)
    PlainFormatter(FMT).format(rec)
    assert rec.getMessage() == f"detail {FORGED}"


def test_a_run_secret_echoed_cut_or_encoded_is_hidden():
    secret = "Zq9XkRTmVw-7Kp2Wm4yB"
    token = b64encode(f"demo-client:{secret}".encode()).decode()
    # token[16:]: the base64 of the secret's bytes ("demo-client:" is 12 bytes, 16 characters)
    echoes = [secret[:12], secret.upper(), token[16:38], secret.encode().hex(), " ".join(secret)]
    with run_log_context({"run_id": 1}, secrets=[secret]):
        for echo in echoes:
            for formatter in (PlainFormatter(FMT), JsonFormatter(FMT)):
                line = formatter.format(record("upstream said %s", echo))
                assert echo not in line and echo[:8] not in line, line


def _raised(exc: BaseException):
    try:
        raise exc
    except BaseException:
        return sys.exc_info()


def _forged_lines(text: str) -> list[str]:
    """The lines of `text` that pass for a log line of their own (a group's traceback lines
    are drawn with "| " and "+-" in front)."""
    return [line for line in text.splitlines() if line.lstrip(" |+-").startswith("2026-01-01")]


def _caused() -> tuple:
    try:
        try:
            raise KeyError("cause")
        except KeyError as exc:
            raise ValueError(f"first {FORGED}") from exc
    except ValueError as exc:
        try:
            raise RuntimeError(f"second\r\n{FORGED}") from exc
        except RuntimeError as last:
            last.add_note(f"note {FORGED}")
            return sys.exc_info()


@pytest.mark.parametrize(
    "exc_info",
    [
        pytest.param(_raised(ValueError(FORGED)), id="message"),
        pytest.param(_caused(), id="chained-with-a-note"),
        pytest.param(_raised(ExceptionGroup("several", [ValueError(FORGED)])), id="group"),
        pytest.param(_raised(SyntaxError(FORGED, ("x.py", 1, 1, "x = 1\n"))), id="syntax"),
    ],
)
def test_an_exception_message_cannot_forge_a_line(exc_info):
    line = PlainFormatter(FMT).format(record("failed", exc_info=exc_info))
    assert not _forged_lines(line), line
    assert "\\n2026-01-01 00:00:00 CRITICAL forged log line" in line
    first, *rest = line.splitlines()
    assert first.endswith("failed") and "Traceback" in rest[0]
    assert any(r.lstrip(" |+-").startswith('File "') for r in rest)  # the traceback's lines


def test_the_exception_message_stays_the_last_line_of_its_traceback():
    line = PlainFormatter(FMT).format(record("failed", exc_info=_raised(ValueError(FORGED))))
    assert line.splitlines()[-1] == "ValueError: " + FORGED.replace("\n", "\\n")


def test_a_traceback_another_formatter_wrote_first_is_escaped_too():
    rec = record("failed", exc_info=_raised(ValueError(FORGED)))
    raw = logging.Formatter(FMT).format(rec)  # another handler's: caches it on the record
    assert _forged_lines(raw)
    assert not _forged_lines(PlainFormatter(FMT).format(rec))


def test_a_line_gives_its_time_in_utc_and_says_so():
    import logging
    import re

    from integrations.core.logs import PlainFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = 1_796_000_000.25  # 2026-11-30 00:53:20.250 UTC
    record.msecs = 250.0
    line = PlainFormatter(FMT).format(record)
    assert re.match(r"2026-11-30 00:53:20\.250Z INFO x hello$", line), line
