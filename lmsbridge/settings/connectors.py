"""Limits of the connectors: the Udemy API, the learning platforms, every upstream answer, the
runs of a sync, and the door Udemy Business sends xAPI statements through."""

from lmsbridge.settings.environment import PRODUCTION, env

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
# A sync's pages fetched, mapped and committed one after another on the task's thread, with no
# prefetch, fetch pool nor writer thread (integrations/services/pipeline.py): for debugging.
SYNC_PIPELINE_SEQUENTIAL = env.bool("SYNC_PIPELINE_SEQUENTIAL", default=False)
# Bounds of one Udemy list (integrations/providers/udemy/pages.py): the heaviest page read (MB,
# decompressed; a page of 100 courses with every field stays far below it), and the most pages a
# list without a count may have (pages of 100 items: room for catalogs and activity reports well
# past the sizes in BENCHMARKS.md). A list past its bound ends its scan as an error, nothing
# archived.
UDEMY_MAX_PAGE_MB = env.float("UDEMY_MAX_PAGE_MB", default=5.0)
UDEMY_MAX_CATALOG_PAGES = env.int("UDEMY_MAX_CATALOG_PAGES", default=2_000)
UDEMY_MAX_REPORT_PAGES = env.int("UDEMY_MAX_REPORT_PAGES", default=20_000)
# Splitting one statistics report across workers: a report of more than STATS_SPLIT_PAGES pages
# is cut into ranges of that many pages, worked by the run's own task and STATS_SPLIT_WORKERS
# helper tasks on whichever workers are free (0: never split).
STATS_SPLIT_PAGES = env.int("STATS_SPLIT_PAGES", default=0)
STATS_SPLIT_WORKERS = env.int("STATS_SPLIT_WORKERS", default=3)
# Statistics rows of courses not in the catalog yet (integrations/services/stats_pending.py): kept
# this many days after the last report that named them, and at most this many per integration
# (rows beyond it are not kept and are counted in the run's warning).
STATS_PENDING_MAX_AGE_DAYS = env.int("STATS_PENDING_MAX_AGE_DAYS", default=30)
STATS_PENDING_MAX_ROWS = env.int("STATS_PENDING_MAX_ROWS", default=100_000)
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

# --- Udemy Business xAPI (near-real-time statistics) ---------------------------------------------
# Udemy Business gets a token by the OAuth 2.0 client credentials grant (RFC 6749 §4.4) with the
# client id and secret an admin generates, scope `xapi:write` (Udemy Business help "Learning
# Management System Integration: xAPI"), then POSTs statements with it. django-oauth-toolkit
# issues the tokens; client secrets are stored hashed (its default since 2.0).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "SCOPES": {"xapi:write": "Send xAPI statements of this integration's learners"},
    "DEFAULT_SCOPES": ["xapi:write"],
    # short-lived; Udemy asks for a new one
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("XAPI_TOKEN_SECONDS", default=3600),
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
XAPI_MAX_BODY_BYTES = env.int("XAPI_MAX_BODY_BYTES", default=1_000_000)
XAPI_MAX_STATEMENTS = env.int("XAPI_MAX_STATEMENTS", default=500)
XAPI_RATE_PER_MINUTE = env.int("XAPI_RATE_PER_MINUTE", default=600)
XAPI_APPLY_BATCH = env.int("XAPI_APPLY_BATCH", default=2500)
