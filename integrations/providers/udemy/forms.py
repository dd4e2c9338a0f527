"""The settings form of Settings → Integrations → Udemy. It validates input only (with the rule
the API serializer uses too: `settings.settings_errors`); services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from catalog.templatetags.admin_words import words_only
from integrations.core.concurrency import MAX_CONCURRENCY
from integrations.models import Integration
from shared.forms import SECRET_HELP_STORED, optional_text, secret_field

from .settings import CONFIG_FIELDS, settings_errors

SECRET_HELP_FIRST = _(
    "Required: no secret is stored yet. Write-only: never shown again once saved."
)

# Guidance of 360Learning's "Synchronize Udemy content with 360Learning", next to the fields.
CREDENTIALS_HELP = _(
    "From Udemy Business: enable the API in your Udemy Business platform (Manage → Settings → "
    "API), then copy client_id, client_secret, organization_name and organization_id from "
    "there (Udemy help: “How to enable and find your API credentials in Udemy Business”)."
)
TAGS_HELP = _(
    "Adds Udemy course categories as tags to the synchronized courses. Clearing the box stops "
    "adding tags: tags that were previously created won't be deleted or removed from courses."
)
PATHS_HELP = _(
    "You can only synchronize public Udemy learning paths through the Udemy API. Each becomes "
    "a course prefixed [Learning Path], its content listed as links in the description. "
    "Statistics for Udemy learning paths are not available. Turning it off archives every "
    "synced learning path at the next content sync (learners no longer see them; they come back "
    "with their history if you turn it on again)."
)
# Formatted when rendered (in the reader's language), not at import.
PAGES_HELP = lazy(
    lambda: (
        _(
            "Pages of one Udemy list requested at the same time, 1 to %(max)s. Leave blank for the "
            "default of this server. Lowered at once when Udemy answers 429 (too many requests); "
            "all syncs of one Udemy organization share its limit of requests in flight."
        )
        % {"max": MAX_CONCURRENCY}
    ),
    str,
)()
GUIDANCE = (
    (
        _("Learners' statistics"),
        _(
            "For Udemy statistics to be synchronized, users must use the same email address on "
            "both Udemy and this platform. Progress, completion date and minutes of video are "
            "synchronized every day (at 07:45 and 19:45 Central European Time by default); "
            "statistics for Udemy learning paths are not available."
        ),
    ),
    (
        _("Playing the content"),
        _(
            "Udemy content is played directly on Udemy: START sends the learner there, and Udemy "
            "grants or refuses access to the content."
        ),
    ),
)


class UdemyIntegrationForm(forms.Form):
    """Settings → Integrations → Udemy. The secret is write-only (never rendered back)."""

    client_id = forms.CharField(label="client_id", max_length=200, help_text=CREDENTIALS_HELP)
    client_secret = secret_field("client_secret", help_text=SECRET_HELP_FIRST)
    organization_name = forms.CharField(
        label="organization_name",
        max_length=100,
        help_text=_("Your Udemy Business portal name: acme for https://acme.udemy.com."),
    )
    organization_id = forms.CharField(
        label="organization_id",
        max_length=50,
        help_text=_("Shown with the API credentials in Udemy Business."),
    )
    api_base_url = optional_text(
        _("API base URL (optional)"),
        300,
        _(
            "Leave blank to use https://ORGANIZATION_NAME.udemy.com. "
            "Only allow-listed hosts are accepted."
        ),
    )
    sync_tags = forms.BooleanField(
        label=_("Enable tags synchronization"), required=False, help_text=TAGS_HELP
    )
    sync_learning_paths = forms.BooleanField(
        label=_("Enable learning paths synchronization"), required=False, help_text=PATHS_HELP
    )
    page_concurrency = forms.IntegerField(
        label=_("Pages fetched at once (optional)"),
        required=False,
        min_value=1,
        max_value=MAX_CONCURRENCY,
        help_text=PAGES_HELP,
    )
    # (title, text) paragraphs the settings page shows beside the form.
    guidance = GUIDANCE

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_secret:  # blank keeps the stored, verified secret
            self.fields["client_secret"].help_text = SECRET_HELP_STORED
        else:
            self.fields["client_secret"].required = True
            self.fields["client_secret"].error_messages["required"] = _(
                "Enter the client secret: none is stored yet."
            )

    @classmethod
    def for_integration(cls, integration: Integration, data: Any = None) -> UdemyIntegrationForm:
        """A form bound to `data` (POST) or filled from the integration, secret left out."""
        has_secret = bool(integration.pk and integration.client_secret)
        if data is not None:
            return cls(data, has_secret=has_secret)
        initial = {
            name: getattr(integration, name) for name in cls.base_fields if name != "client_secret"
        }
        return cls(initial=initial, has_secret=has_secret)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        present = {f: cleaned[f] for f in CONFIG_FIELDS if f in cleaned}  # valid so far
        for field, messages in settings_errors(present).items():
            if field in present:  # in words: a setting's name reads as what it allows
                self.add_error(field, [words_only(message) for message in messages])
        return cleaned
