"""Django admin. Secrets are write-only here too: the stock admin would render the decrypted
value on change and view pages (even to view-only users), so the model field is excluded and a
separate password field sets it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from .models import (
    AlertEmail,
    AuditEntry,
    Integration,
    SyncError,
    SyncRange,
    SyncRun,
    UpstreamBudget,
)


class IntegrationAdminForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        label="Client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave blank to keep the stored secret.",
    )

    class Meta:
        model = Integration
        fields = [
            "group",
            "provider",
            "client_id",
            "organization_name",
            "organization_id",
            "api_base_url",
            "sync_tags",
            "sync_learning_paths",
            "status",
            "owner",
        ]

    def save(self, commit: bool = True) -> Integration:
        if self.cleaned_data.get("new_client_secret"):
            self.instance.client_secret = self.cleaned_data["new_client_secret"]
        return super().save(commit=commit)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationAdminForm
    list_display = ["group", "provider", "status", "last_content_sync", "last_stats_sync"]
    list_filter = ["provider", "status"]
    search_fields = ["group__name", "organization_name"]
    readonly_fields = ["activated_at", "last_content_sync", "last_stats_sync", "status_message"]

    def get_fields(self, request: Any, obj: Any = None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f != "client_secret"]
        if not self.has_change_permission(request, obj):
            fields = [f for f in fields if f != "new_client_secret"]
        return fields


class SyncErrorInline(admin.TabularInline):
    model = SyncError
    extra = 0
    can_delete = False
    fields = ["external_id", "category", "message"]
    readonly_fields = fields
    max_num = 0
    show_change_link = False


class SyncRangeInline(admin.TabularInline):
    """The page ranges of a statistics report split across workers: who holds which, how far."""

    model = SyncRange
    extra = 0
    can_delete = False
    fields = ["first", "last", "next_page", "done", "holder", "expires_at", "items", "failures",
              "error", "unstable", "scale"]  # fmt: skip
    readonly_fields = fields
    max_num = 0
    show_change_link = False


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["id", "integration", "kind", "trigger", "status", "created_at", "fetched"]
    list_filter = ["kind", "trigger", "status"]
    list_select_related = ["integration__group"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]
    inlines = [SyncRangeInline]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "integration", "actor", "action", "fields"]
    list_select_related = ["integration__group", "actor"]
    readonly_fields = ["integration", "actor", "action", "fields", "detail", "created_at"]


@admin.register(AlertEmail)
class AlertEmailAdmin(admin.ModelAdmin):
    """The alert outbox: what was sent, and what could not be yet (with the last error)."""

    list_display = [
        "created_at", "integration", "connection", "topic", "state", "sent_at", "attempts"
    ]  # fmt: skip
    list_filter = ["topic", "state"]
    list_select_related = ["integration__group", "connection__group"]
    readonly_fields = [f.name for f in AlertEmail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(UpstreamBudget)
class UpstreamBudgetAdmin(admin.ModelAdmin):
    """The shared request budgets on the database backend (no Redis): who holds slots, until
    when. Deleting a row frees its slots (a holder claims again within 10 pages)."""

    list_display = ["key", "holders", "pause_until", "updated_at"]
    readonly_fields = [f.name for f in UpstreamBudget._meta.fields]

    @admin.display(description="slots held")
    def holders(self, budget: UpstreamBudget) -> int:
        return sum(int(v[0]) for v in budget.slots.values() if isinstance(v, list) and v)

    def has_add_permission(self, request: Any) -> bool:
        return False
