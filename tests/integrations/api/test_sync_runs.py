"""POST .../integrations/udemy/sync/ and GET /api/v1/sync-runs/ (list, detail, errors)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import AuditEntry, SyncError, SyncRun
from tests.factories import IntegrationFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/groups/acme-academy/integrations/udemy/sync/"


def test_sync_request_is_202_with_a_queued_run_then_409(
    a_api, admin_a, active_integration_a, record_enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = a_api.post(SYNC, {"kind": "content"}, format="json")
    assert response.status_code == 202
    run = response.json()
    assert (run["group"], run["kind"], run["trigger"], run["status"]) == (
        "acme-academy",
        "content",
        "api",
        "queued",
    )
    assert record_enqueue == [run["id"]]
    assert SyncRun.objects.get(pk=run["id"]).triggered_by == admin_a
    assert AuditEntry.objects.filter(action="sync_content", actor=admin_a).exists()

    with django_capture_on_commit_callbacks(execute=True):
        second = a_api.post(SYNC, {"kind": "content"}, format="json")
    assert second.status_code == 409
    body = second.json()
    assert "already running" in body["detail"]
    assert body["run"]["status"] == "skipped"
    assert record_enqueue == [run["id"]]  # nothing more enqueued

    # The other kind is independent.
    with django_capture_on_commit_callbacks(execute=True):
        assert a_api.post(SYNC, {"kind": "stats"}, format="json").status_code == 202


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"kind": "everything"}, '"everything" is not a valid choice.'),
        ({"kind": ["content"]}, "is not a valid choice."),
    ],
)
def test_sync_bad_kind_is_400(a_api, active_integration_a, record_enqueue, body, message):
    response = a_api.post(SYNC, body, format="json")
    assert response.status_code == 400
    assert message in response.json()["kind"][0]
    assert not SyncRun.objects.exists()


def test_sync_of_an_inactive_integration_is_409(a_api, integration_a, record_enqueue):
    response = a_api.post(SYNC, {"kind": "content"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The integration is inactive: activate it before requesting a sync."
    }
    assert not SyncRun.objects.exists()


def test_sync_without_integration_is_404(a_api, group_a):
    assert a_api.post(SYNC, {"kind": "content"}, format="json").status_code == 404


def _finished_run(integration, **kwargs) -> SyncRun:
    now = timezone.now()
    return SyncRunFactory(
        integration=integration,
        status=SyncRun.Status.PARTIAL,
        started_at=now,
        finished_at=now,
        fetched=10,
        created=7,
        failed=2,
        progress_done=10,
        progress_total=10,
        archival_decision="skipped",
        archival_reason="incomplete scan",
        **kwargs,
    )


def test_run_detail_shape(a_api, integration_a):
    run = _finished_run(integration_a)
    SyncError.objects.create(run=run, external_id="77", category="mapping", message="No title")
    response = a_api.get(f"/api/v1/sync-runs/{run.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "fetched": 10,
        "created": 7,
        "updated": 0,
        "unchanged": 0,
        "archived": 0,
        "restored": 0,
        "failed": 2,
        "unmatched_learners": 0,
        "anonymized": 0,
        "not_started": 0,
    }
    assert body["ratio_scale"] == ""
    assert body["progress"] == {"done": 10, "total": 10}
    assert body["archival"] == {"decision": "skipped", "reason": "incomplete scan"}
    assert body["errors_count"] == 1
    assert body["group"] == "acme-academy"
    assert body["started_at"].endswith("Z")


def test_run_errors_paginated(a_api, integration_a):
    run = _finished_run(integration_a)
    SyncError.objects.bulk_create(
        SyncError(run=run, external_id=str(n), category="mapping", message=f"bad {n}")
        for n in range(60)
    )
    page = a_api.get(f"/api/v1/sync-runs/{run.pk}/errors/").json()
    assert page["count"] == 60
    assert len(page["results"]) == 50
    assert page["results"][0] == {"external_id": "0", "category": "mapping", "message": "bad 0"}
    assert page["next"].endswith("?page=2")


def test_runs_list_filters_and_isolation(a_api, su_api, integration_a, group_b):
    content = _finished_run(integration_a)
    stats = SyncRunFactory(integration=integration_a, kind=SyncRun.Kind.STATS)
    other = SyncRunFactory(integration=IntegrationFactory(group=group_b))
    page = a_api.get("/api/v1/sync-runs/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert [r["id"] for r in page["results"]] == [stats.pk, content.pk]  # newest first
    assert [r["id"] for r in a_api.get("/api/v1/sync-runs/?kind=stats").json()["results"]] == [
        stats.pk
    ]
    partial = a_api.get("/api/v1/sync-runs/?status=partial&group=acme-academy").json()
    assert [r["id"] for r in partial["results"]] == [content.pk]
    assert su_api.get("/api/v1/sync-runs/?group=beta-corp").json()["results"][0]["id"] == other.pk
    assert a_api.get("/api/v1/sync-runs/?group=beta-corp").status_code == 404
    assert a_api.get(f"/api/v1/sync-runs/{other.pk}/").status_code == 404
    assert a_api.get(f"/api/v1/sync-runs/{other.pk}/errors/").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"), [("kind=all", "kind"), ("status=done", "status"), ("group=a%20b", "group")]
)
def test_runs_list_bad_filters_are_400(a_api, group_a, query, field):
    response = a_api.get(f"/api/v1/sync-runs/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_or_huge_run_id_is_404(su_api):
    assert su_api.get("/api/v1/sync-runs/999/").status_code == 404
    assert su_api.get(f"/api/v1/sync-runs/{10**30}/").status_code == 404
    assert su_api.get("/api/v1/sync-runs/abc/").status_code == 404


def test_runs_list_queries_do_not_grow(su_api, integration_a, django_assert_max_num_queries):
    for _ in range(20):
        run = _finished_run(integration_a)
        SyncError.objects.create(run=run, category="x", message="y")
    with django_assert_max_num_queries(4):
        assert su_api.get("/api/v1/sync-runs/").json()["count"] == 20
