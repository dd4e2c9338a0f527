"""Catalog changes a content sync does not make on its own — a mass archival, a flood of new
ids — end in a visible state (a warning, the health, one e-mail) and an admin's decision
(`services.content_review`), on the loopback Udemy sandbox."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalog.learner_selectors import catalog_courses_for_user
from catalog.models import Course
from integrations.models import AlertEmail, AuditEntry, SyncRun
from tests.factories import group_admin, group_learner

pytestmark = pytest.mark.django_db(transaction=True)


def _statuses(integration) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Course.objects.filter(integration=integration).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _flood(sandbox, n: int) -> tuple[list[dict], list[dict]]:
    """The upstream answers `n` new ids instead of the organization's courses."""
    real = list(sandbox.data.courses)
    sandbox.data.retire_courses([c["id"] for c in real])
    ghosts = sandbox.data.add_courses(n)
    return real, ghosts


def test_a_flood_of_new_ids_is_held_and_never_archives_the_real_catalog(
    make_udemy_sandbox, make_integration, run_sync
):
    """250 real courses, then an upstream answering 1,250 new ids, twice, then normal again:
    nothing real is archived, no ghost is ever shown, and the ghosts go when Udemy is back."""
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    integration = make_integration(sandbox)
    assert run_sync(integration).created == 250
    assert _statuses(integration) == {"active": 250}

    real, _ghosts = _flood(sandbox, 1250)
    first = run_sync(integration)
    second = run_sync(integration)
    for run in (first, second):
        assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
        assert run.archival_decision == "held"
        assert {w["code"] for w in run.warnings} == {"cleanup_pending", "new_held"}
        assert run.status_label == "Succeeded with warning"
    # Run 2 measured against the 250 published courses, not 250 of 1,500: nothing archived.
    assert _statuses(integration) == {"active": 250, "held": 1250}

    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses])
    sandbox.data.courses.extend(real)
    back = run_sync(integration)
    assert back.status == SyncRun.Status.SUCCEEDED
    assert back.warnings == []
    assert back.archival_decision == "applied"
    # The 1,250 ghosts, never shown, are archived; the real catalog is whole and unflagged.
    assert _statuses(integration) == {"active": 250, "archived": 1250}
    assert not Course.objects.filter(missing_since__isnull=False).exists()


def test_a_few_new_items_are_published_when_the_scan_ends(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=300, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.add_courses(60)  # 20 % of 300: published on its own
    run = run_sync(integration)
    assert run.created == 60 and run.warnings == []
    assert _statuses(integration) == {"active": 360}
    sandbox.data.add_courses(73)  # more than 20 % of 360 (72): held
    run = run_sync(integration)
    assert [w["code"] for w in run.warnings] == ["new_held"]
    assert _statuses(integration) == {"active": 360, "held": 73}


def test_an_item_failing_in_every_scan_does_not_block_the_archival(
    make_udemy_sandbox, make_integration, run_sync
):
    """A failed item was listed: it is not absent, and the absent ones of a complete scan are
    archived (it used to skip the archival forever)."""
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    bad_id = sandbox.data.courses[5]["id"]
    sandbox.data.courses[5]["title"] = {"not": "a string"}
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[10:13]])
    run = run_sync(integration)
    assert run.status == SyncRun.Status.PARTIAL and run.failed == 1
    assert run.archival_decision == "applied"
    archived = set(
        Course.objects.filter(status=Course.Status.ARCHIVED).values_list("external_id", flat=True)
    )
    assert len(archived) == 3 and str(bad_id) not in archived


@pytest.fixture
def held_cleanup(make_udemy_sandbox, make_integration, run_sync):
    """An integration whose last scan held the archival of 30 of its 100 courses."""
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[:30]])
    run = run_sync(integration)
    assert run.archival_decision == "held"
    return sandbox, integration, run


def test_api_health_shows_the_pending_cleanup_and_archives_by_number(held_cleanup):
    _sandbox, integration, run = held_cleanup
    admin = group_admin(integration.group, username="reviewer")
    api = _api(admin)
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    health = api.get(base).json()["health"]["content"]
    assert (health["cleanup_pending"], health["held_new"]) == (30, 0)
    detail = api.get(f"/api/v1/sync-runs/{run.pk}/").json()
    assert [w["code"] for w in detail["warnings"]] == ["cleanup_pending"]
    assert detail["warnings"][0]["count"] == 30

    wrong = api.post(f"{base}archive-absent/", {"count": 29}, content_type="application/json")
    assert wrong.status_code == 400
    assert "30" in wrong.json()["count"][0]
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0
    bad = api.post(f"{base}archive-absent/", {"count": "x"}, content_type="application/json")
    assert bad.status_code == 400

    done = api.post(f"{base}archive-absent/", {"count": 30}, content_type="application/json")
    assert done.status_code == 200 and done.json() == {"archived": 30}
    assert _statuses(integration) == {"active": 70, "archived": 30}
    assert api.get(base).json()["health"]["content"]["cleanup_pending"] == 0
    entry = AuditEntry.objects.get(integration=integration, action="archive_missing")
    assert entry.actor == admin and "30" in entry.detail


def test_keep_them_until_the_next_scan_which_asks_again(held_cleanup, run_sync):
    _sandbox, integration, _run = held_cleanup
    api = _api(group_admin(integration.group, username="reviewer"))
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    answer = api.post(f"{base}keep-absent/", content_type="application/json")
    assert answer.json() == {"kept": 30}  # the count is optional
    assert api.get(base).json()["health"]["content"]["cleanup_pending"] == 0
    assert _statuses(integration) == {"active": 100}
    again = run_sync(integration)
    assert again.archival_decision == "held"
    assert api.get(base).json()["health"]["content"]["cleanup_pending"] == 30


def test_another_groups_admin_and_a_learner_cannot_decide(held_cleanup):
    _sandbox, integration, _run = held_cleanup
    from tests.factories import GroupFactory

    outsider = group_admin(GroupFactory(), username="outsider")
    learner = group_learner(integration.group, username="learner")
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    for user in (outsider, learner):
        answer = _api(user).post(
            f"{base}archive-absent/", {"count": 30}, content_type="application/json"
        )
        assert answer.status_code in (403, 404)
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0


def test_review_page_lists_the_absent_and_archives_on_the_typed_number(held_cleanup):
    _sandbox, integration, _run = held_cleanup
    client = _api(group_admin(integration.group, username="reviewer"))
    slug = integration.group.slug
    detail = client.get(
        reverse("integrations:provider", kwargs={"slug": slug, "provider": "udemy"})
    )
    assert b'data-testid="review-banner"' in detail.content
    assert b"30 courses are no longer on Udemy" in detail.content
    url = reverse("integrations:review", kwargs={"slug": slug, "provider": "udemy"})
    page = client.get(url)
    assert page.status_code == 200
    assert page.content.count(b'data-testid="missing-row"') == 30
    assert b"Archive these 30" in page.content

    wrong = client.post(url, {"action": "archive_missing", "count": "3"})
    assert wrong.status_code == 400
    assert b"nothing was changed" in wrong.content
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 0
    done = client.post(url, {"action": "archive_missing", "count": "30"}, follow=True)
    assert done.status_code == 200 and b"30 courses archived" in done.content
    assert Course.objects.filter(status=Course.Status.ARCHIVED).count() == 30


def test_publish_the_held_items_by_number(make_udemy_sandbox, make_integration, run_sync):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.add_courses(80)
    run_sync(integration)
    api = _api(group_admin(integration.group, username="reviewer"))
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    assert api.get(base).json()["health"]["content"]["held_new"] == 80
    assert (
        api.post(f"{base}publish-held/", {"count": 79}, content_type="application/json").status_code
        == 400
    )
    answer = api.post(f"{base}publish-held/", {"count": 80}, content_type="application/json")
    assert answer.json() == {"published": 80}
    assert _statuses(integration) == {"active": 180}
    assert AuditEntry.objects.filter(integration=integration, action="publish_held").exists()


def test_learners_never_see_held_items(make_udemy_sandbox, make_integration, run_sync):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    ghosts = sandbox.data.add_courses(80)
    run_sync(integration)
    learner = group_learner(integration.group, username="reader")
    page = _api(learner).get(reverse("catalog:learner_catalog"))
    assert page.status_code == 200
    listed = set(catalog_courses_for_user(user=learner).values_list("external_id", flat=True))
    assert len(listed) == 100
    assert not listed & {str(g["id"]) for g in ghosts}
    assert page.context["page"].paginator.count == 100


def test_the_review_is_alerted_once_while_it_stays_pending(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    group_admin(integration.group, username="reviewer")
    run_sync(integration)
    sandbox.data.retire_courses([c["id"] for c in sandbox.data.courses[:30]])
    run_sync(integration)
    run_sync(integration)  # held again: the admins were already told
    emails = AlertEmail.objects.filter(integration=integration, topic="review")
    assert emails.count() == 1
    email = emails.get()
    assert "await your review" in email.subject
    assert "30 of the 100" in email.text_body


def test_run_page_and_history_say_succeeded_with_warning(held_cleanup):
    """A held clean-up is not a green Succeeded: the run page, the history and the archival
    card say it is waiting for the admin, with a way to the review page."""
    _sandbox, integration, run = held_cleanup
    client = _api(group_admin(integration.group, username="reviewer"))
    slug = integration.group.slug
    page = client.get(reverse("integrations:run", kwargs={"slug": slug, "run_id": run.pk}))
    html = page.content.decode()
    assert "Succeeded with warning" in html
    assert 'data-code="cleanup_pending"' in html
    assert "held for your review" in html
    assert reverse("integrations:review", kwargs={"slug": slug, "provider": "udemy"}) in html
    history = client.get(reverse("integrations:history", kwargs={"slug": slug})).content.decode()
    assert "Succeeded with warning" in history


# --------------------------------------------------------------------------- found in review


def test_a_scan_failing_mid_list_publishes_none_of_its_new_items(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    """The flood guard can't be passed in instalments: an incomplete scan leaves its new items
    held (not shown, not yet a flood to review); the next complete scan decides on all."""
    settings.UDEMY_MAX_RETRIES = 1
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.add_courses(100)  # more than max(20 % of 250, 50)
    sandbox.fail(path_contains="page=4", status=503, times=10)
    broken = run_sync(integration)
    assert broken.status == SyncRun.Status.PARTIAL
    assert _statuses(integration)["active"] == 250  # nothing of the new published
    assert Course.held_for(integration.pk).count() == 0  # no decision yet: not pending review
    sandbox.reset_faults()
    complete = run_sync(integration)
    assert [w["code"] for w in complete.warnings] == ["new_held"]
    assert _statuses(integration) == {"active": 250, "held": 100}


def test_a_first_sync_that_stops_half_way_publishes_everything_at_the_first_complete_one(
    make_udemy_sandbox, make_integration, run_sync, settings
):
    settings.UDEMY_MAX_RETRIES = 1
    sandbox = make_udemy_sandbox(courses=500, paths=0, learners=1)
    integration = make_integration(sandbox)
    sandbox.fail(path_contains="page=2", status=503, times=10)
    assert run_sync(integration).status == SyncRun.Status.PARTIAL
    assert "active" not in _statuses(integration)
    sandbox.reset_faults()
    run = run_sync(integration)
    assert run.warnings == []
    assert _statuses(integration) == {"active": 500}


def test_failed_items_without_a_readable_id_hold_the_archival(
    make_udemy_sandbox, make_integration, run_sync
):
    """A garbled id may be any course: the scan can't tell which are gone, so none is."""
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    for course in sandbox.data.courses[:15]:
        course["id"] = f"x{course['id']}"
    run = run_sync(integration)
    assert run.failed == 15
    assert run.archival_decision == "skipped"
    assert "no readable id" in run.archival_reason
    assert not Course.objects.filter(status=Course.Status.ARCHIVED).exists()


def test_a_discard_holds_while_udemy_lists_them_and_can_be_undone(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    ghosts = sandbox.data.add_courses(80)
    run_sync(integration)
    api = _api(group_admin(integration.group, username="reviewer"))
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    assert api.post(
        f"{base}discard-held/", {"count": 80}, content_type="application/json"
    ).json() == {"discarded": 80}
    again = run_sync(integration)  # listed again, under any limit: still hidden
    assert again.warnings == [] and again.restored == 0
    assert _statuses(integration) == {"active": 100, "discarded": 80}
    assert api.get(base).json()["health"]["content"]["held_new"] == 0
    sandbox.data.retire_courses([g["id"] for g in ghosts])
    run_sync(integration)  # no longer listed: archived, never shown
    assert _statuses(integration) == {"active": 100, "archived": 80}


def test_no_decision_while_a_content_sync_runs(held_cleanup):
    _sandbox, integration, _run = held_cleanup
    SyncRun.objects.create(
        integration=integration, kind="content", trigger="manual", status=SyncRun.Status.RUNNING
    )
    api = _api(group_admin(integration.group, username="reviewer"))
    base = f"/api/v1/groups/{integration.group.slug}/integrations/udemy/"
    answer = api.post(f"{base}archive-absent/", {"count": 30}, content_type="application/json")
    assert answer.status_code == 409
    assert "content sync is running" in answer.json()["detail"]
    assert not Course.objects.filter(status=Course.Status.ARCHIVED).exists()


def test_a_scan_that_decides_nothing_still_says_a_review_is_pending(held_cleanup, run_sync):
    """An empty scan is no green "Succeeded" while 30 courses wait for the admin, and the
    missing date stays the first one."""
    sandbox, integration, _run = held_cleanup
    first_missing = set(Course.missing_for(integration.pk).values_list("missing_since", flat=True))
    kept = list(sandbox.data.courses)
    sandbox.data.retire_courses([c["id"] for c in kept])
    empty = run_sync(integration)
    assert empty.fetched == 0 and empty.archival_decision == "skipped"
    assert empty.status_label == "Succeeded with warning"
    assert [w["code"] for w in empty.warnings] == ["cleanup_pending"]
    sandbox.data.courses.extend(kept)
    again = run_sync(integration)
    assert again.archival_decision == "held"
    assert set(Course.missing_for(integration.pk).values_list("missing_since", flat=True)) == (
        first_missing
    )


def test_the_admin_catalog_api_leaves_held_items_out_unless_asked(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=100, paths=0, learners=1)
    integration = make_integration(sandbox)
    run_sync(integration)
    sandbox.data.add_courses(80)
    run_sync(integration)
    api = _api(group_admin(integration.group, username="reviewer"))
    url = f"/api/v1/groups/{integration.group.slug}/courses/"
    assert api.get(url).json()["count"] == 100
    assert api.get(url, {"status": "held"}).json()["count"] == 80
