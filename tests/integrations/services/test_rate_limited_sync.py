"""A sync against a rate-limited Udemy sandbox: refused with 429 + Retry-After, it waits and
finishes with every course."""

from __future__ import annotations

import pytest

from integrations.models import SyncRun

pytestmark = pytest.mark.django_db


def test_a_sync_against_a_rate_limited_sandbox_waits_and_succeeds(
    make_udemy_sandbox, make_integration, run_sync
):
    sandbox = make_udemy_sandbox(courses=250, paths=0, learners=1, rate_limit=4, burst=2)
    run = run_sync(make_integration(sandbox))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert sandbox.state()["throttled"] >= 1  # it was refused, waited Retry-After, went on
    assert run.created == 250
