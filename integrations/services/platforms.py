"""Platform connections of a group, one import for the pages, the API and the tasks: settings
and Test connection (`platform_settings`), auto-enrollment (`platform_auto_enroll`), runs, the
daily import and the hook run after each Udemy sync (`platform_runs`)."""

from __future__ import annotations

from .platform_auto_enroll import (
    AutoEnrollNotConfirmed,
    auto_enroll_preview,
    auto_enroll_set,
    auto_enroll_unlink_earlier,
)
from .platform_runs import (
    RUN_PLATFORM_TASK,
    platform_courses_rematch,
    platform_import_scheduled,
    platform_push_after_sync,
    platform_run_execute,
    platform_run_request,
    push_after_sync_receiver,
)
from .platform_settings import (
    ConnectionSaveResult,
    connection_get_or_new,
    connection_save,
    connection_test,
    connection_update,
)

__all__ = [
    "RUN_PLATFORM_TASK",
    "AutoEnrollNotConfirmed",
    "ConnectionSaveResult",
    "auto_enroll_preview",
    "auto_enroll_set",
    "auto_enroll_unlink_earlier",
    "connection_get_or_new",
    "connection_save",
    "connection_test",
    "connection_update",
    "platform_courses_rematch",
    "platform_import_scheduled",
    "platform_push_after_sync",
    "platform_run_execute",
    "platform_run_request",
    "push_after_sync_receiver",
]
