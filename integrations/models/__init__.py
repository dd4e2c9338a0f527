"""The models of the `integrations` app: Udemy integrations and their syncs (`sync`), learning-
platform connections and their runs (`platforms`), alerts by e-mail (`alerts`). Their shared
shape comes from `core.models`."""

from integrations.models.alerts import AlertEmail, AlertOptOut, AlertState
from integrations.models.platforms import (
    PlatformAuditEntry,
    PlatformConnection,
    PlatformCourse,
    PlatformDirectoryLink,
    PlatformError,
    PlatformLearnerProgress,
    PlatformLease,
    PlatformLedgerItem,
    PlatformRun,
)
from integrations.models.schedules import SyncTime
from integrations.models.sync import (
    AuditEntry,
    Integration,
    PendingStatistic,
    SyncError,
    SyncLease,
    SyncPage,
    SyncRange,
    SyncRun,
    UpstreamBudget,
)
from integrations.models.xapi import XapiClient, XapiStatement

__all__ = [
    "AlertEmail",
    "AlertOptOut",
    "AlertState",
    "AuditEntry",
    "Integration",
    "PendingStatistic",
    "PlatformAuditEntry",
    "PlatformConnection",
    "PlatformCourse",
    "PlatformDirectoryLink",
    "PlatformError",
    "PlatformLearnerProgress",
    "PlatformLease",
    "PlatformLedgerItem",
    "PlatformRun",
    "SyncError",
    "SyncLease",
    "SyncPage",
    "SyncRange",
    "SyncRun",
    "SyncTime",
    "UpstreamBudget",
    "XapiClient",
    "XapiStatement",
]
