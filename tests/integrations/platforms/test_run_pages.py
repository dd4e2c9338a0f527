"""The platform runs list reads like the sync history (how a run ended, when, what, its first
error; the counts after), in a constant number of queries per page."""

from __future__ import annotations

import re

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import PlatformConnection, PlatformError, PlatformRun

pytestmark = [pytest.mark.django_db]


def queries_of(client, url) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def new_run(connection, **kwargs) -> PlatformRun:
    return PlatformRun.objects.create(
        connection=connection, kind=kwargs.pop("kind", "push"), trigger="manual", **kwargs
    )


def test_the_runs_list_has_an_errors_column_with_the_first_error(page_client_for, admin_a, group_a):
    connection = PlatformConnection.objects.create(
        group=group_a, kind="learnupon", status=PlatformConnection.Status.ACTIVE
    )
    runs = [new_run(connection, status="partial") for _ in range(5)]
    for run in runs:
        PlatformError.objects.create(run=run, category="invalid_item", message=f"first of {run.pk}")
        PlatformError.objects.create(run=run, category="invalid_item", message="second")
    new_run(connection, kind="directory", status="succeeded")
    client = page_client_for(admin_a)
    url = reverse("platforms:runs", args=[group_a.slug])
    html = client.get(url).content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html)
    assert headers[:4] == ["Status", "When", "Kind", "Errors"]
    cells = re.findall(r'data-testid="run-errors-cell">(.*?)</td>', html, re.S)
    assert len(cells) == 6
    assert sum("Bad item: first of" in cell for cell in cells) == 5
    assert sum(">2</a>" in cell for cell in cells) == 5  # the count links to the run
    assert any("—" in cell for cell in cells)  # the clean run
    assert "table-cards" in html  # one card per run on a phone
    before = queries_of(client, url)
    for _ in range(10):
        PlatformError.objects.create(run=new_run(connection), category="x", message="y")
    assert queries_of(client, url) == before  # per page, not per row
