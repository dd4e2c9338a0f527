"""Fixtures of this folder's tests: `tests/console_fixtures.py`."""

from tests.console_fixtures import *  # noqa: F403
