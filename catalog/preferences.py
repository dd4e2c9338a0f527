"""A person's display preferences: the console's language and the time zone of every time shown,
kept with the account (`models.Preference`), so that the choice follows them to another browser
and decides the language and zone of the e-mails they receive.

- `PreferenceMiddleware` applies them to each request of a signed-in person (after Django's
  `LocaleMiddleware`, which has already picked the language from the switch's cookie or the
  browser's Accept-Language: a stored choice wins over both). The REST API and the xAPI door are
  left in English and UTC-free as `lmsbridge.middleware.EnglishApiMiddleware` makes them.
- `language_set` is Django's `set_language` view (the switch in the top bar) that also stores the
  choice of a signed-in person.
- `preferences` is the page where a person sets both.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .models import Preference

API_PREFIXES = ("/api/", "/xapi/")  # they keep English (lmsbridge.middleware.EnglishApiMiddleware)


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones a person may choose (the system's tz database or the tzdata package)."""
    # Region/City names and UTC: not the tz database's aliases for the machine's own zone
    # ("localtime") or its placeholder ("Factory").
    names = zoneinfo.available_timezones()
    return (*sorted(n for n in names if "/" in n and not n.startswith("posix/")), "UTC")


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


@dataclass(frozen=True)
class Locale:
    """What a person reads in: a language code and an IANA zone name."""

    language: str
    time_zone: str


def site_locale() -> Locale:
    return Locale(settings.LANGUAGE_CODE, settings.TIME_ZONE)


def locale_of(preference: Preference | None) -> Locale:
    """A stored preference with the site's defaults for what it leaves empty (or no longer
    valid: a zone removed from the tz database, a language the site stopped offering)."""
    site = site_locale()
    if preference is None:
        return site
    language = preference.language if preference.language in language_codes() else site.language
    zone = preference.time_zone if preference.time_zone in zone_names() else site.time_zone
    return Locale(language, zone)


def preference_get(user: Any) -> Preference | None:
    if user is None or not user.is_authenticated:
        return None
    return Preference.objects.filter(user=user).first()


def preference_set(user: Any, **values: str) -> Preference:
    preference, _created = Preference.objects.update_or_create(user=user, defaults=values)
    return preference


class PreferenceMiddleware:
    """Applies a signed-in person's stored language and time zone to the request (and puts the
    site's zone back afterwards: a worker thread serves other people next)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        preference = preference_get(getattr(request, "user", None))
        if preference is None:
            timezone.deactivate()
            return self.get_response(request)
        locale = locale_of(preference)
        timezone.activate(zoneinfo.ZoneInfo(locale.time_zone))
        try:
            if preference.language:
                translation.activate(locale.language)
                request.LANGUAGE_CODE = locale.language
            return self.get_response(request)
        finally:
            timezone.deactivate()


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The top bar's language switch: Django's `set_language` (cookie, then back to `next`), and
    for a signed-in person the choice is stored with the account."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if language in language_codes():
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            preference_set(user, language=language)
    return response


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Display language"),
        required=False,
        help_text=_("Empty: your browser's language."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Every time on these pages and in your e-mails is shown in this zone."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser's language"))] + [
            (code, name) for code, name in settings.LANGUAGES
        ]
        site_zone = settings.TIME_ZONE
        self.fields["time_zone"].choices = [
            ("", _("The site's zone (%(zone)s)") % {"zone": site_zone})
        ] + [(name, name.replace("_", " ")) for name in zone_names()]


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Your display language and time zone."""
    stored = preference_get(request.user)
    initial = {"language": "", "time_zone": ""}
    if stored is not None:
        initial = {"language": stored.language, "time_zone": stored.time_zone}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        preference_set(request.user, language=language, time_zone=form.cleaned_data["time_zone"])
        response = redirect("preferences")
        if language:
            translation.activate(language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        messages.success(request, _("Your display preferences are saved."))
        return response
    now = timezone.localtime()
    return render(
        request,
        "catalog/preferences.html",
        {"form": form, "now": now, "zone": timezone.get_current_timezone_name()},
    )
