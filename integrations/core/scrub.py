"""Upstream text is untrusted: what an API says back may carry our secret or a trap.

An upstream that rejects the credentials may echo them, whole or cut, re-encoded or not:
`"Invalid Authorization header 'Basic ZGVtby1jbGllbnQ6WnE5U0VDUkVUdmFsdW...'"`. Replacing the
secret verbatim misses that. `scrub_secrets` removes every run of `WINDOW` (6) or more
consecutive characters of a secret, in any case, in each shape it travels in:

- plain, upper/lower case, spaced out (whitespace between the characters);
- base64 (standard and URL-safe) of the secret, cut anywhere: the secret may sit at any byte
  offset of what was encoded (`client_id:secret` of a Basic header), so the three alignments;
- hex; URL-quoted (`%5A`), JSON-escaped (`\\u005a`, `\\/`), HTML entities (`&#90;`, `&#x5a;`).

It looks at the text three ways: as is, decoded once (every escape above turned back into its
character, whitespace dropped) and decoded twice (an escape of an escape), and removes from the
original text the span under any match. A run shorter than the window can still be a
coincidence (`"secret"` in prose); the window is short enough that nothing usable is left.

`upstream_excerpt` is what may be stored or shown of upstream prose (an error `detail`): scrubbed,
on one line, bounded, and optionally without links.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from base64 import b64encode, urlsafe_b64encode
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

WINDOW = 6  # the shortest run of a secret that is removed
SHORT_SECRET = 4  # a secret shorter than the window is removed whole (if at least this long)
MARKER = "***"
LINK_REMOVED = "[link removed]"

# One unit of escaped text and what it stands for.
_UNIT = re.compile(
    r"&\#[xX](?P<hexent>[0-9a-fA-F]{1,6});?"
    r"|&\#(?P<decent>[0-9]{1,7});?"
    r"|&(?P<named>[a-zA-Z][a-zA-Z0-9]{1,31});"
    r"|%(?P<pct>[0-9a-fA-F]{2})"
    r"|\\u(?P<uni>[0-9a-fA-F]{4})"
    r"|\\x(?P<bx>[0-9a-fA-F]{2})"
    r"|\\(?P<esc>[\\/\"'])"
    r"|(?P<space>\s)"
    r"|(?P<char>.)",
    re.DOTALL,
)
# An Authorization value (`Bearer <token>`, `Basic <base64>`, DRF's `Token <key>`).
AUTH_VALUE = re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{16,}")
# Characters that end a line somewhere (a terminal, a log viewer, an e-mail header) or reorder
# what is shown: C0/C1 controls, the Unicode line and paragraph separators, bidi overrides.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
_LINE_BREAKERS = "\u2028\u2029\u0085"
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*:(?://|[^\s@]*@)\S*|\bwww\.\S+")
_HOST_WITH_PATH = re.compile(r"(?i)\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?/\S*")
_HOST = re.compile(r"(?i)\b((?:[a-z0-9-]+\.)+)([a-z]{2,})\b")


# ------------------------------------------------------------------ secrets


def _encoded_forms(secret: str) -> set[str]:
    """The shapes a secret may be echoed in (before decoding; lower case)."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        # Case mappings that case folding does not undo ("ı".upper() is "I", whose fold is "i").
        secret.upper(),
        secret.lower(),
        raw.decode("latin-1"),  # percent- or \\x-escaped UTF-8 bytes, decoded one by one
        raw.hex(),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        secret.replace("/", "\\/"),
        html.escape(secret),
    }
    for shift in range(3):  # the secret at any byte offset of what was encoded
        part = raw[shift:]
        determined = len(part) * 8 // 6  # the characters made of the secret's bits only
        for encode in (b64encode, urlsafe_b64encode):
            forms.add(encode(part).decode("ascii")[:determined])
    for pad, skip in ((1, 2), (2, 3)):  # ... and the characters where it starts mid-group
        bits = (pad + len(raw)) * 8
        for encode in (b64encode, urlsafe_b64encode):
            forms.add(encode(b"\0" * pad + raw).decode("ascii")[skip : bits // 6])
    return {form.casefold() for form in forms if form}


@lru_cache(maxsize=64)
def _grams(secrets: tuple[str, ...], window: int) -> dict[int, frozenset[str]]:
    """Length → the runs of that length to remove (every window of every form)."""
    by_length: dict[int, set[str]] = {}
    for secret in secrets:
        forms = _encoded_forms(secret)
        forms |= {re.sub(r"\s+", "", form) for form in forms}  # as seen once decoded
        for form in forms:
            if len(form) >= window:
                runs = {form[i : i + window] for i in range(len(form) - window + 1)}
                by_length.setdefault(window, set()).update(runs)
            elif len(form) >= SHORT_SECRET:
                by_length.setdefault(len(form), set()).add(form)
    return {length: frozenset(runs) for length, runs in by_length.items()}


Spans = list[tuple[int, int]]  # for each character of a view, its span in the original text


def _decoded(text: str, spans: Spans) -> tuple[str, Spans]:
    """`text` with every escape decoded and whitespace dropped; `spans` mapped through."""
    out: list[str] = []
    out_spans: Spans = []
    for unit in _UNIT.finditer(text):
        kind, value = unit.lastgroup, unit.group(unit.lastgroup or 0)
        if kind == "space":
            continue
        if kind in ("hexent", "uni"):
            decoded = _chr(int(value, 16))
        elif kind in ("pct", "bx"):
            decoded = chr(int(value, 16))
        elif kind == "decent":
            decoded = _chr(int(value))
        elif kind == "named":
            decoded = html.unescape(unit.group(0))
        else:
            decoded = value
        span = (spans[unit.start()][0], spans[unit.end() - 1][1])
        for char in decoded.casefold():
            out.append(char)
            out_spans.append(span)
    return "".join(out), out_spans


def _lowered(text: str) -> tuple[str, Spans]:
    """`text` case-folded, each character mapped to its own (a few grow when folded)."""
    out: list[str] = []
    spans: Spans = []
    for i, char in enumerate(text):
        for low in char.casefold():
            out.append(low)
            spans.append((i, i + 1))
    return "".join(out), spans


def _chr(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def secret_spans(text: str, secrets: Iterable[str], *, window: int = WINDOW) -> Spans:
    """The spans of `text` (start, end) that hold a run of a secret, merged, in order."""
    key = tuple(sorted({s for s in secrets if isinstance(s, str) and len(s) >= SHORT_SECRET}))
    if not key or not text:
        return []
    grams = _grams(key, window)
    covered = bytearray(len(text))
    view, spans = _lowered(text)
    for depth in range(3):  # as is, decoded once, decoded twice
        if depth:
            view, spans = _decoded(view, spans)
        for length, runs in grams.items():
            for i in range(len(view) - length + 1):
                if view[i : i + length] in runs:
                    start, end = spans[i][0], spans[i + length - 1][1]
                    covered[start:end] = b"\x01" * (end - start)
    merged: Spans = []
    for match in re.finditer(b"\x01+", bytes(covered)):
        merged.append((match.start(), match.end()))
    return merged


def scrub_secrets(text: str, secrets: Iterable[str], *, marker: str = MARKER) -> str:
    """`text` with every run of `WINDOW`+ characters of a secret, in any of its shapes,
    replaced by `marker`."""
    spans = secret_spans(text, secrets)
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], marker]
        last = end
    parts.append(text[last:])
    return "".join(parts)


# ------------------------------------------------------------------ one line, no link


def _is_breaking(char: str) -> bool:
    return char in _BIDI or char in _LINE_BREAKERS or unicodedata.category(char) in ("Cc", "Cs")


def escape_controls(text: str) -> str:
    """`text` with every control character (CR, LF, ESC..., the Unicode line separators and
    bidi overrides) written as its escape (`\\n`, `\\x1b`, `\\u2028`): one line, shown as is."""
    if not any(_is_breaking(c) for c in text):
        return text
    return "".join(_escape(c) if _is_breaking(c) else c for c in text)


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def single_line(text: str, *, limit: int | None = None) -> str:
    """`text` on one line: control characters become spaces, runs of spaces one space, cut
    to `limit` characters (with "…")."""
    flat = "".join(" " if _is_breaking(c) else c for c in text)
    flat = " ".join(flat.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: max(0, limit - 1)].rstrip() + "…"
    return flat


def remove_links(text: str) -> str:
    """`text` without URLs (any scheme, `www.`, `host.tld/path`) and with bare host names
    defanged (`evil[.]example`): nothing a mail reader turns into a link."""
    text = _URL.sub(LINK_REMOVED, text)
    text = _HOST_WITH_PATH.sub(LINK_REMOVED, text)
    return _HOST.sub(lambda m: m.group(1)[:-1].replace(".", "[.]") + "[.]" + m.group(2), text)


def upstream_excerpt(
    text: str,
    *,
    secrets: Iterable[str] = (),
    limit: int = 200,
    links: bool = True,
    marker: str = MARKER,
) -> str:
    """What may be kept of upstream prose: its start, without any run of a secret or an
    Authorization value, on one line, at most `limit` characters, without links unless `links`."""
    if not isinstance(text, str) or not text:
        return ""
    text = text[: limit * 4]  # bounded work, whatever the upstream sent
    text = AUTH_VALUE.sub(lambda m: f"{m.group(1)} {marker}", text)
    text = scrub_secrets(text, secrets, marker=marker)
    text = single_line(text)
    if not links:
        text = remove_links(text)
    return single_line(text, limit=limit)
