"""The client secret (and the Basic auth token made from it) appears in no page."""

from __future__ import annotations

from base64 import b64encode

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.models import AuditEntry, SyncRun
from integrations.services.setup import integration_update
from tests.console_fixtures import SECRET
from tests.factories import CourseFactory, SyncErrorFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db


def forbidden(secret: str, client_id: str = "demo-client") -> list[str]:
    token = b64encode(f"{client_id}:{secret}".encode()).decode()
    return [secret, token, f"{client_id}:{secret}"]


def assert_clean(html: str, secret: str = SECRET) -> None:
    for needle in forbidden(secret):
        assert needle not in html


@pytest.fixture
def busy_integration(integration, admin_user):
    """An integration with history: audit entries (secret changed), runs, errors, a course."""
    integration_update(
        integration=integration, actor=admin_user, data={"client_secret": SECRET + "-v2"}
    )
    integration_update(integration=integration, actor=admin_user, data={"client_secret": SECRET})
    run = SyncRunFactory(integration=integration, status=SyncRun.Status.PARTIAL, failed=1)
    SyncErrorFactory(run=run, message="Udemy rejected the credentials (401)", excerpt="***")
    CourseFactory(integration=integration)
    return integration


def page_urls(group, integration) -> list[str]:
    run = integration.runs.first()
    course = integration.courses.first()
    return [
        reverse("integrations:settings", args=[group.slug]),
        reverse("integrations:provider", args=[group.slug, "udemy"]),
        reverse("integrations:deactivate", args=[group.slug, "udemy"]),
        reverse("integrations:history", args=[group.slug]),
        reverse("integrations:run", args=[group.slug, run.pk]),
        reverse("integrations:run_progress", args=[group.slug, run.pk]),
        reverse("catalog:group_catalog", args=[group.slug]),
        reverse("catalog:course_dashboard", args=[group.slug, course.pk]),
        reverse("catalog:group_dashboard", args=[group.slug]),
        reverse("catalog:learner_catalog"),
    ]


def test_no_console_page_shows_the_secret(admin_client, group, busy_integration):
    assert AuditEntry.objects.filter(fields=["client_secret"]).count() == 2
    for url in page_urls(group, busy_integration):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_clean(response.content.decode())


def test_form_after_a_failed_post_does_not_echo_the_typed_secret(admin_client, group, integration):
    typed = "typed-Secret-0xDEADBEEF"
    data = {
        "client_id": "demo-client",
        "client_secret": typed,
        "organization_name": "demo",
        "organization_id": "4242",
        "api_base_url": "https://evil.example.com/",
        "action": "setup",
    }
    response = admin_client.post(reverse("integrations:provider", args=[group.slug, "udemy"]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert_clean(html, typed)
    assert_clean(html)


def test_failed_setup_against_udemy_does_not_echo_the_secret(admin_client, group, udemy_sandbox):
    typed = "another-Wrong-secret-123"
    data = {
        "client_id": udemy_sandbox.client_id,
        "client_secret": typed,
        "organization_name": "demo",
        "organization_id": "4242",
        "api_base_url": udemy_sandbox.api_base_url,
        "action": "setup",
    }
    url = reverse("integrations:provider", args=[group.slug, "udemy"])
    assert_clean(admin_client.post(url, data).content.decode(), typed)
    assert_clean(admin_client.get(url).content.decode(), typed)


def admin_change_url(integration) -> str:
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def test_django_admin_change_page_hides_the_secret_from_superusers(client, busy_integration):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(admin_change_url(busy_integration))
    assert response.status_code == 200
    html = response.content.decode()
    assert "demo-client" in html  # the page really shows the integration
    assert_clean(html)
    for url in (
        reverse("admin:integrations_integration_changelist"),
        reverse("admin:integrations_auditentry_changelist"),
        reverse("admin:integrations_syncrun_changelist"),
    ):
        assert_clean(client.get(url).content.decode())


def test_django_admin_view_only_staff_never_sees_the_secret(client, busy_integration):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(staff)
    response = client.get(admin_change_url(busy_integration))
    assert response.status_code == 200
    html = response.content.decode()
    assert "demo-client" in html
    assert "Save" not in html or 'name="_save"' not in html  # read-only page
    assert_clean(html)
