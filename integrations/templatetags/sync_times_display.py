"""`{% sync_times_card integration group %}`: the integration page's daily times card."""

from __future__ import annotations

from django import template

from integrations.web.sync_times import schedule_card

register = template.Library()


@register.inclusion_tag("integrations/_sync_times_card.html")
def sync_times_card(integration, group) -> dict:
    return {"schedule": schedule_card(integration), "integration": integration, "group": group}
