"""What an alert e-mail says: its subject, headline, reason and advice, and the context its
templates (`templates/integrations/email/`) are rendered with, links from `SITE_URL`. Never a
secret: every text that may hold one goes through `redact`, and an upstream's words are quoted
on one bounded line without links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from integrations.core.logs import redact as redact_text
from integrations.core.scrub import single_line, upstream_excerpt
from integrations.models import AlertState, Integration, PlatformConnection, PlatformRun, SyncRun
from integrations.selectors.recent_change import change_advice

Topic = AlertState.Topic
FIRST_ERRORS = 5
SUBJECT_CHARS = 200
REASON_CHARS = 500  # of a reason quoted in an e-mail (it may quote an upstream's message)
ERROR_CHARS = 300  # of each run error quoted

# Each advice names buttons of the integration page (“Save”, “Check again”, “Sync now to
# clear”): the page in Error shows them.
ADVICE = {
    Integration.ErrorKind.CREDENTIALS: (
        "Udemy refused the credentials. Check the client ID, the client secret and the "
        "organization ID on the integration page (an API key may have been rotated or revoked "
        "in Udemy Business) and press “Save”: Udemy checks them first, and once it accepts them "
        "the integration is Active again. If they did not change, press “Check again” once "
        "Udemy accepts them again. The daily syncs go on meanwhile."
    ),
    Integration.ErrorKind.UNAVAILABLE: (
        "Udemy could not be reached or answered with server errors. Nothing needs to change on "
        "your side: the daily syncs go on and the first one that succeeds brings the "
        "integration back to Active. Once Udemy answers again, “Check again” on the "
        "integration page brings it back without waiting."
    ),
    Integration.ErrorKind.BAD_RESPONSE: (
        "Udemy's answers could not be read (truncated, empty or not JSON). The daily syncs go "
        "on, and “Sync now to clear” on the integration page tries at once; if it lasts, send "
        "the run's errors to Udemy support."
    ),
}
# The advice of an Error that followed the admin's own settings change: Udemy is not blamed
# alone ("nothing needs to change on your side" would send the admin away from the cause).
ADVICE_AFTER_A_CHANGE = {
    **ADVICE,
    Integration.ErrorKind.UNAVAILABLE: (
        "Udemy could not be reached or answered with server errors. The daily syncs go on and "
        "the first one that succeeds brings the integration back to Active. Once Udemy answers "
        "again, “Check again” on the integration page brings it back without waiting."
    ),
}
DEFAULT_ADVICE = (
    "Open the integration page and the sync history. The daily syncs go on; the first one that "
    "succeeds brings the integration back to Active."
)


# ------------------------------------------------------------------ what never leaves by e-mail


def redact(text: str, *, secrets: tuple[str, ...] = ()) -> str:
    """`text` without the secrets (verbatim, JSON-escaped, URL-quoted) and without the
    `user:password@` of any URL in it (the same rule as the log lines, `core.logs`)."""
    return redact_text(text, secrets=secrets)


def _quoted(text: str, limit: int) -> str:
    """A reason or error as an e-mail may quote it: it may carry an upstream's words (an error
    `detail` with line breaks and a sign-in link is phishing sent in our name), so one line,
    bounded, without links."""
    return upstream_excerpt(text or "", limit=limit, links=False)


def quote_upstream_text(values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "reason": _quoted(values.get("reason", ""), REASON_CHARS)}
    if values.get("run"):
        errors = [
            {
                **error,
                "external_id": _quoted(error.get("external_id", ""), 100),
                "message": _quoted(error.get("message", ""), ERROR_CHARS),
            }
            for error in values["run"].get("errors", [])
        ]
        values["run"] = {**values["run"], "errors": errors}
    return values


def subject_line(text: str) -> str:
    """One line, bounded: a line break in a header (a group's name) would fail every send."""
    return single_line(text, limit=SUBJECT_CHARS)


def secrets_of(integration: Integration) -> tuple[str, ...]:
    try:
        return (integration.client_secret,)
    except Exception:  # a key that no longer decrypts must not stop an alert
        return ()


# ------------------------------------------------------------------ an integration's alert


def link(name: str, **kwargs: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, kwargs=kwargs)


@dataclass(frozen=True)
class Message:
    """What an alert says, before it is redacted and rendered."""

    subject: str
    headline: str
    reason: str = ""
    advice: str = ""


def integration_message(
    integration: Integration, topic: str, state: str, run: SyncRun | None
) -> Message:
    """What the alert of an integration's new `state` on `topic` says (`run`: the run that
    changed it, if any)."""
    group = integration.group.name
    kind_label = {
        Topic.CONTENT: "content",
        Topic.STATS: "statistics",
        Topic.STALE_CONTENT: "content",
        Topic.STALE_STATS: "statistics",
    }.get(topic, "")
    hours = f"{settings.SYNC_STALE_AFTER_HOURS:g}"
    if topic == Topic.STATUS and state == "error":
        change = change_advice(integration=integration)
        advice = (ADVICE_AFTER_A_CHANGE if change else ADVICE).get(
            integration.error_kind, DEFAULT_ADVICE
        )
        return Message(
            f"Udemy integration of {group} is in Error",
            f"The Udemy integration of {group} is in Error: "
            f"{integration.get_error_kind_display()}.",
            integration.status_message,
            _after(change, advice),
        )
    if state == "failed" and run is not None:
        outcome = run.get_status_display().lower()
        return Message(
            f"Udemy {kind_label} sync of {group}: {outcome}",
            f"The {kind_label} sync #{run.pk} of {group} ended {outcome}.",
            run.error_summary,
            _after(
                change_advice(integration=integration),
                "The next syncs are not affected: they run as scheduled. Open the run for its "
                "errors.",
            ),
        )
    if state == "review" and run is not None:
        return Message(
            f"Udemy catalog of {group}: changes await your review",
            f"The content sync #{run.pk} of {group} held catalog changes for your decision.",
            " ".join(w.get("message", "") for w in run.warnings),
            "Open the integration's review page: archive or keep the courses no longer on "
            "Udemy, publish or discard the new ones. Nothing changes until you decide.",
        )
    if state == "stale":
        return Message(
            f"Udemy {kind_label} of {group}: no successful sync for {hours} hours",
            f"No {kind_label} sync of {group} has succeeded for more than {hours} hours: "
            "the data shown to learners and admins may be out of date.",
            integration.status_message,
            "Open the sync history to see what the last runs did; the schedule keeps trying.",
        )
    what = {
        Topic.STATUS: "The Udemy integration is Active again",
        Topic.CONTENT: "Content syncs succeed again",
        Topic.STATS: "Statistics syncs succeed again",
    }.get(topic, f"The {kind_label} data is up to date again")
    return Message(f"Udemy integration of {group}: recovered", f"{what} ({group}).")


def _after(change: str, advice: str) -> str:
    """The advice, after the sentence naming the admin's change the failures followed."""
    return f"{change} {advice}" if change else advice


def _latest_run(integration: Integration, topic: str) -> SyncRun | None:
    runs = SyncRun.objects.filter(integration=integration).exclude(status=SyncRun.Status.SKIPPED)
    if topic in (SyncRun.Kind.CONTENT, SyncRun.Kind.STATS):
        runs = runs.filter(kind=topic)
    return runs.order_by("-created_at", "-id").first()


def integration_context(
    integration: Integration, topic: str, state: str, run: SyncRun | None
) -> dict[str, Any]:
    """The templates' context of an integration's alert, redacted (an error or a failure
    without its run names the latest one)."""
    secrets = secrets_of(integration)
    message = integration_message(integration, topic, state, run)
    if run is None and state in ("error", "failed"):
        run = _latest_run(integration, topic)
    slug = integration.group.slug
    context: dict[str, Any] = {
        "headline": message.headline,
        "reason": redact(message.reason, secrets=secrets),
        "advice": message.advice,
        "state": state,
        "group_name": integration.group.name,
        "status": integration.get_status_display(),
        "integration_url": link("integrations:provider", slug=slug, provider=integration.provider),
        "history_url": link("integrations:history", slug=slug),
        "last_content_sync": integration.last_content_sync,
        "last_stats_sync": integration.last_stats_sync,
        "run": None,
    }
    if run is not None:
        errors = [
            {
                "category": error.category,
                "external_id": redact(error.external_id, secrets=secrets),
                "message": redact(error.message, secrets=secrets),
            }
            for error in run.errors.all()[:FIRST_ERRORS]
        ]
        context["run"] = {
            "id": run.pk,
            "kind": run.get_kind_display(),
            "status": run.status_label,
            "url": link("integrations:run", slug=slug, run_id=run.pk),
            "finished_at": run.finished_at,
            "counts": [
                (label, getattr(run, field))
                for label, field in (
                    ("Fetched", "fetched"),
                    ("Created", "created"),
                    ("Updated", "updated"),
                    ("Unchanged", "unchanged"),
                    ("Failed items", "failed"),
                    ("Archived", "archived"),
                )
            ],
            "errors": errors,
            "error_count": run.errors.count(),
        }
    return context


# ------------------------------------------------------------------ a platform connection's alert


def platform_message(connection: PlatformConnection, state: str, run: PlatformRun) -> Message:
    """The alert of a learning-platform connection's weekly API budget: spent, or renewed."""
    platform, group = connection.get_kind_display(), connection.group
    if state == "spent":
        return Message(
            f"{platform} connection of {group.name}: weekly API budget used up",
            f"{platform} stopped answering this week: its weekly API budget is nearly used up.",
            reason=run.error_summary,
            advice=(
                f"Nothing is lost: what was sent stays sent, and the daily runs go on from there "
                f"once {platform} renews the week (they stop again at once, without retrying, "
                f"until it does). To get through sooner, ask {platform} support for a larger "
                f"weekly limit, or turn off pushes you don't need."
            ),
        )
    return Message(
        f"{platform} connection of {group.name}: recovered",
        f"The weekly API budget renewed: runs of the {platform} connection get through again.",
    )


def platform_secrets(connection: PlatformConnection) -> tuple[str, ...]:
    """What a platform connection's alert must never show: its credentials."""
    return tuple(
        value for value in (connection.learnupon_password, connection.coursebase_token) if value
    )


def platform_context(
    connection: PlatformConnection, state: str, run: PlatformRun, message: Message
) -> dict[str, Any]:
    """The templates' context of a platform connection's alert."""
    platform, group = connection.get_kind_display(), connection.group
    slug = group.slug
    return {
        "headline": message.headline,
        "reason": message.reason,
        "advice": message.advice,
        "state": state,
        "group_name": group.name,
        "owner_label": f"{platform} connection",
        "history_label": "Runs",
        "status": connection.get_status_display(),
        "integration_url": link("platforms:connection", slug=slug),
        "history_url": link("platforms:runs", slug=slug),
        "run": {
            "id": run.pk,
            "kind": run.get_kind_display(),
            "status": run.status_label,
            "url": link("platforms:run", slug=slug, run_id=run.pk),
            "finished_at": run.finished_at,
            "counts": [],
            "errors": [],
            "error_count": 0,
        },
    }
