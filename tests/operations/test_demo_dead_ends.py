"""The demo works offline end to end: START lands on the Udemy sandbox's course player (on the
same host as the demo integration's API), and `make run` starts and wires the LearnUpon and
Coursebase sandboxes too."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from django.core.management import call_command

from integrations.models import PlatformConnection
from integrations.sandboxes.udemy import UdemyData, UdemySandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_demo_connects_groups_to_the_platform_sandboxes():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent
    connections = {c.kind: c for c in PlatformConnection.objects.select_related("group")}
    assert set(connections) == {"learnupon", "coursebase"}
    assert connections["learnupon"].base_url == "http://127.0.0.1:8002/api/v1/"
    assert connections["coursebase"].base_url == "http://127.0.0.1:8003/api/"
    assert all(c.status == PlatformConnection.Status.ACTIVE for c in connections.values())
    assert all(c.group.parent.slug == "acme-academy" for c in connections.values())


def test_the_sandbox_serves_a_course_player_for_the_urls_it_hands_out():
    data = UdemyData.generate(seed=1, courses=5, paths=2, learners=2)
    with UdemySandbox(data) as sandbox:
        client = sandbox.credentials()
        import requests

        page = requests.get(
            f"{client.api_base_url}courses/list/",
            auth=(sandbox.client_id, sandbox.client_secret),
            timeout=5,
        ).json()
        course = page["results"][0]
        assert urlsplit(course["url"]).netloc == urlsplit(sandbox.api_base_url).netloc
        with urlopen(course["url"], timeout=5) as answer:
            body = answer.read().decode()
            assert answer.status == 200
        assert course["title"] in body.replace("&amp;", "&").replace("&#x27;", "'")
        assert "This is the demo course player of the built-in Udemy sandbox" in body
        assert "<a href=" in body


def test_procfile_starts_the_three_sandboxes():
    procfile = (ROOT / "Procfile.dev").read_text()
    assert "sandbox udemy --port 8001" in procfile
    assert "sandbox learnupon --port 8002" in procfile
    assert "sandbox coursebase --port 8003" in procfile
