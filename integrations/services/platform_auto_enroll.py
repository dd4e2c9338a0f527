"""Auto-enrollment of a platform connection (LearnUpon: pushed courses linked to the target
group): its dry run, turning it on with the confirmed number of enrollments (the consent), off,
and undoing the links made by earlier versions."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.connectors.platforms import platform_for
from integrations.core.audit import audit_record
from integrations.core.kinds import Capability
from integrations.models import PlatformAuditEntry, PlatformConnection
from integrations.platforms.base import PlatformConnector


class AutoEnrollNotConfirmed(ValueError):
    """Turning auto-enrollment on needs the confirmation of its enrollment count."""

    def __init__(self, message: str, estimate: Any = None) -> None:
        super().__init__(message)
        self.message, self.estimate = message, estimate


def _learnupon(connection: PlatformConnection) -> PlatformConnector:
    """The connector of a kind that links courses to a group (a push), else a refusal."""
    connector = platform_for(connection.kind)
    if not connector.supports(Capability.PUSH):
        raise AutoEnrollNotConfirmed(
            f"{connection.get_kind_display()} connections have no course-to-group links."
        )
    return connector


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
    connector = _learnupon(connection)
    if not enabled:
        marked = connector.mark_unlink(connection=connection)
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
