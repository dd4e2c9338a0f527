"""factory-boy factories for the platform and connector models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from catalog.models import Attempt, Course, Group, Learner, Membership, Tag
from integrations.models import AuditEntry, Integration, SyncError, SyncRun

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    is_public = False


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    learner = factory.SubFactory(LearnerFactory)
    role = Membership.Role.LEARNER


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    group = factory.SubFactory(GroupFactory)
    provider = "udemy"
    client_id = "demo-client"
    client_secret = "demo-secret"
    organization_name = "demo"
    organization_id = "4242"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    integration = factory.SubFactory(IntegrationFactory)
    group = factory.SelfAttribute("integration.group")
    kind = Course.Kind.COURSE
    external_id = factory.Sequence(lambda n: str(1000 + n))
    title = factory.Sequence(lambda n: f"Course {n}")
    name = factory.SelfAttribute("title")
    launch_url = factory.LazyAttribute(lambda o: f"https://demo.udemy.com/course/{o.external_id}/")


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attempt

    learner = factory.SubFactory(LearnerFactory)
    course = factory.SubFactory(CourseFactory)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    integration = factory.SubFactory(IntegrationFactory)
    kind = SyncRun.Kind.CONTENT
    trigger = SyncRun.Trigger.MANUAL


def group_admin(group: Group, username: str | None = None):
    """A user who administers `group` (through a learner with an admin membership)."""
    user = UserFactory(username=username) if username else UserFactory()
    learner = LearnerFactory(email=user.email, user=user)
    MembershipFactory(group=group, learner=learner, role=Membership.Role.ADMIN)
    return user


def group_learner(group: Group, username: str | None = None):
    user = UserFactory(username=username) if username else UserFactory()
    learner = LearnerFactory(email=user.email, user=user)
    MembershipFactory(group=group, learner=learner, role=Membership.Role.LEARNER)
    return user


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tag {n}")


class SyncErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncError

    run = factory.SubFactory(SyncRunFactory)
    external_id = factory.Sequence(lambda n: str(5000 + n))
    category = "invalid_item"
    message = factory.Sequence(lambda n: f"Item {n} has no title")


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    action = "update"
    fields = factory.LazyFunction(lambda: ["client_id"])
