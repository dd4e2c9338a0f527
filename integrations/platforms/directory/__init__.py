"""Directory import: a platform's groups, users and memberships → local Group/Learner/Membership.

Under the connected group: each platform group becomes a (public) local subgroup, nested as on
the platform, so the imported learners see the connected group's catalog; each platform user
becomes (or is matched, by e-mail, case-insensitively, to) a `Learner`; each group's member list
becomes `Membership` rows marked `imported`, with the platform's role (admin → admin,
instructor → instructor, anything else → learner; see `memberships.local_role`), kept in step
with the platform on every import. `PlatformDirectoryLink` rows tie remote ids to local
rows per connection.

Rules (each one is a test): a re-import of unchanged data writes nothing; a user gone from the
platform is deactivated (`is_active=False`), never deleted, and reactivated if it comes back;
an empty or failed user scan deactivates nobody; one bad item is a `PlatformError`, the import
goes on. Users are read page by page, each page committed in one transaction with a number of
queries that grows with pages, not rows.
"""

from __future__ import annotations

from integrations.models import PlatformConnection, PlatformRun

from ..base import DirectorySource
from .common import OnPage, Territory
from .groups import import_groups
from .memberships import deactivate_missing, import_memberships
from .users import import_users

__all__ = ["directory_import"]


def directory_import(
    *, run: PlatformRun, connection: PlatformConnection, source: DirectorySource, on_page: OnPage
) -> None:
    """Import groups, then users, then memberships; deactivate users gone from the platform."""
    groups = import_groups(run=run, connection=connection, source=source)
    territory = Territory.of(connection)  # after the groups: the subtree includes the new ones
    roles = import_users(run=run, territory=territory, source=source, on_page=on_page)
    import_memberships(
        run=run, territory=territory, source=source, groups=groups, roles=roles, on_page=on_page
    )
    deactivate_missing(run=run, territory=territory, seen=set(roles))
