"""Create the demo: an admin, a group wired to the Udemy sandbox, its learners, and two groups
connected to the LearnUpon and Coursebase sandboxes (`manage.py sandbox learnupon|coursebase`).
Idempotent.

The Udemy integration gets xAPI client credentials, written with the door's URLs to
`var/xapi-demo.json` (mode 0600) for the sandbox's xAPI push (`sandbox udemy --xapi`): the demo
group gets real-time statistics. They are kept while that file names the current client; the
secret is never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.models import Group, Learner, Membership
from integrations.models import Integration, PlatformConnection, XapiClient
from integrations.sandboxes.udemy.xapi_sender import XapiTarget
from integrations.services.xapi_credentials import xapi_credentials_issue

DEMO_ADMIN = ("admin", "admin-demo-password")
DEMO_LEARNER = ("learner", "learner-demo-password")
# Must match the sandbox started by Procfile.dev (same seed and learner count).
SANDBOX = {"seed": 1, "courses": 300, "paths": 12, "learners": 60}
# The platform sandboxes of Procfile.dev, with their public demo credentials.
LEARNUPON_URL = "http://127.0.0.1:8002"
COURSEBASE_URL = "http://127.0.0.1:8003"
SITE_URL = "http://127.0.0.1:8000"  # the web process of Procfile.dev
XAPI_FILE = "xapi-demo.json"  # in the var dir; read by `sandbox udemy --xapi`


class Command(BaseCommand):
    help = "Seed the demo data (admin, group, learners, Udemy integration on the sandbox)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sandbox-url", default=settings.DEMO_SANDBOX_URL)
        parser.add_argument("--learnupon-url", default=LEARNUPON_URL)
        parser.add_argument("--coursebase-url", default=COURSEBASE_URL)
        parser.add_argument("--site-url", default=SITE_URL, help="Where the sandbox reaches us.")
        parser.add_argument(
            "--xapi-credentials",
            default=str(settings.VAR_DIR / XAPI_FILE),
            help="Where the demo integration's xAPI credentials are written (0600).",
        )

    @transaction.atomic
    def handle(
        self,
        *args: Any,
        sandbox_url: str,
        learnupon_url: str = LEARNUPON_URL,
        coursebase_url: str = COURSEBASE_URL,
        site_url: str = SITE_URL,
        xapi_credentials: str = "",
        **options: Any,
    ) -> None:
        from integrations.sandboxes.udemy import UdemyData

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
        data = UdemyData.generate(**SANDBOX)
        emails = list(data.learner_emails)
        learner_user.email = emails[0]
        learner_user.save(update_fields=["email"])
        self._learner(emails[0], sales, user=learner_user)
        for email in emails[1:]:
            self._learner(email, sales)
        self._learner(admin.email, academy, user=admin, role=Membership.Role.ADMIN)
        integration, created = Integration.objects.get_or_create(
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
        self._platforms(academy, learnupon_url, coursebase_url)
        if xapi_credentials:
            self._xapi(integration, admin, site_url, Path(xapi_credentials))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: log in as {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]} (admin) or "
                f"{DEMO_LEARNER[0]} / {DEMO_LEARNER[1]} (learner). "
                f"Group '{academy.name}' is wired to the Udemy sandbox at {sandbox_url}"
                + (" (created)." if created else ".")
            )
        )

    def _xapi(self, integration: Integration, admin: Any, site_url: str, path: Path) -> None:
        """xAPI credentials for the sandbox's push, written once the transaction commits."""
        client = XapiClient.objects.select_related("application").filter(integration=integration)
        current = client.values_list("application__client_id", flat=True).first()
        try:
            if current and XapiTarget.read(path).client_id == current:
                return  # the file still names the current credentials
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no file or not one of ours: issue new ones
        issued = xapi_credentials_issue(integration=integration, actor=admin)
        base = site_url.rstrip("/")
        target = XapiTarget(
            token_url=base + reverse("xapi:token"),
            statements_url=base
            + reverse("xapi:statements", kwargs={"integration_id": integration.pk}),
            client_id=issued.client_id,
            client_secret=issued.client_secret,
        )
        transaction.on_commit(lambda: target.write(path))
        self.stdout.write(f"xAPI credentials of the demo integration written to {path}.")

    def _platforms(self, academy: Group, learnupon_url: str, coursebase_url: str) -> None:
        """Two subgroups of the academy, each connected to a platform sandbox (its directory
        import and, for LearnUpon, the push work out of the box)."""
        from integrations.sandboxes.learnupon.data import LearnUponData

        connections = {
            ("learnupon-team", "LearnUpon team"): {
                "kind": "learnupon",
                "learnupon_portal": "demo",
                "learnupon_username": "lu-api-user",
                "learnupon_password": "lu-api-password",
                "learnupon_owner_id": str(LearnUponData.ADMIN_ID),
                "target_group_id": "5001",
                # the admin's explicit choice: listed in the (demo) portal's catalog
                "learnupon_cataloged": True,
                "base_url": f"{learnupon_url.rstrip('/')}/api/v1/",
            },
            ("coursebase-team", "Coursebase team"): {
                "kind": "coursebase",
                "coursebase_domain": "learn.acme.example",
                "coursebase_token": "cb-demo-token",
                "base_url": f"{coursebase_url.rstrip('/')}/api/",
            },
        }
        for (slug, name), values in connections.items():
            group, _ = Group.objects.get_or_create(
                slug=slug, defaults={"name": name, "parent": academy, "is_public": True}
            )
            PlatformConnection.objects.get_or_create(
                group=group,
                defaults={**values, "status": PlatformConnection.Status.ACTIVE},
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
