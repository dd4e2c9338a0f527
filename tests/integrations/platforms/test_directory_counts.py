"""A directory import's counts tell groups, users and memberships apart: the run's totals count
every kind it read (groups fetched too), and its page shows one row per kind."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db]


def test_groups_read_are_counted_as_fetched(coursebase_sandbox, make_connection, run_platform):
    run = run_platform(make_connection(coursebase_sandbox))
    groups, users = run.details["groups"], run.details["users"]
    assert groups["fetched"] > 0 and groups.get("created", 0) > 0
    assert run.fetched == groups["fetched"] + users["fetched"]
    assert run.created >= groups.get("created", 0)


def kind_row(html: str, kind: str) -> list[str]:
    row = re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {kind}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row[1], re.S)
    ]


def test_the_run_page_shows_counts_per_kind(
    page_client_for, admin_a, group_a, coursebase_sandbox, make_connection, run_platform
):
    run = run_platform(make_connection(coursebase_sandbox, group=group_a))
    url = reverse("platforms:run", kwargs={"slug": group_a.slug, "run_id": run.pk})
    html = page_client_for(admin_a).get(url).content.decode()
    groups, users, members = (run.details[k] for k in ("groups", "users", "memberships"))
    assert kind_row(html, "groups")[:3] == [
        "Groups",
        str(groups["fetched"]),
        str(groups["created"]),
    ]
    assert kind_row(html, "users")[:3] == ["Users", str(users["fetched"]), str(users["created"])]
    assert kind_row(html, "memberships")[:3] == ["Memberships", "—", str(members["added"])]
    # No total that adds groups to users.
    assert not re.search(r"<dt[^>]*>Fetched</dt>", html)
