"""A lease per (integration, kind) so two syncs never run at once.

`select_for_update()` is a no-op on SQLite, so the lease is taken with one conditional UPDATE
(`… WHERE holder = me OR expires_at < now`), which is atomic on SQLite and PostgreSQL alike. The
holder is the run (`run:<id>`): a task redelivered after a crash re-takes its own lease at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..models import Integration, SyncLease

LEASE_TTL = timedelta(minutes=10)


def lease_acquire(*, integration: Integration, kind: str, holder: str) -> bool:
    lease, _ = SyncLease.objects.get_or_create(integration=integration, kind=kind)
    now = timezone.now()
    taken = (
        SyncLease.objects.filter(pk=lease.pk)
        .filter(Q(holder=holder) | Q(holder="") | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + LEASE_TTL)
    )
    return taken == 1


def lease_renew(*, integration: Integration, kind: str, holder: str) -> bool:
    return (
        SyncLease.objects.filter(integration=integration, kind=kind, holder=holder).update(
            expires_at=timezone.now() + LEASE_TTL
        )
        == 1
    )


def lease_release(*, integration: Integration, kind: str, holder: str) -> None:
    SyncLease.objects.filter(integration=integration, kind=kind, holder=holder).update(
        holder="", expires_at=None
    )


def lease_is_held(*, integration: Integration, kind: str) -> bool:
    return (
        SyncLease.objects.filter(integration=integration, kind=kind, expires_at__gte=timezone.now())
        .exclude(holder="")
        .exists()
    )
