"""The platform connection form (Settings → Learning platform). It validates input only; the
services write. Secrets are write-only: never rendered, a blank field keeps the stored one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.templatetags.admin_words import words_only
from integrations.connectors.connection_settings import SECRET, connection_errors, fields_for_kind
from integrations.core.kinds import PLATFORM_CHOICES
from integrations.models import PlatformConnection
from shared.forms import SECRET_HELP_STORED, StrOrPromise, optional_text, secret_field

CATALOGED_CHOICES = [
    (True, _("Yes: list them in the portal catalog (every user of the portal sees them)")),
    (False, _("No: don't list them (only group links and enrollments reach learners)")),
]
CATALOGED_HELP = _(
    "LearnUpon's cataloged: true shows each pushed course in the portal catalog to every user "
    "of the portal, who can enroll, even when the target group is private. Choose explicitly: "
    "pushes wait until you do."
)


# The help under each text setting (its length is the model column's, `column_text`).
TEXT_HELP = {
    "learnupon_portal": _("The subdomain: acme for https://acme.learnupon.com."),
    "learnupon_owner_id": _(
        "Numeric id of the LearnUpon admin or instructor who owns pushed courses."
    ),
    "target_group_id": _("Numeric id of the LearnUpon group the pushed courses are added to."),
    "coursebase_domain": _(
        "The host only, e.g. learn.acme.com (your IT team allows it for this site)."
    ),
    "base_url": _("Leave blank to use the platform's address. Only allow-listed hosts."),
}


def column_text(column: str, label: StrOrPromise) -> forms.CharField:
    """An optional text setting of the connection's `column`: as long as the column allows,
    with its help from `TEXT_HELP`."""
    max_length = PlatformConnection._meta.get_field(column).max_length
    return optional_text(label, max_length, TEXT_HELP.get(column, ""))


class PlatformConnectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES)
    learnupon_portal = column_text("learnupon_portal", _("LearnUpon portal"))
    learnupon_username = column_text("learnupon_username", _("API username"))
    learnupon_password = secret_field(_("API password"), max_length=1000)
    learnupon_owner_id = column_text("learnupon_owner_id", _("Course owner id"))
    target_group_id = column_text("target_group_id", _("Target group id"))
    learnupon_cataloged = forms.NullBooleanField(
        label=_("List the pushed courses in the LearnUpon portal catalog"),
        required=False,
        widget=forms.RadioSelect(choices=CATALOGED_CHOICES),
        help_text=CATALOGED_HELP,
    )
    coursebase_domain = column_text("coursebase_domain", _("Coursebase custom domain"))
    coursebase_token = secret_field(_("API token"), max_length=1000)
    base_url = column_text("base_url", _("API base URL (optional)"))
    push_after_sync = forms.BooleanField(
        label=_("Push the catalog and completions after each Udemy sync (LearnUpon)"),
        required=False,
    )
    udemy_stats_from_report = forms.BooleanField(
        label=_("Read the Udemy statistics from Coursebase (udemy_user_course_activity report)"),
        required=False,
        help_text=_(
            "Only for a Udemy Business account connected through Coursebase: the statistics "
            "sync then reads Coursebase's export of Udemy's activity instead of the Udemy API, "
            "with the same mapping and attempt rules."
        ),
    )

    def __init__(self, *args: Any, connection: PlatformConnection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        chosen = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        self.kind = str(chosen or connection.kind or PLATFORM_CHOICES[0][0])
        shown = set(fields_for_kind(self.kind))
        for name in [name for name in self.fields if name not in shown]:
            del self.fields[name]  # only the chosen platform's settings are shown and applied
        for name in SECRET.values():
            if name in self.fields and connection.pk and getattr(connection, name):
                self.fields[name].help_text = SECRET_HELP_STORED

    @classmethod
    def for_connection(cls, connection: PlatformConnection, data: Any = None, kind: str = ""):
        """Bound to `data` (POST) or filled from the connection (for `kind` when another
        platform is being chosen), secrets left out."""
        if data is not None:
            return cls(data, connection=connection)
        initial = {
            name: getattr(connection, name)
            for name in cls.base_fields
            if name not in SECRET.values()
        }
        if kind in dict(PLATFORM_CHOICES):
            initial["kind"] = kind
        if connection.pk is None:
            initial["push_after_sync"] = True
        return cls(initial=initial, connection=connection)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        kind = data["kind"]
        stored = bool(self.connection.pk and getattr(self.connection, SECRET[kind]))
        chosen = self.connection.pk is not None and self.connection.learnupon_cataloged is not None
        errors = connection_errors(data, stored_secret=stored, stored_cataloged=chosen)
        for name, messages in errors.items():
            for message in messages:  # in words: a setting's name reads as what it allows
                self.add_error(name, words_only(message))
        return data
