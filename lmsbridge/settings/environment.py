"""The environment the settings are read from, the profile it picks (`DJANGO_ENV`), and the secrets.

Every other part of `lmsbridge.settings` reads its variables through `env` from here.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if os.environ.get("DJANGO_ENV") != "test":  # the suite never depends on a developer's .env
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime files of the embedded defaults (SQLite database, file broker, results).
VAR_DIR = Path(env.str("LMSBRIDGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise environ.ImproperlyConfigured("DJANGO_ENV must be development, test or production")
PRODUCTION = DJANGO_ENV == "production"

# Development keys are public on purpose: production refuses to start without its own.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZC0="

SECRET_KEY = env.str("SECRET_KEY") if PRODUCTION else env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Keys for secrets stored in the database (MultiFernet): the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = (
    env.list("FIELD_ENCRYPTION_KEYS")
    if PRODUCTION
    else env.list("FIELD_ENCRYPTION_KEYS", default=[_DEV_FIELD_KEY])
)
