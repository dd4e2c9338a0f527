"""Validators shared by the API, the forms and the admin (no dependency on the apps)."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

CONTROL_CHARACTERS = "Control characters (line breaks, tabs...) are not allowed."
# Besides the C0/C1 controls (CR, LF, tab, NUL, ESC, NEL...): the Unicode line and paragraph
# separators and the bidi overrides, which also break or reorder a line where a name is shown.
_ALSO_REFUSED = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(value: str) -> bool:
    return any(c in _ALSO_REFUSED or unicodedata.category(c) == "Cc" for c in value)


def refuse_control_characters(value: object) -> None:
    """A name is one line of text: it ends up in e-mail subjects and log lines, where a line
    break would inject a header or forge a line."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS, code="control_characters")
