"""Pure mappings of Coursebase directory objects (Coursebase API) to import records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.core.records import MappingError

from ..base import RemoteGroup, RemoteMember, RemoteUser


def _id(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise MappingError(str(value or "")[:100], "invalid_item", f"missing or invalid {key}")
    return value.strip()


def map_group(raw: Mapping[str, Any]) -> RemoteGroup:
    """Coursebase API, org.groups.list: group_id, name, parent_id (null: the org level)."""
    group_id = _id(raw, "group_id")
    parent = raw.get("parent_id")
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    return RemoteGroup(
        remote_id=group_id,
        name=(name.strip() or f"Coursebase group {group_id}")[:200],
        parent_id=parent.strip() if isinstance(parent, str) and parent.strip() else None,
    )


def map_user(raw: Mapping[str, Any]) -> RemoteUser:
    """Coursebase API, org.users.list: user_id and login_id (an e-mail address in practice).

    The list carries no names and no status: names stay as they are locally, and a user is
    deactivated only when it disappears from the list.
    """
    user_id = _id(raw, "user_id")
    login = raw.get("login_id") if isinstance(raw.get("login_id"), str) else ""
    email = login.strip().lower()
    if "@" not in email or len(email) > 254:
        raise MappingError(
            user_id, "no_email", "the login ID is not an e-mail address: it can't be matched"
        )
    return RemoteUser(remote_id=user_id, email=email)


def map_member(raw: Mapping[str, Any]) -> RemoteMember:
    """Coursebase API, group.users.list: user_id, login_id, role (learner, admin, instructor)."""
    role = raw.get("role") if isinstance(raw.get("role"), str) else "learner"
    return RemoteMember(user_id=_id(raw, "user_id"), role=role)
