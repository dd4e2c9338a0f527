"""`{% alerts_enabled_for group as alerts_on %}`: whether the signed-in admin receives the alert
e-mails of a group; `{% alert_stale_hours %}`: after how long data is stale (the alerts card of
the integration page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from integrations.services.alerts import alerts_enabled

register = template.Library()


@register.simple_tag(takes_context=True)
def alerts_enabled_for(context: dict[str, Any], group: Any) -> bool:
    user = context["request"].user
    return user.is_authenticated and alerts_enabled(user=user, group=group)


@register.simple_tag
def alert_stale_hours() -> str:
    return f"{settings.SYNC_STALE_AFTER_HOURS:g}"
