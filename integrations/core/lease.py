"""A lease per (owner, kind) so two executions of a connector never run at once.

`select_for_update()` is a no-op on SQLite, so the lease is taken with one conditional UPDATE
(`… WHERE holder = me OR expires_at < now`), which is atomic on SQLite and PostgreSQL alike.

The holder names one *execution*: `run:<id>:<host>:<pid>:<nonce>`. A second delivery of the same
run while the first still executes finds the lease taken and waits. A task redelivered after its
process was killed takes the lease over at once when the dead holder ran on the same host (its
pid is gone); from another host it waits for the lease to expire.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

LEASE_TTL = timedelta(minutes=10)


def _host() -> str:
    # Bounded so that a holder fits its 64-character column whatever the host name.
    return socket.gethostname()[:32].replace(":", "-")


def execution_holder(run_id: int) -> str:
    return f"run:{run_id}:{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_run_id(holder: str) -> int | None:
    parts = holder.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[0] == "run" and parts[1].isdigit() else None


def holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this host in a process that no longer exists (or is a
    zombie: a killed pool process whose new parent, an init that does not reap, keeps it)."""
    parts = holder.split(":")
    if len(parts) != 5 or parts[2] != _host() or not parts[3].isdigit():
        return False
    pid = int(parts[3])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (not Linux): the process exists
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def acquire(model: type[models.Model], *, kind: str, holder: str, **scope: Any) -> bool:
    """Take the lease row of `model` (a `LeaseBase` subclass) for `scope` and `kind`."""
    lease, _ = model.objects.get_or_create(kind=kind, **scope)
    now = timezone.now()
    taken = (
        model.objects.filter(pk=lease.pk)
        .filter(Q(holder=holder) | Q(holder="") | Q(expires_at__lt=now))
        .update(holder=holder, expires_at=now + LEASE_TTL)
    )
    if taken:
        return True
    current = model.objects.filter(pk=lease.pk).values_list("holder", flat=True).first()
    if current and holder_is_dead(current):
        # Take over from a killed process of this host, only if it is still the holder.
        return (
            model.objects.filter(pk=lease.pk, holder=current).update(
                holder=holder, expires_at=now + LEASE_TTL
            )
            == 1
        )
    return False


def renew(model: type[models.Model], *, kind: str, holder: str, **scope: Any) -> bool:
    return (
        model.objects.filter(kind=kind, holder=holder, **scope).update(
            expires_at=timezone.now() + LEASE_TTL
        )
        == 1
    )


def release(model: type[models.Model], *, kind: str, holder: str, **scope: Any) -> None:
    model.objects.filter(kind=kind, holder=holder, **scope).update(holder="", expires_at=None)


def current(model: type[models.Model], *, kind: str, **scope: Any) -> tuple[str, float]:
    """The current holder and the seconds left on its lease ("" and 0 when free)."""
    lease = model.objects.filter(kind=kind, **scope).first()
    if lease is None or not lease.holder or lease.expires_at is None:
        return "", 0.0
    return lease.holder, max(0.0, (lease.expires_at - timezone.now()).total_seconds())


def is_held(model: type[models.Model], *, kind: str, **scope: Any) -> bool:
    """True while an unexpired holder has the lease."""
    return (
        model.objects.filter(kind=kind, expires_at__gte=timezone.now(), **scope)
        .exclude(holder="")
        .exists()
    )
