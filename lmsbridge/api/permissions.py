"""Who may call what. Object access goes through the selectors (404 for others' groups);
these classes only guard the collection-level writes."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from lmsbridge.catalog.selectors import group_list_administered


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
