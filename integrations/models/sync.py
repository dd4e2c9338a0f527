"""Connector state: integrations per group, sync runs, per-item errors, leases and the audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.core.concurrency import MAX_CONCURRENCY
from integrations.core.fields import EncryptedTextField
from integrations.core.kinds import PROVIDER_CHOICES
from integrations.core.models import (
    AuditEntryBase,
    LeaseBase,
    OwnerBase,
    RunBase,
    RunErrorBase,
    belongs_to,
    lease_model,
    optional_user,
    owner_status,
    run_index,
    run_kind_and_trigger,
    run_trigger,
    unique,
)

# Each content provider's check of a launch URL (key → check(integration, url)), given by
# `integrations.connectors.providers` when the app is ready: the models import no provider.
LAUNCH_URL_CHECKS: dict[str, Callable[[Integration, str], bool]] = {}


class Integration(OwnerBase):
    """A provider connected to a target group (Settings → Integrations → <provider>)."""

    LAST_RUN_FIELDS = {"content": "last_content_sync", "stats": "last_stats_sync"}
    CONNECTOR_FIELD = "provider"

    Status = owner_status(inactive=_("Inactive"), active=_("Active"))

    group = models.ForeignKey(
        "catalog.Group", on_delete=models.CASCADE, related_name="integrations"
    )
    provider = models.CharField(max_length=30, choices=PROVIDER_CHOICES, default="udemy")
    client_id = models.CharField(max_length=200, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    organization_name = models.CharField(max_length=100, blank=True, default="")
    organization_id = models.CharField(max_length=50, blank=True, default="")
    api_base_url = models.URLField(
        max_length=300,
        blank=True,
        default="",
        help_text="Optional override of the API base URL (allow-listed hosts only).",
    )
    sync_tags = models.BooleanField("Enable tags synchronization", default=False)
    sync_learning_paths = models.BooleanField(
        "Enable learning paths synchronization", default=False
    )
    page_concurrency = models.PositiveSmallIntegerField(
        "Pages fetched at once",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CONCURRENCY)],
        help_text="Pages of one Udemy list requested at the same time (1 to 16); empty: the "
        "UDEMY_PAGE_CONCURRENCY setting. Lowered at once when Udemy answers 429.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INACTIVE)
    owner = optional_user(
        help_text="The admin who set the integration up (their language is the fallback)."
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    last_content_sync = models.DateTimeField(null=True, blank=True)
    last_stats_sync = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        constraints = [unique("group", "provider", name="integration_per_group")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} → {self.group}"

    def launch_url_allowed(self, url: str) -> bool:
        """Whether START may send a learner to `url`, a launch URL of this integration's courses
        (the provider's `launch_url_allowed`: its own sites only). No such check: refused."""
        check = LAUNCH_URL_CHECKS.get(self.provider)
        return bool(check and check(self, url))

    def last_success_at(self, kind: str):
        """When a run of `kind` last went through, else since when it could have."""
        return getattr(self, self.LAST_RUN_FIELDS[kind]) or self.activated_at or self.created_at

    def is_stale(self, kind: str, now=None) -> bool:
        """Runs (Active or Error) but no run of `kind` went through for
        `SYNC_STALE_AFTER_HOURS` (counted from its activation when it never had one)."""
        since = self.last_success_at(kind)
        if not self.accepts_runs or since is None:
            return False
        limit = timedelta(hours=settings.SYNC_STALE_AFTER_HOURS)
        return (now or timezone.now()) - since > limit


RATIO_SCALES = [("", "Undecided"), ("0-100", "0–100"), ("0-1", "0–1")]


@dataclass(frozen=True)
class StreamProgress:
    name: str
    label: str
    done: int
    total: int | None  # None: the stream's first page is not read yet
    complete: bool
    ranges: int = 0  # a report split across workers: its page ranges (0: not split)
    expected: int | None = None  # what the previous run read, until `total` is known

    @property
    def weight(self) -> int:
        """The items this stream counts for in the run's progress."""
        if self.total is not None:
            return max(self.total, self.done)
        return max(self.expected or 0, self.done)

    @property
    def done_weight(self) -> int:
        return self.weight if self.complete else min(self.done, self.weight)

    @property
    def percent(self) -> int:
        if self.complete:
            return 100
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))


class SyncRun(RunBase):
    """One execution of a Udemy sync, with its counts, progress, checkpoint and outcome."""

    OWNER = "integration"
    COUNTERS = (
        *RunBase.COUNTERS,
        "archived",
        "restored",
        "unmatched_learners",
        "anonymized",
        "pending",
        "not_started",
        "progress_done",
    )

    class Kind(models.TextChoices):
        CONTENT = "content", _("Content")
        STATS = "stats", _("Statistics")

    Trigger = run_trigger("COMMAND", "command", _("Command"))

    integration = belongs_to(Integration, "runs")
    kind, trigger = run_kind_and_trigger(Kind, Trigger)
    archived = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    unmatched_learners = models.PositiveIntegerField(default=0)
    anonymized = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    not_started = models.PositiveIntegerField(
        default=0, help_text="Statistics rows of learners only enrolled: no attempt is created."
    )
    unmatched_emails = models.JSONField(default=list, blank=True)
    # Progress: items done / total (total from the first page's `count`)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    # The same per stream, every stream of the run listed from its start (a stream not reached
    # yet has no total): {"courses": {"label": "Courses", "done": 300, "total": 300,
    # "complete": true}, "learning_paths": {...}}. Written with each page's checkpoint.
    stream_progress = models.JSONField(default=dict, blank=True)
    # Resumption: the last committed page of each stream, e.g. {"courses": 7}
    checkpoint = models.JSONField(default=dict, blank=True)
    archival_decision = models.CharField(max_length=20, blank=True, default="")
    archival_reason = models.CharField(max_length=500, blank=True, default="")
    ratio_scale = models.CharField(
        "completion ratio scale",
        max_length=10,
        choices=RATIO_SCALES,
        blank=True,
        default="",
        help_text="Statistics: the scale of the report's completion ratios, decided once from "
        "all of them.",
    )
    # Which daily schedule created the run ("" the morning one, "evening" the 19:45 statistics):
    # part of the once-a-day guard, so the two statistics schedules of a day both run.
    scheduled_slot = models.CharField(max_length=20, blank=True, default="")

    class Meta(RunBase.Meta):
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        # The core's index; its once-a-day guard is replaced by one per day *and* schedule slot.
        indexes = [run_index("integration")]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "kind", "scheduled_for", "scheduled_slot"],
                condition=models.Q(trigger="schedule"),
                name="one_scheduled_run_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync #{self.pk} ({self.status})"

    @property
    def streams(self) -> list[StreamProgress]:
        """Each stream's progress, in the order the run reads them."""
        return [
            StreamProgress(
                name=name,
                label=entry.get("label") or name.replace("_", " ").capitalize(),
                # A report split across workers: they add to the run's counter, not to this.
                done=max(
                    int(entry.get("done") or 0), self.progress_done if "split" in entry else 0
                ),
                total=entry.get("total"),
                complete=bool(entry.get("complete")),
                ranges=int(entry.get("split") or 0),
                expected=entry.get("expected"),
            )
            for name, entry in (self.stream_progress or {}).items()
        ]

    @property
    def progress_percent(self) -> int:
        """Items done over items expected, across the streams: a stream weighs its items
        (1,500 courses done and 12 paths not read yet is 99 %, not 50 %); a stream not read yet
        weighs what the previous run read of it, so the figure barely moves back when it
        announces its total. A run that stopped shows where it stopped."""
        if self.status == self.Status.SUCCEEDED:
            return 100
        streams = self.streams
        if streams:
            expected = sum(s.weight for s in streams)
            percent = 100 * sum(s.done_weight for s in streams) // expected if expected else 0
            # A stream not complete (or never read, its size unknown) keeps the bar below 100.
            return min(percent, 100 if all(s.complete for s in streams) else 99)
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def progress_state(self) -> str:
        """How the bar reads: "running", "succeeded", "partial" or "failed" (red)."""
        if self.status in (self.Status.FAILED, self.Status.TIMED_OUT):
            return "failed"
        if self.status in (self.Status.SUCCEEDED, self.Status.PARTIAL):
            return str(self.status)
        return "running"


class SyncError(RunErrorBase):
    """One bad item of a sync (or a run-level failure when `external_id` is empty)."""

    run = belongs_to(SyncRun, "errors")


class SyncPage(models.Model):
    """The external ids of one committed page of a run: checkpoint and archival ledger.

    Written in the same transaction as the page's upserts, so the last row of a run *is* its
    checkpoint, and a resumed run still knows every id it saw before the crash.
    """

    run = belongs_to(SyncRun, "pages")
    stream = models.CharField(max_length=30)
    number = models.PositiveIntegerField()
    external_ids = models.JSONField(default=list)

    class Meta:
        constraints = [unique("run", "stream", "number", name="sync_page_unique")]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.stream} page {self.number}"


class SyncRange(LeaseBase):
    """A range of pages of a statistics report split across workers (`services.stats_split`).

    Whichever worker is free claims it (the lease fields: `kind` is the stream), commits its pages
    one by one (`next_page`, in each page's transaction) and marks it done; a claim its worker
    stopped renewing, or whose process died, is taken over. `evidence` counts the range's
    completion ratios for the report's scale, `scale` is the one its pages were applied on.
    """

    run = belongs_to(SyncRun, "ranges")
    kind = models.CharField(max_length=30)  # the stream (`SyncPage.stream`)
    first = models.PositiveIntegerField()
    last = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: to the end.")
    next_page = models.PositiveIntegerField()
    done = models.BooleanField(default=False)
    scale = models.CharField(max_length=10, blank=True, default="")
    evidence = models.JSONField(default=dict, blank=True)
    items = models.PositiveIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=1000, blank=True, default="")
    unstable = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [unique("run", "kind", "first", name="sync_range_unique")]
        ordering = ["first"]

    def __str__(self) -> str:
        return f"pages {self.first}–{self.last or 'end'}"


SyncLease = lease_model("SyncLease", Integration, "integration", constraint="lease_unique")


class PendingStatistic(models.Model):
    """A statistics row for a course not (yet) in the catalog: applied by a later run. Kept
    `STATS_PENDING_MAX_AGE_DAYS` after `last_seen` (the last report that named it), at most
    `STATS_PENDING_MAX_ROWS` per integration (`services.stats_pending`)."""

    integration = belongs_to(Integration, "pending_stats")
    external_course_id = models.CharField(max_length=64)
    email = models.CharField(max_length=254)
    payload = models.JSONField()
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            unique("integration", "external_course_id", "email", name="pending_stat_unique")
        ]
        indexes = [models.Index(fields=["integration", "last_seen"], name="pending_stat_seen")]

    def __str__(self) -> str:
        return f"pending {self.email} on {self.external_course_id}"


class AuditEntry(AuditEntryBase):
    """Who changed an integration or requested a sync, and when."""

    integration = belongs_to(Integration, "audit")

    class Meta(AuditEntryBase.Meta):
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")


class UpstreamBudget(models.Model):
    """The request budget of one upstream account (a Udemy organization), shared by every sync
    and every worker: the database backend of `core.budget` (Redis holds it when Redis is the
    broker). `pause_until`: no request before then (a 429's Retry-After); `slots`: the requests
    in flight, holder -> expiry (epoch seconds), so a killed worker's slots lapse."""

    key = models.CharField(max_length=200, unique=True)
    pause_until = models.FloatField(default=0.0)
    slots = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Udemy request budget")
        verbose_name_plural = _("Udemy request budgets")

    def __str__(self) -> str:
        return f"budget {self.key}"
