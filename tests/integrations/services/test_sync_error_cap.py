"""A sync run keeps at most `MAX_ERRORS_RECORDED` error rows of refused items: the rest are
counted in `failed`, and the run page and the API say how many were not listed
(`services.sync_errors`). Before, a catalog of 2,000 pages of bad items wrote 200,000 rows a run."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from catalog.models import Course
from integrations.models import SyncError, SyncRun
from integrations.services.sync_errors import MAX_ERRORS_RECORDED
from tests.factories import group_admin

pytestmark = pytest.mark.django_db(transaction=True)

BAD = MAX_ERRORS_RECORDED + 57


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_catalog_of_more_bad_items_than_the_cap_stores_the_cap_and_counts_all(
    make_udemy_sandbox, make_integration, run_sync, settings, concurrency
):
    settings.UDEMY_PAGE_CONCURRENCY = concurrency
    sandbox = make_udemy_sandbox(courses=BAD + 20, paths=0, learners=1)
    for course in sandbox.data.courses[20:]:
        course["url"] = "https://evil.example/phish"  # off the site: a bad item
    integration = make_integration(sandbox)
    run = run_sync(integration)

    assert run.status == SyncRun.Status.PARTIAL, run.status
    assert run.failed == BAD
    assert SyncError.objects.filter(run=run).count() == MAX_ERRORS_RECORDED
    assert Course.objects.filter(integration=integration).count() == 20
    warning = next(w for w in run.warnings if w["code"] == "errors_not_recorded")
    assert warning["count"] == 57

    admin = Client()
    admin.force_login(group_admin(integration.group, username="errors-admin"))
    detail = admin.get(f"/api/v1/sync-runs/{run.pk}/").json()
    assert detail["counts"]["failed"] == BAD
    assert detail["errors_count"] == MAX_ERRORS_RECORDED
    api_warning = next(w for w in detail["warnings"] if w["code"] == "errors_not_recorded")
    assert api_warning["count"] == 57
    assert "57 more items failed than the 1000 listed" in api_warning["message"]

    url = reverse("integrations:run", kwargs={"slug": integration.group.slug, "run_id": run.pk})
    html = admin.get(url).content.decode()
    assert 'data-code="errors_not_recorded"' in html
    assert "57 more items failed than the errors listed below" in html
    with translation.override("fr"):
        french = admin.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "57 éléments de plus ont échoué" in french


def test_a_catalog_under_the_cap_lists_every_bad_item(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=30, paths=0, learners=1)
    for course in sandbox.data.courses[:7]:
        course["url"] = "https://evil.example/phish"
    run = run_sync(make_integration(sandbox))
    assert run.failed == 7
    assert SyncError.objects.filter(run=run).count() == 7
    assert not [w for w in run.warnings if w["code"] == "errors_not_recorded"]


def test_rows_applied_with_a_corrected_value_stay_within_the_cap(db):
    """A report whose every row is clamped (progress above 100 %) writes one error row each:
    within the run's cap too, the rest counted in a warning."""
    from integrations.core.records import MappingError
    from integrations.services import stats_sync
    from integrations.services.sync_errors import MAX_ERRORS_RECORDED
    from tests.factories import SyncRunFactory

    run = SyncRunFactory(kind=SyncRun.Kind.STATS)
    for page in range(3):
        problems = [
            (
                MappingError(
                    f"row-{page}-{i}", "invalid_value", "progress above 100 % clamped", "{}"
                ),
                "{}",
            )
            for i in range(600)
        ]
        with transaction.atomic():  # as a page's writes are
            stats_sync._record_problems(run, problems)
    run.refresh_from_db()
    assert run.errors.count() == MAX_ERRORS_RECORDED
    (warning,) = [w for w in run.warnings if w["code"] == "corrections_not_recorded"]
    assert warning["count"] == 3 * 600 - MAX_ERRORS_RECORDED
