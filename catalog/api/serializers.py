"""API input and output of the catalog: groups, learners, courses and statistics.

Validation lives here (query parameters: `catalog.filters`); writes happen in the
services the views call. Field names of courses and statistics are the platform's
(`externalId`, `learnerMail`...), as in the mapping tables of the 360Learning help page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Course, Group, Learner
from catalog.selectors import (
    group_list_administered,
    group_slug_is_listed,
    learner_email_is_listed,
)
from shared.api.fields import (
    SingleLineCharField,
    StrictBooleanField,
    StrictEmailField,
    StrictManyRelatedField,
    StrictSlugField,
    UtcDateTimeField,
)

NOT_YOUR_GROUP = "No group '{value}' among the groups you administer."
# A refusal names the conflict only when the caller can list what it conflicts with (GET
# /learners/, GET /groups/; everything for a superuser). Anything else gets one answer that says
# nothing of where it is: another tenant's learner or group, one of a subgroup the caller does
# not administer, a learner in no group. The directory import counts another group's e-mails as
# conflicts ("cannot be used in this group" on its run page).
EMAIL_TAKEN = "A learner with this email already exists."
EMAIL_UNUSABLE = "This e-mail cannot be used in this group: a platform administrator can link it."
SLUG_TAKEN = "A group with this slug already exists."
SLUG_UNAVAILABLE = "This slug is not available: choose another."
TOP_LEVEL_FOR_SUPERUSERS = (
    "Choose a parent group you administer: only superusers create or move groups at the top level."
)


def _request_user(serializer: serializers.Serializer):
    return serializer.context["request"].user


def _administered_group_field(**kwargs: Any) -> serializers.SlugRelatedField:
    """A group slug; the queryset is narrowed to the user's groups in the serializer's __init__
    (an admin naming another group's slug gets the same answer as for a missing one)."""
    return serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Group.objects.none(),
        error_messages={"does_not_exist": NOT_YOUR_GROUP},
        **kwargs,
    )


# --------------------------------------------------------------------------- groups


class GroupSerializer(serializers.Serializer):
    slug = StrictSlugField(max_length=100, help_text="Set once at creation: the group's address.")
    name = SingleLineCharField(max_length=200)
    parent = _administered_group_field(
        allow_null=True,
        default=None,
        help_text="Slug of the parent group; null (top level) is for superusers only.",
    )
    is_public = StrictBooleanField(
        default=False, help_text="Learners of a public child group see this group's catalog."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "request" not in self.context:
            return  # output only, or drf-spectacular inspecting the class
        allowed = Q(pk__in=group_list_administered(user=_request_user(self)).values("pk"))
        if isinstance(self.instance, Group) and self.instance.parent_id:
            # Sending back the parent you read is not a move, even if you don't administer it.
            allowed |= Q(pk=self.instance.parent_id)
        self.fields["parent"].queryset = Group.objects.filter(allowed)

    def validate_slug(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.slug:
                raise serializers.ValidationError("The slug can't be changed.")
            return value
        listed = group_slug_is_listed(user=_request_user(self), slug=value)
        if listed is not None:
            raise serializers.ValidationError(SLUG_TAKEN if listed else SLUG_UNAVAILABLE)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        group: Group | None = self.instance
        if group is None or ("parent" in attrs and attrs["parent"] != group.parent):
            error = self._parent_error(group, attrs.get("parent"))
            if error:
                raise serializers.ValidationError({"parent": [error]})
        return attrs

    def _parent_error(self, group: Group | None, parent: Group | None) -> str:
        if parent is None and not _request_user(self).is_superuser:
            return TOP_LEVEL_FOR_SUPERUSERS
        if group is not None and group.is_platform and parent is not None:
            return "The platform group is the root of the tree: it has no parent."
        ancestor = parent
        while group is not None and ancestor is not None:  # shallow tree: a query per level
            if ancestor.pk == group.pk:
                return "A group can't be moved under itself or one of its subgroups."
            ancestor = ancestor.parent
        return ""


# --------------------------------------------------------------------------- learners


def email_refusal(*, user, email: str) -> str:
    """Why `user` can't create a learner with `email` ("" if they can): never where it is."""
    listed = learner_email_is_listed(user=user, email=email)
    if listed is None:
        return ""
    return EMAIL_TAKEN if listed else EMAIL_UNUSABLE


class LearnerSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    groups = serializers.SerializerMethodField(
        help_text="Slugs of the learner's groups (only the groups you administer)."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_groups(self, learner: Learner) -> list[str]:
        # `visible_memberships` is prefetched by the selector, already narrowed to what the
        # requesting admin may see.
        return [m.group.slug for m in getattr(learner, "visible_memberships", [])]


class LearnerCreateSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254, help_text="Unique, case-insensitive.")
    first_name = SingleLineCharField(max_length=150, allow_blank=True, default="")
    last_name = SingleLineCharField(max_length=150, allow_blank=True, default="")
    groups = StrictManyRelatedField(
        child_relation=_administered_group_field(),
        required=False,
        help_text="Slugs of groups you administer; the learner joins each as a learner.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "request" in self.context:  # absent when drf-spectacular inspects the class
            user = _request_user(self)
            self.fields["groups"].child_relation.queryset = group_list_administered(user=user)

    def validate_email(self, value: str) -> str:
        refusal = email_refusal(user=_request_user(self), email=value)
        if refusal:
            raise serializers.ValidationError(refusal)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("groups", [])
        if not attrs["groups"] and not _request_user(self).is_superuser:
            raise serializers.ValidationError(
                {"groups": ["Choose at least one group you administer."]}
            )
        return attrs


# --------------------------------------------------------------------------- catalog and stats


class CourseSerializer(serializers.Serializer):
    externalId = serializers.CharField(
        source="platform_external_id",
        help_text="Unique per integration: a course's Udemy id (\"5\"), a learning path's in "
        'its own namespace ("path-5").',
    )
    type = serializers.ChoiceField(choices=Course.Kind.choices, source="kind")
    title = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(help_text="Sanitized HTML.")
    image = serializers.CharField()
    courseDuration = serializers.IntegerField(
        source="duration_minutes", allow_null=True, help_text="Minutes."
    )
    authors = serializers.ListField(child=serializers.CharField())
    lang = serializers.CharField()
    tagNames = serializers.SerializerMethodField()
    videoUrl = serializers.CharField(source="video_url")
    modifiedAt = UtcDateTimeField(source="modified_at", allow_null=True)
    launchUrl = serializers.CharField(source="launch_url")
    status = serializers.ChoiceField(choices=Course.Status.choices)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tagNames(self, course: Course) -> list[str]:
        return [tag.name for tag in course.tags.all()]  # prefetched by the selector


class StatisticSerializer(serializers.Serializer):
    externalCourseId = serializers.CharField(
        source="course.platform_external_id",
        help_text="The course's externalId (a learning path's starts with \"path-\").",
    )
    learnerMail = serializers.CharField(source="learner.email")
    firstActivity = UtcDateTimeField(source="first_activity", allow_null=True)
    lastActivity = UtcDateTimeField(source="last_activity", allow_null=True)
    completedAt = UtcDateTimeField(source="completed_at", allow_null=True)
    progress = serializers.FloatField()
    timeSpentInMilliseconds = serializers.IntegerField(source="time_spent_ms")
    attempt = serializers.IntegerField(source="number", help_text="1 for the first attempt.")
    isOpen = serializers.BooleanField(source="is_open")
    completionSource = serializers.ChoiceField(
        source="completion_source",
        choices=["udemy", "launch"],
        allow_null=True,
        read_only=True,
        help_text='Where the completion came from: "udemy" (Udemy\'s statistics), "launch" '
        "(START from the catalog: 360Learning marks a launched course completed at 0 %), "
        "null when not completed.",
    )
