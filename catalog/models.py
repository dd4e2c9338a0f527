"""The platform side: groups (a tree), learners, memberships, the synced catalog and attempts.

This site is the embedded default learning platform. Courses are written by the sync services
of `integrations` only; nothing here talks to a provider.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Group(models.Model):
    """A group of the platform. Exactly one root group is the *platform group*."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_public = models.BooleanField(
        default=False, help_text="Learners of a public child group see this group's catalog."
    )
    is_platform = models.BooleanField(default=False, editable=False)
    remote_kind = models.CharField(max_length=30, blank=True, default="")
    remote_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_platform"],
                condition=models.Q(is_platform=True),
                name="one_platform_group",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Learner(models.Model):
    """A person of the platform, identified by e-mail (unique, case-insensitive)."""

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    language = models.CharField(max_length=10, default="en")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="learner",
    )
    is_active = models.BooleanField(default=True)
    remote_kind = models.CharField(max_length=30, blank=True, default="")
    remote_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="learner_email_ci_unique")]

    def __str__(self) -> str:
        return self.email


class Membership(models.Model):
    """A person in a group. Only `admin` gives rights here (the group's console, its alerts);
    `instructor` is recorded as the learning platform says and gives none.

    `imported` marks a membership a platform's directory import manages: its role follows the
    platform and it goes when the platform removes the member. One made by hand (`imported`
    false) is never changed or removed by an import."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        INSTRUCTOR = "instructor", _("Instructor")
        LEARNER = "learner", _("Learner")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.LEARNER)
    imported = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["group", "learner"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.group} ({self.role})"


class Tag(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


PATH_ID_PREFIX = "path-"


class Course(models.Model):
    """A course or learning path of a group's catalog, mirrored from a provider.

    `external_id` is the provider's id, unique per (integration, kind) and never changed:
    a learning path and a course may share a numeric id upstream. What the API and the exports
    show as `externalId` is `platform_external_id`, unique per integration.
    """

    class Kind(models.TextChoices):
        COURSE = "course", _("Course")
        LEARNING_PATH = "learning_path", _("Learning path")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")
        # New (or restored) by a scan, not shown to learners yet: published when the scan ends,
        # unless it brought more new items at once than the catalog can plausibly gain
        # (`services.content_review`), then held until an admin decides.
        HELD = "held", _("Held for review")
        # Held, then discarded by an admin: stays hidden while Udemy lists it (an admin may
        # still publish it); archived once Udemy no longer does.
        DISCARDED = "discarded", _("Discarded")

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="courses"
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="courses")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COURSE)
    external_id = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True, default="")
    image = models.URLField(max_length=1000, blank=True, default="")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    authors = models.JSONField(default=list, blank=True)
    lang = models.CharField(max_length=10, default="en")
    video_url = models.URLField(max_length=2000, blank=True, default="")
    launch_url = models.URLField(max_length=1000, blank=True, default="")
    modified_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="courses")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Set when a complete scan no longer listed it but the archival was held for review (more
    # than SYNC_ARCHIVE_MAX_SHARE absent at once); cleared by the admin's decision or the next
    # complete scan.
    missing_since = models.DateTimeField(null=True, blank=True)
    # Set when a complete scan held it as part of a flood of new items (awaiting an admin);
    # a held item without it waits for the end of a complete scan.
    held_since = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, default="")
    # SHA-256 of the upstream item as received (and of what else its mapping reads): an item
    # received again unchanged is not mapped at all.
    raw_fingerprint = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "kind", "external_id"], name="course_external_unique"
            )
        ]
        indexes = [
            models.Index(fields=["group", "status", "kind"]),
            # The catalog pages: a group's courses by title, a page at a time.
            models.Index(fields=["group", "title", "id"], name="course_group_title_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def platform_external_id(self) -> str:
        """The `externalId` shown by the API and the exports: "externalId must be unique per
        integration", and Udemy numbers courses and learning paths apart, so learning paths
        get their own namespace ("path-5" beside course "5"). The stored ids stay as they are."""
        if self.kind == self.Kind.LEARNING_PATH:
            return f"{PATH_ID_PREFIX}{self.external_id}"
        return self.external_id

    @classmethod
    def missing_for(cls, integration_id: int) -> models.QuerySet:
        """Published items a complete scan no longer listed, awaiting an admin's decision."""
        return cls.objects.filter(
            integration_id=integration_id, status=cls.Status.ACTIVE, missing_since__isnull=False
        )

    @classmethod
    def held_for(cls, integration_id: int) -> models.QuerySet:
        """New items a complete scan held for review (a flood), awaiting an admin's decision."""
        return cls.objects.filter(
            integration_id=integration_id, status=cls.Status.HELD, held_since__isnull=False
        )

    @classmethod
    def discarded_for(cls, integration_id: int) -> models.QuerySet:
        """Held items an admin discarded, still listed by Udemy."""
        return cls.objects.filter(integration_id=integration_id, status=cls.Status.DISCARDED)

    @classmethod
    def platform_external_id_lookup(cls, value: str, prefix: str = "") -> dict[str, str]:
        """Filter keywords for a `platform_external_id` (`prefix`: e.g. "course__")."""
        kind, external_id = cls.Kind.COURSE, value
        if value.startswith(PATH_ID_PREFIX):
            kind, external_id = cls.Kind.LEARNING_PATH, value.removeprefix(PATH_ID_PREFIX)
        return {f"{prefix}kind": kind, f"{prefix}external_id": external_id}


class Attempt(models.Model):
    """A learner's attempt on a course: opened (in progress) or closed (completed)."""

    class Source(models.TextChoices):
        PROVIDER = "provider", _("Provider statistics")
        LAUNCH = "launch", _("Launched from the platform")

    # No index of its own: the unique (learner, course, number) index starts with it, and a
    # second one would only be one more to update on every attempt a statistics sync inserts.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PROVIDER)
    first_activity = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0)
    time_spent_ms = models.BigIntegerField(default=0)
    is_open = models.BooleanField(default=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["course", "learner", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "course", "number"], name="attempt_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.course} #{self.number}"

    # 360Learning: "When a learner launches a course from 360Learning, the course is marked as
    # completed, and the progress is set to 0%". That completion is bookkeeping, not the learner
    # having finished on Udemy: where a completion came from is told apart, so that dashboards
    # count "Completed on Udemy" and "Launched" separately and learners and admins read the
    # same words.
    @classmethod
    def completed_on_udemy_q(cls) -> models.Q:
        """Completed per Udemy's figures: from statistics, or a launch that Udemy's statistics
        then reported finished (100 %, or a completion dated after the launch)."""
        return models.Q(completed_at__isnull=False) & (
            models.Q(source=cls.Source.PROVIDER)
            | models.Q(progress__gte=100)
            | models.Q(completed_at__gt=models.F("launched_at"))
        )

    @classmethod
    def launched_only_q(cls) -> models.Q:
        """Closed by a launch alone (counted as completed by 360Learning's rule)."""
        return models.Q(completed_at__isnull=False) & ~cls.completed_on_udemy_q()

    @property
    def completion_source(self) -> str | None:
        """ "udemy", "launch" or None (not completed): where the completion came from."""
        if self.completed_at is None:
            return None
        if (
            self.source == self.Source.PROVIDER
            or self.progress >= 100
            or (self.launched_at is not None and self.completed_at > self.launched_at)
        ):
            return "udemy"
        return "launch"


class Preference(models.Model):
    """A signed-in person's display choices, kept with the account so that they follow them to
    another browser and reach their e-mails: the console's language and the time zone in which
    times are shown. Empty: the browser's language (Accept-Language) and the site's zone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(_("display language"), max_length=10, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("display preference")
        verbose_name_plural = _("display preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or '-'} {self.time_zone or '-'}"
