"""Create the demo: an admin, a group wired to the Udemy sandbox, its learners. Idempotent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration
from lmsbridge.catalog.models import Group, Learner, Membership

DEMO_ADMIN = ("admin", "admin-demo-password")
DEMO_LEARNER = ("learner", "learner-demo-password")
# Must match the sandbox started by Procfile.dev (same seed and learner count).
SANDBOX = {"seed": 1, "courses": 300, "paths": 12, "learners": 60}


class Command(BaseCommand):
    help = "Seed the demo data (admin, group, learners, Udemy integration on the sandbox)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sandbox-url", default=settings.DEMO_SANDBOX_URL)

    @transaction.atomic
    def handle(self, *args: Any, sandbox_url: str, **options: Any) -> None:
        from integrations.providers.udemy.sandbox import SandboxData

        platform = Group.objects.get(is_platform=True)
        academy, _ = Group.objects.get_or_create(
            slug="acme-academy", defaults={"name": "Acme Academy", "parent": platform}
        )
        sales, _ = Group.objects.get_or_create(
            slug="sales-team",
            defaults={"name": "Sales team", "parent": academy, "is_public": True},
        )
        admin = self._user(*DEMO_ADMIN, superuser=True)
        learner_user = self._user(*DEMO_LEARNER, superuser=False)
        data = SandboxData.generate(**SANDBOX)
        emails = list(data.learner_emails)
        learner_user.email = emails[0]
        learner_user.save(update_fields=["email"])
        self._learner(emails[0], sales, user=learner_user)
        for email in emails[1:]:
            self._learner(email, sales)
        self._learner(admin.email, academy, user=admin, role=Membership.Role.ADMIN)
        _integration, created = Integration.objects.get_or_create(
            group=academy,
            provider="udemy",
            defaults={
                "client_id": "demo-client",
                "client_secret": "demo-secret",
                "organization_name": "demo",
                "organization_id": "4242",
                "api_base_url": f"{sandbox_url.rstrip('/')}/api-2.0/organizations/4242/",
                "sync_tags": True,
                "sync_learning_paths": True,
                "status": Integration.Status.ACTIVE,
                "owner": admin,
                "activated_at": timezone.now(),
            },
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: log in as {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]} (admin) or "
                f"{DEMO_LEARNER[0]} / {DEMO_LEARNER[1]} (learner). "
                f"Group '{academy.name}' is wired to the Udemy sandbox at {sandbox_url}"
                + (" (created)." if created else ".")
            )
        )

    def _user(self, username: str, password: str, *, superuser: bool):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username, email=f"{username}@demo.example.com")
            user.set_password(password)
            user.is_superuser = user.is_staff = superuser
            user.save()
        return user

    def _learner(self, email: str, group: Group, *, user=None, role=Membership.Role.LEARNER):
        learner = Learner.objects.filter(email__iexact=email).first()
        if learner is None:
            learner = Learner.objects.create(email=email, user=user)
        Membership.objects.get_or_create(group=group, learner=learner, defaults={"role": role})
        return learner
