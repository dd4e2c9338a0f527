"""LMS Bridge settings: every value comes from the environment (django-environ), in this file only.

`DJANGO_ENV` picks the profile: ``development`` (default: SQLite, embedded broker, DEBUG on),
``test`` (what pytest uses) or ``production`` (secure cookies, HSTS, required secrets).
`.env.example` lists every variable with a comment.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_htmx",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "oauth2_provider",
    "lmsbridge.catalog",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lmsbridge.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # 404 and 500 pages in DEBUG: the technical pages for superusers only.
    "lmsbridge.middleware.FriendlyErrorPagesMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lmsbridge.urls"
WSGI_APPLICATION = "lmsbridge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lmsbridge.catalog.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lmsbridge.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, IMMEDIATE
    # transactions take the write lock up front instead of failing half-way with "locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
    # A file, not memory, so that worker processes started by tests share the test database.
    # One file per test session (pid), so that parallel suites never share it.
    _test_db = VAR_DIR / f"test-{os.getpid()}.sqlite3"
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(_test_db)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username+IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production WhiteNoise serves straight from the apps' static folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LMS Bridge API",
    "DESCRIPTION": "Groups, learners, Udemy integrations, synced catalog, statistics, sync runs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Syncs and platform runs share one set of statuses (integrations.core.models.RunStatus).
    "ENUM_NAME_OVERRIDES": {"RunStatusEnum": "integrations.core.models.RunStatus"},
}

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery-results'}"
)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=2 * 60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int(
    "CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT - 5 * 60
)
# Redis redelivers an unacknowledged task after the visibility timeout: keep it above the hard
# time limit so a long sync is never handed to a second worker while the first still runs.
CELERY_VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 3600
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_queue_dir / "queue"),
            "data_folder_out": str(_queue_dir / "queue"),
            "control_folder": str(_queue_dir / "control"),
            "processed_folder": str(_queue_dir / "processed"),
            "store_processed": False,
        }
    )
    for _folder in ("queue", "control", "processed"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The queue of tasks sent without one (a worker and the tasks it queues can be kept apart).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Daily schedules, in the IANA zone of Central European Time (DST-correct): editable afterwards
# in the admin (django-celery-beat), these are only the values created on first migrate.
SYNC_SCHEDULE_TIMEZONE = env.str("SYNC_SCHEDULE_TIMEZONE", default="Europe/Paris")
SYNC_CONTENT_AT = env.str("SYNC_CONTENT_AT", default="07:30")
SYNC_STATS_AT = env.str("SYNC_STATS_AT", default="07:45")
SYNC_STATS_EVENING_AT = env.str("SYNC_STATS_EVENING_AT", default="19:45")
# An integration that runs but had no content (or statistics) sync go through for this long is
# stale: shown on its page and in the API's `health`.
SYNC_STALE_AFTER_HOURS = env.float("SYNC_STALE_AFTER_HOURS", default=36.0)

# --- Udemy ------------------------------------------------------------------------------------
# Hosts a custom API base URL may point to (anything else is refused: no SSRF). Patterns use
# fnmatch syntax; loopback is added for the sandbox in development and tests.
UDEMY_ALLOWED_API_HOSTS = env.list(
    "UDEMY_ALLOWED_API_HOSTS",
    default=["*.udemy.com"] if PRODUCTION else ["*.udemy.com", "127.0.0.1", "localhost"],
)
UDEMY_CONNECT_TIMEOUT = env.float("UDEMY_CONNECT_TIMEOUT", default=5.0)
UDEMY_READ_TIMEOUT = env.float("UDEMY_READ_TIMEOUT", default=60.0)
UDEMY_MAX_RETRIES = env.int("UDEMY_MAX_RETRIES", default=5)
UDEMY_RETRY_AFTER_CAP = env.float("UDEMY_RETRY_AFTER_CAP", default=60.0)
# Pages of one list fetched at once (pages by number are independent; 1: one after another).
# Halved on a 429, grown back one at a time; at most 16.
UDEMY_PAGE_CONCURRENCY = env.int("UDEMY_PAGE_CONCURRENCY", default=4)
# Requests in flight per Udemy organization, shared by all its syncs on all workers (Redis when
# REDIS_URL is set, else a database row); 0: not shared.
UDEMY_ORG_MAX_IN_FLIGHT = env.int("UDEMY_ORG_MAX_IN_FLIGHT", default=8)
# Bounds of one Udemy list (integrations/providers/udemy/client.py): the heaviest page read (MB,
# decompressed; 100 courses with every field weigh a few hundred KB), and the most pages a list
# without a count may have (catalogs: ~30,000 courses = 300 pages; activity reports: 1,000,000
# rows = 10,000 pages). A list past its bound ends its scan as an error, nothing archived.
UDEMY_MAX_PAGE_MB = env.float("UDEMY_MAX_PAGE_MB", default=5.0)
UDEMY_MAX_CATALOG_PAGES = env.int("UDEMY_MAX_CATALOG_PAGES", default=2_000)
UDEMY_MAX_REPORT_PAGES = env.int("UDEMY_MAX_REPORT_PAGES", default=20_000)
# Splitting one statistics report across workers: a report of more than STATS_SPLIT_PAGES pages
# is cut into ranges of that many pages, worked by the run's own task and STATS_SPLIT_WORKERS
# helper tasks on whichever workers are free (0: never split).
STATS_SPLIT_PAGES = env.int("STATS_SPLIT_PAGES", default=0)
STATS_SPLIT_WORKERS = env.int("STATS_SPLIT_WORKERS", default=3)
SYNC_ARCHIVE_MAX_SHARE = env.float("SYNC_ARCHIVE_MAX_SHARE", default=0.2)
# New (or restored) items a content scan publishes on its own: up to this share of the published
# catalog, or SYNC_PUBLISH_MIN_HELD items, whichever is larger; more at once are held until an
# admin reviews them (the first sync of an empty catalog publishes everything).
SYNC_PUBLISH_MAX_SHARE = env.float("SYNC_PUBLISH_MAX_SHARE", default=SYNC_ARCHIVE_MAX_SHARE)
SYNC_PUBLISH_MIN_HELD = env.int("SYNC_PUBLISH_MIN_HELD", default=50)
SYNC_RUN_RETENTION_DAYS = env.int("SYNC_RUN_RETENTION_DAYS", default=90)
# Every upstream answer (Udemy, learning platforms): the largest body read, decompressed (MB), and
# the longest time one answer may take to arrive in full (s) — a gzip bomb, a slow trickle.
UPSTREAM_MAX_BODY_MB = env.float("UPSTREAM_MAX_BODY_MB", default=20.0)
UPSTREAM_RESPONSE_DEADLINE = env.float("UPSTREAM_RESPONSE_DEADLINE", default=120.0)
# Seconds of work after which a sync goes back to the end of the queue and resumes from its
# checkpoint, so that one long sync never keeps the other groups' syncs waiting (0: never).
RUN_TIME_SLICE = env.int("RUN_TIME_SLICE", default=600)
# The longest a run may wait (rate limits, another run), counted from its creation: a reschedule
# past it closes the run as failed instead of parking it (the next scheduled run starts anew).
RUN_MAX_WAIT = env.int("RUN_MAX_WAIT", default=6 * 3600)
# The longest a 429's Retry-After, shared through an account's budget, pauses the account's other
# syncs (s; never more than RUN_MAX_WAIT): one absurd answer cannot stop them for years.
UPSTREAM_MAX_SHARED_PAUSE = env.float("UPSTREAM_MAX_SHARED_PAUSE", default=3600.0)
DEMO_SANDBOX_URL = env.str("DEMO_SANDBOX_URL", default="http://127.0.0.1:8001")

# --- Learning platforms (LearnUpon, Coursebase) -----------------------------------------------
# Extra hosts a platform connection may use (*.learnupon.com is always allowed; loopback only
# outside production).
PLATFORM_ALLOWED_HOSTS = env.list("PLATFORM_ALLOWED_HOSTS", default=[])
PLATFORM_CONNECT_TIMEOUT = env.float("PLATFORM_CONNECT_TIMEOUT", default=5.0)
PLATFORM_READ_TIMEOUT = env.float("PLATFORM_READ_TIMEOUT", default=60.0)
PLATFORM_MAX_RETRIES = env.int("PLATFORM_MAX_RETRIES", default=5)
PLATFORM_RETRY_AFTER_CAP = env.float("PLATFORM_RETRY_AFTER_CAP", default=60.0)
# Coursebase report exports (Coursebase API, report.export): language of the report's content,
# how long an export may stay pending/started, the first poll interval (doubling to 30 s), and
# the bounds of the download (zip) and of its CSV once unzipped.
REPORT_LANGUAGE = env.str("REPORT_LANGUAGE", default="en")
REPORT_EXPORT_MAX_WAIT = env.float("REPORT_EXPORT_MAX_WAIT", default=900.0)
REPORT_POLL_INTERVAL = env.float("REPORT_POLL_INTERVAL", default=2.0)
REPORT_MAX_DOWNLOAD_MB = env.float("REPORT_MAX_DOWNLOAD_MB", default=200.0)
REPORT_DOWNLOAD_DEADLINE = env.float("REPORT_DOWNLOAD_DEADLINE", default=600.0)
REPORT_MAX_CSV_MB = env.float("REPORT_MAX_CSV_MB", default=2000.0)
# Below this X-LU-Rate-Limit-Remaining-Minute, LearnUpon requests are spread over the minute.
LEARNUPON_MIN_REMAINING_MINUTE = env.int("LEARNUPON_MIN_REMAINING_MINUTE", default=5)
LEARNUPON_THROTTLE_MAX_WAIT = env.float("LEARNUPON_THROTTLE_MAX_WAIT", default=60.0)
SYNC_DIRECTORY_AT = env.str("SYNC_DIRECTORY_AT", default="07:15")

# --- Alerts by e-mail -------------------------------------------------------------------------
# Links in e-mails (run pages, integration pages) start with SITE_URL: the public address of the
# console. Mail goes through Django's backends, chosen by EMAIL_URL (django-environ:
# smtp://user:password@host:587/?tls=True, smtps://…, consolemail://, filemail://); by default
# each message is written as a file under the var directory (var/mail), so `make run` shows them.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_email = env.email_url("EMAIL_URL", default="filemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LMS Bridge <lmsbridge@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Site-wide recipients of every alert and of error reports: comma-separated e-mail addresses.
ADMINS = [("", address) for address in env.list("ADMINS", default=[])]

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
# A session ends with the browser, and in any case SESSION_COOKIE_AGE after the login.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Permissions-Policy (django-permissions-policy): the console needs no device or payment API.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Login throttling (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one IP
# lock that pair out for AXES_COOLOFF_MINUTES (answer 429, the right password included); a
# successful login resets the count. Covers the console login and the Django admin login.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The "IP" above is the client's (lmsbridge/client_ip.py). Behind reverse proxies every request
# connects from the last proxy (127.0.0.1 for one on the same host): set TRUSTED_PROXY_COUNT to
# the number of proxies, each appending the address it saw to TRUSTED_PROXY_HEADER, and the
# client's address is read from there (the N-th entry from the right, never one the client
# wrote). 0, the default: the header is ignored, the connecting address counts. Without it,
# five wrong passwords from anyone would lock a user out for every client behind the proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="X-Forwarded-For")
if TRUSTED_PROXY_COUNT < 0:
    raise environ.ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
AXES_CLIENT_IP_CALLABLE = "lmsbridge.client_ip.client_ip"


def _launch_sources(host_patterns: list[str]) -> list[str]:
    """CSP sources of the Udemy sites START may redirect to: a form POST that redirects is
    checked against form-action by browsers, so the allow-listed API hosts are allowed there
    (https, or http on any port for the loopback sandbox); fnmatch patterns CSP can't express
    (a "*" anywhere but a leading "*.") are left out."""
    sources = []
    for pattern in (p.strip().lower() for p in host_patterns):
        if not pattern or "*" in pattern.removeprefix("*."):
            continue
        loopback = pattern in ("localhost", "[::1]", "::1") or pattern.startswith("127.")
        host = f"[{pattern}]" if pattern == "::1" else pattern
        sources.append(f"http://{host}:*" if loopback else f"https://{host}")
    return sources


# Content-Security-Policy (django-csp 4). Scripts come only from this site's static files
# (Bootstrap, htmx: neither needs 'unsafe-eval' for what the pages use); a nonce is available as
# `request.csp_nonce` for any inline script. Styles allow 'unsafe-inline' because the pygal
# charts are inline SVGs carrying their own <style> element and htmx injects a small <style> for
# its indicators; scripts never get 'unsafe-inline'. Images: course pictures come from Udemy's
# CDN (https:), icons are data: URLs. Forms post to this site only, and START's redirect may
# land on the organization's Udemy site (see `_launch_sources`).
# Outside production the Udemy sandbox of the demo and the tests serves its own course pictures
# over http on loopback (any port: the tests start it on a free one), so img-src admits the
# loopback hosts UDEMY_ALLOWED_API_HOSTS lets the sandbox use; production admits https only.
_SANDBOX_IMAGE_SOURCES = (
    []
    if PRODUCTION
    else [s for s in _launch_sources(UDEMY_ALLOWED_API_HOSTS) if s.startswith("http://")]
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "https:", "data:", *_SANDBOX_IMAGE_SOURCES],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF, *_launch_sources(UDEMY_ALLOWED_API_HOSTS)],
    }
}

# --- Udemy Business xAPI (near-real-time statistics) ---------------------------------------------
# Udemy Business gets a token by the OAuth 2.0 client credentials grant (RFC 6749 §4.4) with the
# client id and secret an admin generates, scope `xapi:write` (Udemy Business help "Learning
# Management System Integration: xAPI"), then POSTs statements with it. django-oauth-toolkit
# issues the tokens; client secrets are stored hashed (its default since 2.0).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "SCOPES": {"xapi:write": "Send xAPI statements of this integration's learners"},
    "DEFAULT_SCOPES": ["xapi:write"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,  # short-lived; Udemy asks for a new one
    # No grant with a redirect or a refresh token is used; these are the strict values anyway.
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # RFC 9700 (OAuth 2.0 Security Best Current Practice): every compliant behaviour on. Only
    # the client credentials grant is used; tokens are stored as their SHA-256 only.
    **{
        f"COMPLIANT_BCP_RFC9700_{name}": True
        for name in (
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "PKCE_REQUIRED",
            "REDIRECT_URI_MATCHING",
            "REDIRECT_URI_SCHEME",
            "REFRESH_TOKEN",
            "TOKEN_STORAGE",
        )
    },
}
# The statement door's bounds: bytes per request body, statements per request, requests per
# client per minute; and statements applied per transaction.
XAPI_MAX_BODY_BYTES = 1_000_000
XAPI_MAX_STATEMENTS = 500
XAPI_RATE_PER_MINUTE = 600
XAPI_APPLY_BATCH = 1000

# --- Operations: metrics and logs ---------------------------------------------------------------
# /metrics (Prometheus) answers a request that brings `Authorization: Bearer <METRICS_TOKEN>`
# and comes from METRICS_ALLOWED_IPS (addresses or networks, comma-separated), each checked when
# set. With neither set it is off (404), except from loopback in development: in production a
# reverse proxy on the same host makes every request come from loopback.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_OPEN_TO_LOOPBACK = DJANGO_ENV == "development"
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError as _exc:
        raise environ.ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_network!r} is not an address or a network"
        ) from _exc
# Where every process (web, workers) writes its metrics for the scrape to add up
# (prometheus-client's multiprocess mode): one directory shared by all of them, emptied while
# they are all stopped (`manage.py clear_metrics`; `make run` does it). Off in the tests unless
# set (the values then stay in the process).
PROMETHEUS_MULTIPROC_DIR = env.str(
    "PROMETHEUS_MULTIPROC_DIR", default="" if DJANGO_ENV == "test" else str(VAR_DIR / "metrics")
)
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR  # read by prometheus-client

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# plain (default): one readable line per record; json: one JSON object per line, with the run's
# fields (run_id, integration_id or connection_id, group, provider or platform, kind).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise environ.ImproperlyConfigured("LOG_FORMAT must be plain or json")


def _hide_post_values(record) -> bool:
    """Error reports (the e-mails to ADMINS) list no POST value: a settings form may carry a
    client secret or a platform password, and a view that forgets `sensitive_post_parameters`
    must not mail it. Django's reporter filter stars every value when this is "__ALL__"."""
    request = getattr(record, "request", None)
    if request is not None and not getattr(request, "sensitive_post_parameters", None):
        request.sensitive_post_parameters = "__ALL__"
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Both formatters hide secrets from the whole line (`integrations.core.logs`).
    "formatters": {
        "plain": {
            "()": "integrations.core.logs.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "integrations.core.logs.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "hide_post_values": {"()": lambda: _hide_post_values},
        # The fields of the run being executed, on every record of any logger.
        "run_context": {"()": "integrations.core.logs.RunContextFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["run_context"],
        },
        # Django's own error e-mails (as in its default logging), with POST values hidden.
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "hide_post_values"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "urllib3": {"level": "WARNING"},
        # Replaces Django's default handlers of this logger; records still reach the root.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "lmsbridge.reporting.CredentialSafeReporterFilter"
