"""Fixtures of the reliability tests: the sync fixtures of tests/integrations, fast hashing."""

from __future__ import annotations

import pytest

from tests.integrations.conftest import make_integration, owner, run_sync  # noqa: F401


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
