"""`moment`: a time as the reader reads it, in their zone (the active one: the person's
preference, else the site's) with the zone named, "2026-12-07 08:42 CET". A builtin of the
templates (settings TEMPLATES), so pages and e-mails use it without a `{% load %}`."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def moment(value: datetime | None, fmt: str = "Y-m-d H:i") -> str:
    """`value` in the active zone with the zone's abbreviation (its offset where the zone has
    none); "" for no value, so that `|default:` still reads."""
    if not isinstance(value, datetime):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{date_format(local, fmt)} {local.tzname() or ''}".strip()
