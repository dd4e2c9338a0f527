"""Platform connections (LearnUpon, Coursebase) of a group: settings, runs, ledger, links.

A platform run is its own model (`PlatformRun`), not a `SyncRun`: a SyncRun belongs to a
Udemy `Integration`, and a group may have a platform connection without one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.core.fields import EncryptedTextField
from integrations.core.kinds import PLATFORM_CHOICES
from integrations.core.models import (
    AuditEntryBase,
    OwnerBase,
    RunBase,
    RunErrorBase,
    belongs_to,
    lease_model,
    optional_char,
    optional_user,
    owner_status,
    run_indexes_and_constraints,
    run_kind_and_trigger,
    run_trigger,
    unique,
)


class PlatformConnection(OwnerBase):
    """The learning platform a group is connected to (at most one per group).

    Secrets (`learnupon_password`, `coursebase_token`) are encrypted at rest and write-only:
    never rendered, returned by the API or logged.
    """

    LAST_RUN_FIELDS = {
        "directory": "last_import_at",
        "push": "last_push_at",
        "courses": "last_courses_at",
        "reports": "last_reports_at",
    }
    CONNECTOR_FIELD = "kind"

    Status = owner_status(inactive=_("Not tested"), active=_("Connected"))

    group = models.OneToOneField(
        "catalog.Group", on_delete=models.CASCADE, related_name="platform_connection"
    )
    kind = models.CharField(max_length=30, choices=PLATFORM_CHOICES)
    # LearnUpon (LearnUpon API: https://{portal}.learnupon.com/api/v1/, Basic auth)
    learnupon_portal = optional_char("Portal subdomain", 63)
    learnupon_username = optional_char("API username", 200)
    learnupon_password = EncryptedTextField("API password", blank=True, default="")
    learnupon_owner_id = optional_char(
        "Course owner id",
        20,
        "Numeric LearnUpon user id (admin or instructor) owning the created courses.",
    )
    target_group_id = optional_char(
        "Target group id",
        20,
        "Numeric LearnUpon group id the pushed courses are linked to when auto-enrollment is on.",
    )
    # LearnUpon API, "Create a course": `cataloged: true` lists the course in the portal
    # catalog, where every user of the portal sees it (even when the target group is private).
    # An explicit choice: empty until the admin makes it, and a push waits for it.
    learnupon_cataloged = models.BooleanField(
        "List pushed courses in the portal catalog",
        null=True,
        blank=True,
        help_text="Yes: every user of the LearnUpon portal sees the courses in its catalog and "
        "can enroll, even when the target group is private. No: the courses are not listed; "
        "only links to a group (auto-enrollment) or enrollments reach learners.",
    )
    # Linking a course to a LearnUpon group enrolls every member and every later joiner
    # (LearnUpon API: "Group Courses"): an explicit choice, confirmed with its enrollment count.
    auto_enroll = models.BooleanField(
        "Link courses to the target group (auto-enrollment)",
        default=False,
        help_text="Off: courses are only listed in the portal catalog, learners enroll "
        "themselves. On: every member of the target group is enrolled on every course.",
    )
    re_enroll_completed = models.BooleanField(
        "Re-enroll members who completed a course",
        default=False,
        help_text="Sent with each group link (LearnUpon's re_enroll_completed).",
    )
    # The consent is a number, not a switch: linking more courses, or to a bigger group, than
    # the admin confirmed stops linking and asks again (`auto_enroll_waiting`).
    auto_enroll_consent = models.PositiveIntegerField(
        "Confirmed enrollments",
        null=True,
        blank=True,
        help_text="courses × members the admin confirmed for the links to the target group "
        "(empty: nothing confirmed).",
    )
    auto_enroll_consent_courses = models.PositiveIntegerField(null=True, blank=True)
    auto_enroll_consent_members = models.PositiveIntegerField(null=True, blank=True)
    auto_enroll_consent_by = optional_user()
    auto_enroll_consent_at = models.DateTimeField(null=True, blank=True)
    auto_enroll_waiting = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the last push could not link without a new confirmation: courses, "
        "members, enrollments, confirmed, run (empty: nothing waits).",
    )
    # Coursebase (Coursebase API: POST https://{custom_domain}/api/{method}, Bearer token)
    coursebase_domain = optional_char("Custom domain", 253)
    coursebase_token = EncryptedTextField("API token", blank=True, default="")
    udemy_stats_from_report = models.BooleanField(
        "Read Udemy statistics from Coursebase",
        default=False,
        help_text="For a Udemy Business account connected through Coursebase: the group's "
        "statistics sync reads Coursebase's udemy_user_course_activity report instead of "
        "Udemy's API (same mapping and attempt rules).",
    )
    base_url = optional_char(
        "API base URL override", 300, "Optional; allow-listed hosts only (PLATFORM_ALLOWED_HOSTS)."
    )
    push_after_sync = models.BooleanField(
        "Push after each Udemy sync",
        default=True,
        help_text="LearnUpon only: push the catalog and completions after every sync.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INACTIVE)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_import_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_courses_at = models.DateTimeField(null=True, blank=True)
    last_reports_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ← {self.group}"


class PlatformRun(RunBase):
    """One directory import or catalog/completion push, with its counts and outcome."""

    OWNER = "connection"
    COUNTERS = (*RunBase.COUNTERS, "removed", "deactivated", "pending", "write_requests")

    class Kind(models.TextChoices):
        DIRECTORY = "directory", _("Directory import")
        PUSH = "push", _("Catalog and completion push")
        COURSES = "courses", _("Course list import")
        REPORTS = "reports", _("Report export")

    Trigger = run_trigger("SYNC", "sync", _("After a Udemy sync"))

    connection = belongs_to(PlatformConnection, "runs")
    kind, trigger = run_kind_and_trigger(Kind, Trigger)
    dry_run = models.BooleanField(default=False)
    removed = models.PositiveIntegerField(default=0, help_text="Memberships removed, detached.")
    deactivated = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0, help_text="Waiting on something else.")
    write_requests = models.PositiveIntegerField(default=0)
    waited_seconds = models.FloatField(default=0)
    details = models.JSONField(default=dict, blank=True, help_text="Counts per stream.")
    plan = models.JSONField(default=list, blank=True, help_text="Dry run: what would be sent.")

    class Meta(RunBase.Meta):
        indexes, constraints = run_indexes_and_constraints(
            "connection", daily_name="one_scheduled_platform_run_per_day"
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class PlatformError(RunErrorBase):
    """One item the platform refused or the mapping rejected (or a run-level failure)."""

    run = belongs_to(PlatformRun, "errors")


class PlatformLedgerItem(models.Model):
    """What was sent for one local item and what the platform answered.

    Drives the push: no item → create; other fingerprint → update; errored → retried;
    same fingerprint → skipped. `state` keeps the remote ids of the item's parts
    (`group_course_id`, `group_id`, `published`, `markcomplete_id`).
    """

    class ItemType(models.TextChoices):
        COURSE = "course", _("Course")
        COMPLETION = "completion", _("Completion")

    connection = belongs_to(PlatformConnection, "ledger")
    item_type = models.CharField(max_length=20, choices=ItemType.choices)
    local_id = models.CharField(max_length=64)
    remote_id = models.CharField(max_length=64, blank=True, default="")
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    state = models.JSONField(default=dict, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_excerpt = models.CharField(max_length=300, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    errored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [unique("connection", "item_type", "local_id", name="platform_ledger_unique")]

    def __str__(self) -> str:
        return f"{self.item_type} {self.local_id} → {self.remote_id or '?'}"

    @property
    def is_errored(self) -> bool:
        return self.errored_at is not None and (
            self.sent_at is None or self.errored_at > self.sent_at
        )


class PlatformDirectoryLink(models.Model):
    """A platform group or user imported by a connection, and the local row it became.

    Scopes the import to its connection (two portals may both have a user 42) and remembers
    which learners the import deactivated (so it reactivates only those).
    """

    class ItemType(models.TextChoices):
        GROUP = "group", _("Group")
        USER = "user", _("User")

    connection = belongs_to(PlatformConnection, "links")
    item_type = models.CharField(max_length=10, choices=ItemType.choices)
    remote_id = models.CharField(max_length=100)
    group = models.ForeignKey(
        "catalog.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    learner = models.ForeignKey(
        "catalog.Learner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    present = models.BooleanField(default=True, help_text="Seen by the last complete import.")

    class Meta:
        constraints = [unique("connection", "item_type", "remote_id", name="platform_link_unique")]

    def __str__(self) -> str:
        return f"{self.item_type} {self.remote_id} of connection {self.connection_id}"


PlatformLease = lease_model(
    "PlatformLease", PlatformConnection, "connection", constraint="platform_lease_unique"
)


class PlatformAuditEntry(AuditEntryBase):
    """Who changed or ran what on a connection, and when. A refused first save has no
    connection to hang on (nothing was stored): it names the group instead, and shows in the
    trail of the connection the group saves later."""

    connection = models.ForeignKey(
        PlatformConnection, null=True, blank=True, on_delete=models.CASCADE, related_name="audit"
    )
    group = models.ForeignKey(
        "catalog.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta(AuditEntryBase.Meta):
        verbose_name = _("platform audit entry")
        verbose_name_plural = _("platform audit entries")


class PlatformCourse(models.Model):
    """A course of the platform (Coursebase API, org.courses.list), and the synced Udemy course
    of the group it matches by title where that is unambiguous.

    `learners` / `completed` / `completion_rate` come from the platform's `courses` report."""

    class Match(models.TextChoices):
        MATCHED = "matched", _("Matched")
        AMBIGUOUS = "ambiguous", _("Several courses have this title")
        NONE = "none", _("No synced course has this title")

    connection = belongs_to(PlatformConnection, "platform_courses")
    remote_id = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    present = models.BooleanField(default=True, help_text="In the last complete course list.")
    course = models.ForeignKey(
        "catalog.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.NONE)
    learners = models.PositiveIntegerField(null=True, blank=True)
    completed = models.PositiveIntegerField(null=True, blank=True)
    completion_rate = models.FloatField(null=True, blank=True)
    report_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [unique("connection", "remote_id", name="platform_course_unique")]
        indexes = [models.Index(fields=["course"], name="platform_course_course_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.remote_id})"


class PlatformLearnerProgress(models.Model):
    """A learner's progress on a platform course, from the platform's `learners` report
    (matched to learners by e-mail, like Udemy's statistics)."""

    connection = belongs_to(PlatformConnection, "learner_progress")
    course_remote_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254, help_text="Lower-cased login ID.")
    status = models.CharField(max_length=20)
    progress = models.FloatField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            unique("connection", "course_remote_id", "email", name="platform_progress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.email} on {self.course_remote_id}: {self.progress}"
