from __future__ import annotations

from django.http import HttpRequest

from .selectors import group_list_administered


def navigation(request: HttpRequest) -> dict:
    """Groups for the navigation bar: those the user administers (lazy: one query if used)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_admin_groups": []}
    return {"nav_admin_groups": group_list_administered(user=user).only("name", "slug")}
