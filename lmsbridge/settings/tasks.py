"""Celery (broker, results, time limits), the cache the processes share, and the daily sync
schedules created on first migrate."""

from pathlib import Path

from lmsbridge.settings.environment import VAR_DIR, env

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery-results'}"
)
# The cache every process shares: what must hold across the web processes and the workers (the
# xAPI door's per-client rate, the debounce of its apply task) would be per process in Django's
# default, a memory of each process. Redis when REDIS_URL is set, else files in the var dir (the
# embedded web, worker and beat share them). Nothing here clears it: on Redis it shares the
# broker's database, so its keys carry a prefix.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="lmsbridge"),
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="lmsbridge"),
        # Django culls a third of the entries at random past 300: live rate counters with them.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}
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
# The daily import of the learning platforms' directories (LearnUpon, Coursebase).
SYNC_DIRECTORY_AT = env.str("SYNC_DIRECTORY_AT", default="07:15")
