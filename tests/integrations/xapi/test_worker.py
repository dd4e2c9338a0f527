"""Promise: a statement POSTed to the door is applied by a real Celery worker (the task the
POST queues on commit, consumed from the configured broker), not only in-process."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from catalog.models import Attempt
from integrations.models import XapiStatement
from integrations.tasks.xapi import xapi_apply

from .conftest import make_door, post, statement

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_a_posted_statement(celery_worker_process, worker_queue, monkeypatch):
    # What the POST queues on commit, sent to this test's own queue.
    monkeypatch.setattr(
        "integrations.api.xapi_door.xapi_apply_soon",
        lambda pk: xapi_apply.apply_async((pk,), queue=worker_queue),
    )
    door = make_door("worker")
    body = statement(door, door.course.external_id, progress=55)
    assert post(Client(), door, door.token(), body).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if XapiStatement.objects.filter(state=XapiStatement.State.APPLIED).exists():
            break
        time.sleep(0.2)
    log = celery_worker_process.log_path.read_text()
    assert XapiStatement.objects.get().state == XapiStatement.State.APPLIED, log[-2000:]
    assert Attempt.objects.get(learner=door.learner, course=door.course).progress == 55
