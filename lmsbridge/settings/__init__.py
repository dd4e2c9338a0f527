"""LMS Bridge settings: every value comes from the environment (django-environ), in this package.

`DJANGO_ENV` picks the profile: ``development`` (default: SQLite, embedded broker, DEBUG on),
``test`` (what pytest uses) or ``production`` (secure cookies, HSTS, required secrets).
`.env.example` lists every variable with a comment.

`DJANGO_SETTINGS_MODULE` stays ``lmsbridge.settings``: this module gathers the parts, each reading
its own group of variables (`environment` the profile and the secrets the others build on).
"""

from lmsbridge.settings.application import *  # noqa: F403
from lmsbridge.settings.connectors import *  # noqa: F403
from lmsbridge.settings.environment import *  # noqa: F403
from lmsbridge.settings.operations import *  # noqa: F403
from lmsbridge.settings.security import *  # noqa: F403
from lmsbridge.settings.tasks import *  # noqa: F403
