"""Who may reach which group through the API: object access goes through the selectors (404 for
other groups, existence never revealed); the permission guards collection-level writes."""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from catalog.models import Group
from catalog.selectors import group_get_administered, group_list_administered


def administered_group(request: Request, slug: str) -> Group:
    """The group if the user administers it, else 404 (never 403: existence is not revealed)."""
    try:
        return group_get_administered(user=request.user, slug=slug)
    except Http404:
        raise NotFound(f"No group '{slug}' among the groups you administer.") from None


def administers_any_group(user) -> bool:
    return group_list_administered(user=user).exists()


class CanCreateInAdministeredGroups(BasePermission):
    """Reading a list is open to any signed-in user (it is filtered); creating needs a
    superuser or the admin of at least one group (the serializer limits *which* groups)."""

    message = "Only superusers and group admins can create these."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and administers_any_group(user))
