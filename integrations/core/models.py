"""The shape every connector's runs share, written once as abstract models.

A concrete run model (`SyncRun` for Udemy syncs, `PlatformRun` for learning-platform imports
and pushes) adds the foreign key to what it runs for (its *owner*: an `Integration`, a
`PlatformConnection`), its kinds and triggers, and its own counters. Its errors, its lease and
its audit entries are concrete subclasses of `RunErrorBase`, `LeaseBase` and `AuditEntryBase`
with that same foreign key. Abstract models (rather than one table with a kind column) keep each
side's constraints and indexes on real foreign keys, and leave the existing tables as they are.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def unique(*fields: str, name: str) -> models.UniqueConstraint:
    """`Meta.constraints` shorthand: the `fields` are unique together."""
    return models.UniqueConstraint(fields=list(fields), name=name)


def optional_char(verbose_name: str, max_length: int, help_text: str = "") -> models.CharField:
    """A setting that may stay blank (stored as "")."""
    return models.CharField(
        verbose_name, max_length=max_length, blank=True, default="", help_text=help_text
    )


def optional_user(**options: object) -> models.ForeignKey:
    """A user the row remembers (who ran, changed or confirmed it), emptied when the user is
    deleted; no reverse accessor."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        **options,
    )


def belongs_to(model: type[models.Model] | str, related_name: str) -> models.ForeignKey:
    """The row's owner (an integration, a connection, a run): deleted with it."""
    return models.ForeignKey(model, on_delete=models.CASCADE, related_name=related_name)


def _choices_here(name: str, members: list[tuple[str, tuple[str, str]]]) -> type:
    """A `TextChoices` named `name`, made for the class body that called the caller: its
    module and qualified name are that class's, as if the enum were written there."""
    caller = sys._getframe(2)
    owner = caller.f_locals.get("__qualname__", "")
    return models.TextChoices(
        name,
        members,
        module=caller.f_globals["__name__"],
        qualname=f"{owner}.{name}" if owner else name,
    )


def owner_status(*, inactive: str, active: str) -> type[models.TextChoices]:
    """An owner's `Status` (the values `OwnerBase` relies on), with the owner's own words for
    the inactive and active states; "Error" reads the same everywhere. Called in the owner's
    class body."""
    return _choices_here(
        "Status",
        [
            ("INACTIVE", ("inactive", inactive)),
            ("ACTIVE", ("active", active)),
            ("ERROR", ("error", _("Error"))),
        ],
    )


def run_trigger(name: str, value: str, label: str) -> type[models.TextChoices]:
    """A run model's `Trigger`: the schedule, a click and the API (what `core` starts runs
    with and audits), then the model's own trigger (`name` = `value`, `label`). Called in the
    run model's class body."""
    return _choices_here(
        "Trigger",
        [
            ("SCHEDULE", ("schedule", _("Schedule"))),
            ("MANUAL", ("manual", _("Manual"))),
            ("API", ("api", _("API"))),
            (name, (value, label)),
        ],
    )


def run_kind_and_trigger(
    kind: type[models.TextChoices], trigger: type[models.TextChoices]
) -> tuple[models.CharField, models.CharField]:
    """A run model's `kind` and `trigger` columns, over its `Kind` and `Trigger`."""
    return (
        models.CharField(max_length=20, choices=kind.choices),
        models.CharField(max_length=10, choices=trigger.choices),
    )


class ErrorKind(models.TextChoices):
    """Why an owner is in Error: what the admin has to do differs."""

    NONE = "", "—"
    CREDENTIALS = "credentials", _("Credentials refused")
    UNAVAILABLE = "unavailable", _("Service unavailable")
    BAD_RESPONSE = "bad_response", _("Bad responses")


class OwnerBase(models.Model):
    """What runs belong to: a Udemy `Integration`, a `PlatformConnection`. Subclasses add
    `status` with a `Status` made by `owner_status` (ACTIVE, ERROR and INACTIVE; the executor
    sets the first two), their lease model's foreign key with `related_name="leases"`, and
    `LAST_RUN_FIELDS`: per run kind, the field dated when a run of that kind goes through.

    Error is a state to recover from, not a stop: an owner in Error keeps its schedule and
    accepts runs (`accepts_runs`); its next successful run brings it back to Active. Only
    deactivation (INACTIVE) stops the schedule."""

    LAST_RUN_FIELDS: dict[str, str] = {}
    # The field naming what the owner connects: a provider or platform kind (a registry key),
    # the `provider` label of its runs' metrics and log lines.
    CONNECTOR_FIELD = ""
    ErrorKind = ErrorKind

    status_message = models.CharField(max_length=500, blank=True, default="")
    error_kind = models.CharField(
        max_length=20,
        choices=ErrorKind.choices,
        blank=True,
        default="",
        help_text="Why the last run put it in Error (credentials, service, responses).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def connector(self) -> str:
        return str(getattr(self, self.CONNECTOR_FIELD, "")) if self.CONNECTOR_FIELD else ""

    @property
    def accepts_runs(self) -> bool:
        """Scheduled and syncable by hand: Active, or in Error (to recover from)."""
        return self.status in (self.Status.ACTIVE, self.Status.ERROR)

    @classmethod
    def running_statuses(cls) -> tuple[str, str]:
        """The statuses `accepts_runs` is true for (for querysets)."""
        return (cls.Status.ACTIVE, cls.Status.ERROR)


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Partial")
    FAILED = "failed", _("Failed")
    TIMED_OUT = "timed_out", _("Timed out")
    SKIPPED = "skipped", _("Skipped")


class RunBase(models.Model):
    """One execution: status, timestamps, counters, outcome.

    Subclasses set `OWNER` (the name of their foreign key), `COUNTERS` (the integer fields a run
    adds to as it goes, see `core.runs.run_add_counts`), a `Kind`, a `Trigger` (`run_trigger`)
    and their columns (`run_kind_and_trigger`).
    """

    OWNER = ""
    COUNTERS: tuple[str, ...] = ("fetched", "created", "updated", "unchanged", "failed")
    Status = RunStatus
    FINISHED = (
        RunStatus.SUCCEEDED,
        RunStatus.PARTIAL,
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.SKIPPED,
    )
    BUSY = (RunStatus.QUEUED, RunStatus.RUNNING)

    triggered_by = optional_user()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    scheduled_for = models.DateField(
        null=True, blank=True, help_text="Local date of a scheduled run (one per day and kind)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error_summary = models.TextField(blank=True, default="")
    task_id = models.CharField(max_length=64, blank=True, default="")
    # A rescheduled run (rate limit, waiting for another run): until when, and why.
    waiting_until = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.CharField(max_length=300, blank=True, default="")
    # What the run did not do on its own and an admin should know or decide, e.g. a held
    # archival: [{"code": ..., "message": ...}]. A succeeded run with warnings reads
    # "Succeeded with warning".
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def waiting_now(self) -> bool:
        """Running, and waiting (a retry, a rate limit, a reschedule) until a time to come."""
        return (
            self.status == RunStatus.RUNNING
            and self.waiting_until is not None
            and self.waiting_until > timezone.now()
        )

    @property
    def status_label(self) -> str:
        """The status in words, with the warning a succeeded run may carry."""
        if self.warnings and self.status == RunStatus.SUCCEEDED:
            return gettext("Succeeded with warning")
        return self.get_status_display()

    @property
    def owner(self) -> models.Model:
        return getattr(self, self.OWNER)

    @property
    def owner_id(self) -> int:
        return getattr(self, f"{self.OWNER}_id")

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


def run_index(owner: str) -> models.Index:
    """A run model's index: the runs of an owner by kind, newest first."""
    return models.Index(fields=[owner, "kind", "-created_at"])


def run_indexes_and_constraints(owner: str, *, daily_name: str) -> tuple[list, list]:
    """A run model's `Meta.indexes` and `Meta.constraints`: `run_index`; at most one scheduled
    run per owner, kind and local day (a double beat tick fails)."""
    index = run_index(owner)
    daily = models.UniqueConstraint(
        fields=[owner, "kind", "scheduled_for"],
        condition=models.Q(trigger="schedule"),
        name=daily_name,
    )
    return [index], [daily]


class RunErrorBase(models.Model):
    """One bad item of a run (or a run-level failure when `external_id` is empty).

    Subclasses add `run = ForeignKey(<run model>, related_name="errors")`.
    """

    external_id = models.CharField(max_length=100, blank=True, default="")
    category = models.CharField(max_length=50)
    message = models.CharField(max_length=1000)
    excerpt = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.category}: {self.message[:60]}"


class LeaseBase(models.Model):
    """At most one running execution per (owner, kind): taken by a conditional UPDATE
    (`core.lease`). A concrete lease is made by `lease_model`."""

    kind = models.CharField(max_length=20)
    holder = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"lease {self.kind} until {self.expires_at}"


def lease_model(
    name: str, owner: type[models.Model], field: str, *, constraint: str
) -> type[LeaseBase]:
    """The lease model `name` of an owner model, in the calling module: the owner's key
    `field` (`related_name="leases"`, as `OwnerBase` expects) and a unique (owner, kind) named
    `constraint`."""
    meta = type("Meta", (), {"constraints": [unique(field, "kind", name=constraint)]})
    attrs = {
        "__module__": sys._getframe(1).f_globals["__name__"],
        "__qualname__": name,
        "__doc__": f"At most one running execution per ({field}, kind).",
        field: belongs_to(owner, "leases"),
        "Meta": meta,
    }
    return type(name, (LeaseBase,), attrs)


class AuditEntryBase(models.Model):
    """Who changed or ran what, and when: field names only, never values of secrets.

    Subclasses add the owner's foreign key with `related_name="audit"`."""

    actor = optional_user()
    action = models.CharField(max_length=30)
    fields = models.JSONField(default=list, blank=True)
    # The new value of each changed on/off setting ({"sync_tags": false}), so the trail reads
    # "turned tags synchronization off"; only booleans, never a text or a secret.
    toggles = models.JSONField(default=dict, blank=True)
    detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"
