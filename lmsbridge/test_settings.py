"""The test profile, chosen by the test configuration (`[tool.pytest.ini_options]`), so that a
plain `pytest` runs the suite as `make test` does: `DJANGO_ENV=test` unless the caller set a
profile. Worker and server processes started by the tests inherit both variables."""

import os

os.environ.setdefault("DJANGO_ENV", "test")

from lmsbridge.settings import *  # noqa: F403
