"""Who receives a group's alert e-mails: its active admins who did not turn them off, and the
site's `ADMINS`; and the per-admin switch (`AlertOptOut`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from catalog.models import Group, Membership, Preference
from catalog.preferences import Locale, locale_of, site_locale
from integrations.models import AlertOptOut


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
    return sorted(
        address for _locale, addresses in alert_audiences(group=group) for address in addresses
    )


def alert_audiences(*, group: Group) -> list[tuple[Locale, list[str]]]:
    """The recipients of `alert_recipients` by what they read: each admin's stored language and
    time zone (`Preference`, the site's where none), the site's for `ADMINS`. One e-mail is
    written per language and zone, so that each recipient reads theirs."""
    opted_out = AlertOptOut.objects.filter(group=group).values("user_id")
    admins = (
        Membership.objects.filter(group=group, role=Membership.Role.ADMIN, learner__is_active=True)
        .exclude(learner__user__in=opted_out)
        .values_list("learner__email", "learner__user_id")
    )
    admins = [(email.strip(), user_id) for email, user_id in admins if email and email.strip()]
    preferences = {
        p.user_id: p
        for p in Preference.objects.filter(user_id__in={u for _e, u in admins if u is not None})
    }
    by_address: dict[str, tuple[Locale, str]] = {}
    for email, user_id in admins:
        by_address.setdefault(email.lower(), (locale_of(preferences.get(user_id)), email))
    for _name, address in settings.ADMINS:
        if address.strip():
            by_address.setdefault(address.strip().lower(), (site_locale(), address.strip()))
    audiences: dict[Locale, list[str]] = {}
    for locale, address in by_address.values():
        audiences.setdefault(locale, []).append(address)
    ordered = sorted(
        audiences.items(),
        key=lambda item: (item[0] != site_locale(), item[0].language, item[0].time_zone),
    )
    return [(locale, sorted(addresses)) for locale, addresses in ordered]
