"""Operations: alerts by e-mail, Prometheus metrics, logs and error reports."""

import ipaddress
import os
from pathlib import Path

import environ

from lmsbridge.settings.environment import DJANGO_ENV, VAR_DIR, env

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
