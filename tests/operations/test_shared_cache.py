"""The cache is shared by every process (Redis when REDIS_URL is set, else files in the var dir):
a per-client bound of the xAPI door holds across web processes, not per process."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import caches

from integrations.services import xapi_intake


def test_the_default_cache_is_shared_between_processes():
    backend = settings.CACHES["default"]["BACKEND"]
    expected = "redis.RedisCache" if settings.REDIS_URL else "filebased.FileBasedCache"
    assert backend.endswith(expected)


def test_the_xapi_rate_is_one_count_across_two_processes(settings, monkeypatch):
    """Two cache connections stand for two web processes: each has its own client object, as a
    process would; the bound counts their requests together."""
    settings.XAPI_RATE_PER_MINUTE = 4
    first, second = caches.create_connection("default"), caches.create_connection("default")
    client = f"client-{uuid.uuid4().hex}"
    answers = []
    for process in (first, second) * 3:
        monkeypatch.setattr(xapi_intake, "cache", process)
        answers.append(xapi_intake.xapi_rate_allows(client_key=client))
    assert answers == [True, True, True, True, False, False]


def test_a_cache_that_does_not_answer_lets_statements_in(monkeypatch, caplog):
    """The door stores statements before it answers; a broken cache must not turn every request
    into a 500: the rate goes unchecked (bodies stay bounded) and the log says so."""

    class Down:
        def add(self, *args, **kwargs):
            raise ConnectionError("cache unreachable")

    monkeypatch.setattr(xapi_intake, "cache", Down())
    assert xapi_intake.xapi_rate_allows(client_key="any") is True
    assert "rate not checked" in caplog.text
