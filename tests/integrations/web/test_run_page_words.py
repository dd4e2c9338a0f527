"""What a run page says of two decisions: the archival of learning paths turned off, and the
confirmation step of Close run (the disclosure alone posts nothing)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncRun
from tests.factories import IntegrationFactory, UserFactory, group_admin

pytestmark = pytest.mark.django_db


def test_the_archival_card_says_learning_paths_were_archived_because_they_are_off(
    client, make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=10, paths=3, learners=1)
    integration = make_integration(sandbox, sync_learning_paths=True)
    run_sync(integration)
    integration.sync_learning_paths = False
    integration.save()
    run = run_sync(integration)
    words = "because learning paths synchronization is off"
    assert words in run.archival_reason
    client.force_login(group_admin(integration.group))
    page = client.get(reverse("integrations:run", args=[integration.group.slug, run.pk]))
    assert words in page.content.decode()


def test_close_run_posts_only_from_its_confirmation(client):
    run = SyncRun.objects.create(
        integration=IntegrationFactory(),
        kind="content",
        trigger="schedule",
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=30),
    )
    slug = run.integration.group.slug
    close = reverse("integrations:run_close", args=[slug, run.pk])
    client.force_login(UserFactory(is_superuser=True))
    html = client.get(reverse("integrations:run", args=[slug, run.pk])).content.decode()
    block = html[html.index('data-testid="run-close"') : html.index("</details>")]
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", block, re.S)
    assert summary and "Close run" in summary.group(1)
    assert "<button" not in summary.group(1) and "<form" not in summary.group(1)
    form = block[block.index("<form") : block.index("</form>")]
    assert f'action="{close}"' in form and 'method="post"' in form
    submits = re.findall(r'<button[^>]*type="submit"[^>]*>', form)
    assert len(submits) == 1 and 'data-testid="run-close-confirm"' in submits[0]
    assert "Yes, close this run" in form
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING  # seeing the page closed nothing
    assert client.post(close).status_code == 302
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
