"""`integrations.core.scrub`: no run of 6 characters of a secret survives, in any shape it is
echoed in; what is kept of upstream prose is one bounded line without links.

The oracle here derives the shapes on its own: for base64, it encodes the secret *inside* other
bytes (at a random offset) and keeps only the characters made of the secret's bits."""

from __future__ import annotations

import html
import re
import unicodedata
from base64 import b64encode, urlsafe_b64encode
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from integrations.core.scrub import (
    LINK_REMOVED,
    escape_controls,
    remove_links,
    scrub_secrets,
    single_line,
    upstream_excerpt,
)

RUN = 6
SECRET_ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="*"
)
secrets = st.text(SECRET_ALPHABET, min_size=8, max_size=40)
surroundings = st.text(st.characters(codec="utf-8", exclude_characters="*"), max_size=60)
fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def windows(shape: str) -> set[str]:
    shape = shape.lower()
    return {shape[i : i + RUN] for i in range(len(shape) - RUN + 1)}


def assert_no_run(text: str, runs: set[str]) -> None:
    low = text.lower()
    found = [run for run in runs if run in low]
    assert not found, f"{found[:3]} left in {text!r}"


def base64_of_the_secret(secret: str, before: bytes, after: bytes, encode) -> list[str]:
    """The maximal runs of characters of `encode(before + secret + after)` that only the
    secret's bits make (the others straddle the neighbouring bytes)."""
    raw = secret.encode()
    start, end = len(before) * 8, (len(before) + len(raw)) * 8
    encoded = encode(before + raw + after).decode()
    first = -(-start // 6)  # the first character whose 6 bits all lie in the secret
    last = end // 6  # one past the last one
    return [encoded[first:last]]


# ------------------------------------------------------------------ shapes


def verbatim_shapes(secret: str) -> list[str]:
    """Shapes in which any 6 characters are 6 characters of the secret's bits."""
    return [
        secret,
        secret.upper(),
        secret.lower(),
        secret.swapcase(),
        secret.encode().hex(),
        secret.encode().hex().upper(),
    ]


@fast
@given(
    secret=secrets,
    left=surroundings,
    right=surroundings,
    which=st.integers(0, 5),
    cut=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_no_run_of_the_secret_or_its_hex_survives(secret, left, right, which, cut):
    shape = verbatim_shapes(secret)[which]
    # Any piece of at least RUN characters (drawn inside the shape: nothing is filtered out).
    start = int(cut[0] * (len(shape) - RUN))
    stop = start + RUN + int(cut[1] * (len(shape) - start - RUN))
    piece = shape[start:stop]
    assert len(piece) >= RUN
    out = scrub_secrets(left + piece + right, [secret])
    assert_no_run(out, windows(piece))


def _json_escape(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in text)


def _json_unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


# (escape, what undoes it): the secret's characters escaped one by one, or spaced out.
ESCAPES = [
    (lambda t: quote(t, safe=""), unquote),
    (quote_plus, unquote_plus),
    (lambda t: "".join(f"%{b:02X}" for b in t.encode()), unquote),
    (_json_escape, _json_unescape),
    (lambda t: t.replace("/", "\\/"), lambda t: t.replace("\\/", "/")),
    (lambda t: "".join(f"&#{ord(c)};" for c in t), html.unescape),
    (lambda t: "".join(f"&#x{ord(c):X};" for c in t), html.unescape),
    (html.escape, html.unescape),
    (" ".join, lambda t: "".join(t.split())),
    ("\n ".join, lambda t: "".join(t.split())),
]


@fast
@given(
    secret=secrets,
    left=surroundings,
    right=surroundings,
    which=st.integers(0, len(ESCAPES) - 1),
    cut=st.tuples(st.integers(0, 40), st.integers(0, 40)),
)
def test_no_run_of_an_escaped_secret_survives(secret, left, right, which, cut):
    escape, undo = ESCAPES[which]
    start, stop = sorted(cut)
    piece = secret[start:stop]
    assume(len(piece) >= RUN)
    out = scrub_secrets(left + escape(piece) + right, [secret])
    assert_no_run(undo(out), windows(piece))


@fast
@given(
    secret=secrets,
    before=st.binary(max_size=8),
    after=st.binary(max_size=8),
    urlsafe=st.booleans(),
    cut=st.tuples(st.integers(0, 200), st.integers(0, 200)),
    left=surroundings,
)
def test_no_run_of_base64_survives_at_any_offset_and_cut(secret, before, after, urlsafe, cut, left):
    encode = urlsafe_b64encode if urlsafe else b64encode
    encoded = encode(before + secret.encode() + after).decode()
    start, stop = sorted(cut)
    piece = encoded[start:stop]
    (determined,) = base64_of_the_secret(secret, before, after, encode)
    out = scrub_secrets(f"{left}Basic {piece}...", [secret])
    assert_no_run(out, windows(piece) & windows(determined))


@fast
@given(client_id=st.text(SECRET_ALPHABET, min_size=1, max_size=20), secret=secrets)
def test_the_basic_header_of_id_and_secret_loses_the_secret(client_id, secret):
    token = b64encode(f"{client_id}:{secret}".encode()).decode()
    out = scrub_secrets(f"Invalid header 'Basic {token}'", [secret])
    before = f"{client_id}:".encode()
    (determined,) = base64_of_the_secret(secret, before, b"", b64encode)
    assert_no_run(out, windows(determined))
    assert token not in out


@fast
@given(text=st.text(max_size=200))
def test_without_secrets_the_text_is_kept(text):
    assert scrub_secrets(text, []) == text
    assert scrub_secrets(text, ["ab"]) == text  # too short to be looked for


@fast
@given(secret=secrets, text=st.text(max_size=200))
def test_what_is_kept_is_the_text_in_order(secret, text):
    out = scrub_secrets(text, [secret], marker="\x00")
    kept = out.split("\x00")
    position = 0
    for part in kept:
        found = text.find(part, position)
        assert found >= 0
        position = found + len(part)


def test_the_example_of_the_issue():
    secret = "Zq9SECRETvalue-7Kp2"
    token = b64encode(f"demo-client:{secret}".encode()).decode()
    echo = (
        f"Invalid Authorization header 'Basic {token[:28]}...' "
        f"(client secret {secret[:16]}... does not match)"
    )
    out = scrub_secrets(echo, [secret])
    assert "Zq9SEC" not in out and "WnE5U0VD" not in out
    assert out.startswith("Invalid Authorization header 'Basic ")


# ------------------------------------------------------------------ upstream prose


def breaks_a_line(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char == "\x85"


@fast
@given(text=st.text(max_size=800), limit=st.integers(10, 300), secret=secrets)
def test_an_upstream_excerpt_is_one_bounded_line_without_the_secret(text, limit, secret):
    out = upstream_excerpt(f"{text}{secret}{text}", secrets=[secret], limit=limit, links=False)
    assert len(out) <= limit
    assert not any(breaks_a_line(c) for c in out)
    assert_no_run(out, windows(secret))


@fast
@given(
    scheme=st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript", "data"]),
    host=st.from_regex(r"[a-z]{1,10}(\.[a-z]{2,6}){1,3}", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9_.~-]{0,12}){0,4}", fullmatch=True),
    left=st.text(max_size=40),
)
def test_links_are_removed(scheme, host, path, left):
    out = upstream_excerpt(f"{left} {scheme}://{host}{path} now", links=False, limit=500)
    assert "://" not in out
    assert host not in out


def test_the_phishing_detail_of_the_issue():
    detail = (
        "Your Udemy API key was revoked.\r\n\r\nSign in again at "
        "https://evil.example/lmsbridge/login to restore the sync, or visit www.evil.example "
        "or evil.example/login or evil.example."
    )
    out = upstream_excerpt(detail, links=False)
    assert "\n" not in out and "\r" not in out
    assert "evil.example" not in out
    assert LINK_REMOVED in out
    assert out.startswith("Your Udemy API key was revoked. Sign in again at")


def test_remove_links_keeps_plain_prose():
    assert remove_links("Invalid page size: 12") == "Invalid page size: 12"


@fast
@given(text=st.text(max_size=300))
def test_escaped_controls_leave_one_line(text):
    out = escape_controls(text)
    assert not any(breaks_a_line(c) for c in out)
    assert len(out.splitlines() or [""]) == 1
    if not any(breaks_a_line(c) for c in text) and "\u202e" not in text:
        assert out == text


def test_single_line_cuts_with_an_ellipsis():
    assert single_line("a\nb\r\nc\u2028d", limit=5) == "a b…"
    assert single_line("  a  b  ") == "a b"
