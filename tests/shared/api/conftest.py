"""Fixtures of this folder's tests: `tests/api_fixtures.py`."""

from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import _fast_password_hashing  # noqa: F401
