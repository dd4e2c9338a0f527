"""Platform connections of a group: save settings, Test connection, request and run imports and
pushes (dry runs included), the daily import, and the hook run after each Udemy sync.

Views, the API and tasks call these; the engines live in `integrations/platforms/`. Secrets are
write-only: a blank value keeps the stored one, and audit entries name fields, never values.
"""

from __future__ import annotations

import copy
import logging
import uuid
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.core.audit import (
    SettingsSpec,
    audit_record,
    settings_apply,
    settings_update,
    toggles_of,
)
from integrations.core.execute import run_enqueue
from integrations.core.reaper import runs_reap
from integrations.core.registry import PLATFORMS, platform_module, platform_run_kinds
from integrations.core.runs import run_skip
from integrations.models import (
    Integration,
    PlatformAuditEntry,
    PlatformConnection,
    PlatformRun,
)
from integrations.platforms.base import CredentialCheck
from integrations.platforms.config import fields_for_kind
from integrations.platforms.execute import platform_run_execute
from integrations.selectors import connection_for_group

__all__ = [
    "AutoEnrollNotConfirmed",
    "ConnectionSaveResult",
    "auto_enroll_preview",
    "auto_enroll_set",
    "auto_enroll_unlink_earlier",
    "connection_get_or_new",
    "connection_save",
    "connection_test",
    "connection_update",
    "platform_import_scheduled",
    "platform_push_after_sync",
    "platform_run_execute",
    "platform_run_request",
]

logger = logging.getLogger(__name__)
SECRET_FIELDS = frozenset({"learnupon_password", "coursebase_token"})
EDITABLE_FIELDS = (
    "kind",
    "learnupon_portal",
    "learnupon_username",
    "learnupon_password",
    "learnupon_owner_id",
    "target_group_id",
    "coursebase_domain",
    "coursebase_token",
    "learnupon_cataloged",
    "base_url",
    "push_after_sync",
    "udemy_stats_from_report",
)
# Changing one of these means the last "Test connection" no longer vouches for the settings.
SETTINGS = SettingsSpec(PlatformAuditEntry, EDITABLE_FIELDS, SECRET_FIELDS)
CONNECTIVITY_FIELDS = frozenset(EDITABLE_FIELDS) - {
    "push_after_sync",
    "udemy_stats_from_report",
    "learnupon_cataloged",
}
BUSY = PlatformRun.BUSY
RUN_PLATFORM_TASK = "integrations.platform_tasks.run_platform"  # stable name (tasks/platforms.py)


# --------------------------------------------------------------------------- settings


def connection_get_or_new(*, group, kind: str = "learnupon") -> PlatformConnection:
    """The saved connection, or an unsaved one (the first save creates it)."""
    return connection_for_group(group=group) or PlatformConnection(group=group, kind=kind)


def connection_update(*, connection: PlatformConnection, actor, data: dict[str, Any]) -> list[str]:
    """Apply changed fields without any check (a blank secret keeps the stored one); audit
    names, never values. For seeding and tests: the console and the API use `connection_save`.

    A change to what the connection reaches (kind, portal, keys, ids, URL) sets it back to
    "not tested": scheduled imports and sync-time pushes wait for a new Test connection.
    """

    def adjust(changed: list[str]) -> None:
        reached = CONNECTIVITY_FIELDS & set(changed)
        if reached and connection.status != PlatformConnection.Status.INACTIVE:
            connection.status = PlatformConnection.Status.INACTIVE
            connection.status_message = "Settings changed: test the connection again."

    if data.get("learnupon_cataloged") is None:  # absent or not chosen: keep the stored choice
        data = {k: v for k, v in data.items() if k != "learnupon_cataloged"}
    return settings_update(connection, SETTINGS, actor=actor, data=data, adjust=adjust)


@dataclass(frozen=True)
class ConnectionSaveResult:
    """What a save did: `ok` False → nothing was stored (`message` says why)."""

    ok: bool
    message: str
    changed: tuple[str, ...] = ()
    check: CredentialCheck | None = None


def connection_save(
    *, connection: PlatformConnection, actor, data: dict[str, Any], test: bool = False
) -> ConnectionSaveResult:
    """Save the settings form (console and API): verify first, store only what passed.

    Only the chosen kind's settings are applied (`config.fields_for_kind`). When a new
    connection is saved, when what it reaches changes (kind, host, keys, ids, URL), or with
    `test` ("Save and test"), the resulting settings are checked against the platform *before*
    anything is stored: a refusal changes nothing (settings, status) and is audited with the
    fields it concerned (never their values), so one typo can't break a working connection.
    A verified save stores the settings and activates the connection. Toggles alone save
    without a check; `test` with nothing changed is a Test connection of the stored settings.
    """
    data = _applicable(data)
    candidate = copy.copy(connection)
    changed = settings_apply(candidate, data=data, editable=EDITABLE_FIELDS, secrets=SECRET_FIELDS)
    if connection.pk is None:  # name what was set, not every field of the form
        blank = PlatformConnection()
        changed = [n for n in changed if getattr(candidate, n) != getattr(blank, n)]
    reached = [name for name in changed if name in CONNECTIVITY_FIELDS]
    if test and not changed and connection.pk is not None:
        check = connection_test(connection=connection, actor=actor)
        return ConnectionSaveResult(check.ok, _verdict_message(connection, check), (), check)
    must_check = test or bool(reached) or connection.pk is None
    check = platform_module(candidate.kind).check_connection(candidate) if must_check else None
    if check is not None and not check.ok:
        _refused(connection, actor, reached or changed, check)
        label = candidate.get_kind_display()
        return ConnectionSaveResult(
            False,
            f"{label} refused these settings ({check.verdict}): {check.message} "
            "Nothing was stored: the connection keeps its previous settings.",
            tuple(changed),
            check,
        )
    _store(connection, candidate, changed, actor, check)
    if check is not None:
        return ConnectionSaveResult(
            True, _verdict_message(connection, check), tuple(changed), check
        )
    return ConnectionSaveResult(True, "Settings saved.", tuple(changed))


def _applicable(data: dict[str, Any]) -> dict[str, Any]:
    """The chosen kind's settings from `data`; an absent catalog choice keeps the stored one."""
    names = set(fields_for_kind(str(data.get("kind", ""))))
    applicable = {k: v for k, v in data.items() if k in names}
    if applicable.get("learnupon_cataloged") is None:
        applicable.pop("learnupon_cataloged", None)
    return applicable


def _verdict_message(connection: PlatformConnection, check: CredentialCheck) -> str:
    if check.ok:
        return f"Settings saved. Connection OK. {check.message}".strip()
    return f"Connection failed ({check.verdict}): {check.message}"


def _refused(
    connection: PlatformConnection, actor, fields: list[str], check: CredentialCheck
) -> None:
    if connection.pk is None:  # nothing stored yet: no connection to hang the entry on
        logger.info("platform settings refused before a first save: %s", check.verdict)
        return
    audit_record(
        PlatformAuditEntry,
        connection=connection,
        actor=actor,
        action="credentials_refused",
        fields=fields,
        detail=check.verdict,
    )


def _store(
    connection: PlatformConnection,
    candidate: PlatformConnection,
    changed: list[str],
    actor,
    check: CredentialCheck | None,
) -> None:
    """Write the (verified) settings, and the verdict when there is one, in one transaction."""
    is_new = connection.pk is None
    for name in changed:
        setattr(connection, name, getattr(candidate, name))
    if check is not None:
        connection.last_tested_at = timezone.now()
        connection.status, connection.status_message = PlatformConnection.Status.ACTIVE, ""
    if not (changed or is_new or check is not None):
        return
    with transaction.atomic():
        connection.save()
        if changed or is_new:
            audit_record(
                PlatformAuditEntry,
                connection=connection,
                actor=actor,
                action="update",
                fields=changed,
                toggles=toggles_of(connection, changed),
            )
        if check is not None:
            audit_record(
                PlatformAuditEntry,
                connection=connection,
                actor=actor,
                action="test",
                detail=check.verdict,
            )


def connection_test(*, connection: PlatformConnection, actor) -> CredentialCheck:
    """Test connection: one cheap authenticated call (plus, for LearnUpon, the course owner
    and target group); the verdict activates the connection or marks it in error."""
    check = platform_module(connection.kind).check_connection(connection)
    connection.last_tested_at = timezone.now()
    if check.ok:
        connection.status, connection.status_message = PlatformConnection.Status.ACTIVE, ""
    else:
        connection.status = PlatformConnection.Status.ERROR
        connection.status_message = check.message[:500]
    connection.save(update_fields=["last_tested_at", "status", "status_message", "updated_at"])
    audit_record(
        PlatformAuditEntry, connection=connection, actor=actor, action="test", detail=check.verdict
    )
    return check


# --------------------------------------------------------------------------- auto-enrollment


class AutoEnrollNotConfirmed(ValueError):
    """Turning auto-enrollment on needs the confirmation of its enrollment count."""

    def __init__(self, message: str, estimate: Any = None) -> None:
        super().__init__(message)
        self.message, self.estimate = message, estimate


def _learnupon(connection: PlatformConnection) -> Any:
    module = platform_module(connection.kind)
    if not hasattr(module, "enrollment_estimate"):
        raise AutoEnrollNotConfirmed(
            f"{connection.get_kind_display()} connections have no course-to-group links."
        )
    return module


def auto_enroll_preview(*, connection: PlatformConnection) -> Any:
    """Dry run of auto-enrollment (reads only): "12 courses × 340 members = 4,080
    enrollments". Raises `PlatformApiError` when LearnUpon can't be read."""
    if not connection.target_group_id:
        raise AutoEnrollNotConfirmed("Set the target group id before linking courses to it.")
    return _learnupon(connection).enrollment_estimate(connection)


def auto_enroll_set(
    *,
    connection: PlatformConnection,
    actor,
    enabled: bool,
    confirm_enrollments: int | None = None,
    re_enroll_completed: bool = False,
) -> Any:
    """Turn linking courses to the target group on (or confirm a new number) or off.

    On: the dry run is made again and `confirm_enrollments` must name its enrollment count
    (anything else raises `AutoEnrollNotConfirmed` with the count to confirm). That number is
    the consent, kept with who and when: a push links courses only while courses × members
    stays within it, and asks again beyond it. Off: every link is marked to be removed by the
    next push (`DELETE /group_courses/{id}`; LearnUpon keeps the enrollments)."""
    module = _learnupon(connection)
    if not enabled:
        marked = module.mark_unlink(connection=connection)
        connection.auto_enroll, connection.auto_enroll_waiting = False, {}
        connection.save(update_fields=["auto_enroll", "auto_enroll_waiting", "updated_at"])
        audit_record(
            PlatformAuditEntry,
            connection=connection,
            actor=actor,
            action="auto_enroll_off",
            fields=["auto_enroll"],
            detail=f"{marked} course link(s) to remove at the next push",
        )
        return None
    estimate = auto_enroll_preview(connection=connection)
    if confirm_enrollments != estimate.enrollments:
        raise AutoEnrollNotConfirmed(
            f"Linking the courses to group {connection.target_group_id} enrolls "
            f"{estimate.message}. To go ahead, confirm with that number: "
            f"{estimate.enrollments}.",
            estimate,
        )
    was_on = connection.auto_enroll
    connection.auto_enroll, connection.re_enroll_completed = True, bool(re_enroll_completed)
    connection.auto_enroll_consent = estimate.enrollments
    connection.auto_enroll_consent_courses = estimate.courses
    connection.auto_enroll_consent_members = estimate.members
    connection.auto_enroll_consent_by = (
        actor if actor is not None and actor.is_authenticated else None
    )
    connection.auto_enroll_consent_at = timezone.now()
    connection.auto_enroll_waiting = {}
    connection.save(update_fields=[*CONSENT_FIELDS, "updated_at"])
    audit_record(
        PlatformAuditEntry,
        connection=connection,
        actor=actor,
        action="auto_enroll_confirm" if was_on else "auto_enroll_on",
        fields=["auto_enroll_consent", "re_enroll_completed", *([] if was_on else ["auto_enroll"])],
        detail=f"confirmed: {estimate.message}",
    )
    return estimate


CONSENT_FIELDS = (
    "auto_enroll",
    "re_enroll_completed",
    "auto_enroll_consent",
    "auto_enroll_consent_courses",
    "auto_enroll_consent_members",
    "auto_enroll_consent_by",
    "auto_enroll_consent_at",
    "auto_enroll_waiting",
)


def auto_enroll_unlink_earlier(*, connection: PlatformConnection, actor) -> int:
    """Undo the links made by earlier versions (which linked every pushed course): the next
    push removes them, enrollments kept. Returns how many are marked."""
    marked = _learnupon(connection).mark_unlink(connection=connection)
    audit_record(
        PlatformAuditEntry,
        connection=connection,
        actor=actor,
        action="unlink_courses",
        detail=f"{marked} course link(s) to remove at the next push",
    )
    return marked


# --------------------------------------------------------------------------- runs


def platform_run_request(
    *,
    connection: PlatformConnection,
    kind: str,
    trigger: str,
    user=None,
    dry_run: bool = False,
    scheduled_for: date | None = None,
) -> PlatformRun:
    """Create a run and enqueue it (a dry run is executed at once: it sends nothing).

    If a run of the same kind is queued or running, the new one is recorded as skipped."""
    if kind == PlatformRun.Kind.PUSH and not PLATFORMS[connection.kind].push:
        raise ValueError(f"{connection.kind} connections can't receive a push")
    if kind not in platform_run_kinds(connection.kind):
        raise ValueError(f"{connection.kind} connections have no {kind} run")
    if dry_run and kind != PlatformRun.Kind.PUSH:
        raise ValueError("only a push has a dry run")
    with transaction.atomic():
        runs_reap(PlatformRun, connection=connection, kind=kind)  # a dead worker's run is closed
        run = PlatformRun.objects.create(
            connection=connection,
            kind=kind,
            trigger=trigger,
            triggered_by=user if user is not None and user.is_authenticated else None,
            dry_run=dry_run,
            scheduled_for=scheduled_for,
            task_id=uuid.uuid4().hex,
        )
        if trigger in (PlatformRun.Trigger.MANUAL, PlatformRun.Trigger.API):
            action = f"{kind}_dry_run" if dry_run else kind
            audit_record(
                PlatformAuditEntry,
                connection=connection,
                actor=user,
                action=action,
                detail=f"run {run.pk}",
            )
        if not dry_run:
            if _busy(connection, kind, run, trigger):
                label = run.get_kind_display().lower()
                run_skip(run=run, reason=f"Skipped: a {label} is already queued or running.")
                return run
            transaction.on_commit(partial(_enqueue, run))
    if dry_run:
        return platform_run_execute(run_id=run.pk)
    return run


def _busy(connection: PlatformConnection, kind: str, run: PlatformRun, trigger: str) -> bool:
    """Another run of the kind is queued or running. After a sync, only a *queued* push makes
    this one redundant (it will read the fresh data); a running push may predate the sync, so
    this one is queued and waits for it (see `platform_run_execute`)."""
    statuses = [PlatformRun.Status.QUEUED] if trigger == PlatformRun.Trigger.SYNC else BUSY
    return (
        PlatformRun.objects.filter(
            connection=connection, kind=kind, status__in=statuses, dry_run=False
        )
        .exclude(pk=run.pk)
        .exists()
    )


def _enqueue(run: PlatformRun, countdown: float | None = None) -> None:
    run_enqueue(task_name=RUN_PLATFORM_TASK, run=run, countdown=countdown)


DAILY_KINDS = (PlatformRun.Kind.DIRECTORY, PlatformRun.Kind.COURSES, PlatformRun.Kind.REPORTS)


def platform_import_scheduled(*, today: date) -> list[PlatformRun]:
    """Beat entry point (07:15 Europe/Paris, before the statistics sync): per tested connection
    and local day, one directory import and, where the platform has them, one course list
    import and one report export (a unique guard stops a double daily run)."""
    runs = []
    connections = PlatformConnection.objects.filter(
        status__in=PlatformConnection.running_statuses()
    )
    for connection in connections.select_related("group"):
        supported = platform_run_kinds(connection.kind)
        for kind in (k for k in DAILY_KINDS if k in supported):
            try:
                with transaction.atomic():
                    runs.append(
                        platform_run_request(
                            connection=connection,
                            kind=kind,
                            trigger=PlatformRun.Trigger.SCHEDULE,
                            scheduled_for=today,
                        )
                    )
            except IntegrityError:
                logger.info("daily %s of connection %s already requested", kind, connection.pk)
    return runs


def platform_courses_rematch(integration_id: int) -> None:
    """After a content sync: match the platform's course list again against the fresh catalog
    (local rows only, no request). Never raises: a sync must not fail for it."""
    try:
        kinds = [kind for kind, info in PLATFORMS.items() if info.courses]
        connection = PlatformConnection.objects.filter(
            group__integrations__pk=integration_id, kind__in=kinds
        ).first()
        if connection is not None:
            platform_module(connection.kind).courses_match(connection=connection)
    except Exception:
        logger.exception("could not match platform courses after integration %s", integration_id)


def platform_push_after_sync(integration_id: int) -> PlatformRun | None:
    """Hook for the end of each content/stats sync: queue a push when the integration's group
    has a tested LearnUpon connection with "push after each sync" on. Never raises: a problem
    here must not turn a finished Udemy sync into a failure."""
    try:
        group_id = (
            Integration.objects.filter(pk=integration_id).values_list("group_id", flat=True).first()
        )
        push_kinds = [kind for kind, info in PLATFORMS.items() if info.push]
        connection = PlatformConnection.objects.filter(
            group_id=group_id,
            kind__in=push_kinds,
            status__in=PlatformConnection.running_statuses(),
            push_after_sync=True,
        ).first()
        if connection is None:
            return None
        return platform_run_request(
            connection=connection, kind=PlatformRun.Kind.PUSH, trigger=PlatformRun.Trigger.SYNC
        )
    except Exception:
        logger.exception("could not queue the platform push after integration %s", integration_id)
        return None


def push_after_sync_receiver(*, sender, run, **kwargs) -> None:
    """`core.events.run_completed` receiver for Udemy syncs (connected in `IntegrationsConfig`):
    a finished sync is followed by the push of its group's platform connection, if any, and a
    content sync by a new match of the platform's course list."""
    platform_push_after_sync(run.integration_id)
    if run.kind == "content":
        platform_courses_rematch(run.integration_id)
