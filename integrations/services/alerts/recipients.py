"""Who receives a group's alert e-mails: its active admins who did not turn them off, and the
site's `ADMINS`; and the per-admin switch (`AlertOptOut`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from integrations.models import AlertOptOut
from lmsbridge.catalog.models import Group, Membership


def alerts_enabled(*, user: AbstractBaseUser, group: Group) -> bool:
    """Whether `user` receives the alerts of the group's integrations (on unless turned off)."""
    return not AlertOptOut.objects.filter(user=user, group=group).exists()


def alerts_set_enabled(*, user: AbstractBaseUser, group: Group, enabled: bool) -> None:
    """Turn the alerts of a group on or off for one admin."""
    if enabled:
        AlertOptOut.objects.filter(user=user, group=group).delete()
    else:
        AlertOptOut.objects.get_or_create(user=user, group=group)


def alert_recipients(*, group: Group) -> list[str]:
    """The group's admins who did not turn alerts off, and the site's `ADMINS`."""
    opted_out = AlertOptOut.objects.filter(group=group).values("user_id")
    admins = (
        Membership.objects.filter(group=group, role=Membership.Role.ADMIN, learner__is_active=True)
        .exclude(learner__user__in=opted_out)
        .values_list("learner__email", flat=True)
    )
    addresses = [a for a in admins if a] + [address for _, address in settings.ADMINS]
    return sorted({a.strip().lower(): a.strip() for a in addresses if a.strip()}.values())
