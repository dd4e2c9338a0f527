"""Pytest fixtures serving a fake Udemy Business API on a free loopback port.

Loaded by `tests/conftest.py` (`pytest_plugins`). Each sandbox is fresh (its own data, faults and
request log) and stopped when the test ends.

    def test_sync(udemy_sandbox):
        client = UdemyClient(udemy_sandbox.credentials())

    def test_big_catalog(make_udemy_sandbox):
        sandbox = make_udemy_sandbox(courses=1050, latency=0.01)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrations.sandboxes.udemy import UdemySandbox

# Small by default: fast to generate and to sync; tests ask for more when they need it.
SMALL = {"seed": 1, "courses": 25, "paths": 4, "learners": 10, "activity_per_learner": 5}


@pytest.fixture
def make_udemy_sandbox() -> Iterator[Callable[..., UdemySandbox]]:
    """Factory: `make_udemy_sandbox(courses=..., seed=..., latency=...)`, started.

    The options of `UdemyData.generate` shape the data (`SMALL` unless given), the others
    (latency, client_secret, organization_id...) go to `UdemySandbox` (`UdemySandbox.generate`).
    """
    started: list[UdemySandbox] = []

    def factory(**options: Any) -> UdemySandbox:
        sandbox = UdemySandbox.generate(**{**SMALL, **options})
        started.append(sandbox.start())
        return sandbox

    yield factory
    for sandbox in started:
        sandbox.stop()
    _forget_budgets(started)


def _forget_budgets(sandboxes: list[UdemySandbox]) -> None:
    """Drop the Redis budgets of these sandboxes' organizations: a pause a test provoked (a
    429 with a long Retry-After) must not reach a later test whose sandbox reuses the port."""
    from django.conf import settings

    from integrations.core.budget import REDIS_PREFIX
    from integrations.providers.udemy.provider import budget_key

    if not getattr(settings, "REDIS_URL", "") or not sandboxes:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    try:
        client.delete(
            *(REDIS_PREFIX + budget_key(s.api_base_url, s.organization_id) for s in sandboxes)
        )
    finally:
        client.close()


@pytest.fixture
def udemy_sandbox(make_udemy_sandbox: Callable[..., UdemySandbox]) -> UdemySandbox:
    """A started sandbox with small default data (25 courses, 4 paths, 10 learners)."""
    return make_udemy_sandbox()
