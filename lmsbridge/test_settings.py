"""The test profile, chosen by the test configuration (`[tool.pytest.ini_options]`), so that a
plain `pytest` runs the suite as `make test` does: `DJANGO_ENV=test`, whatever the
environment says. Worker and server processes started by the tests inherit both variables."""

import os
import uuid

os.environ["DJANGO_ENV"] = "test"  # never a production or developer profile: their services
# The suite's cache keys apart from any other run's on a shared Redis (its processes share them).
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{uuid.uuid4().hex[:12]}")

from lmsbridge.settings import *  # noqa: F403
