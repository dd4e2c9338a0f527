"""Glue between a `PlatformConnection` of kind "learnupon", its client and the engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.models import PlatformConnection, PlatformRun

from ..base import CredentialCheck, DirectorySource
from ..connector_common import check_with_client, client_directory_source, host_problem
from ..ledger import PushJob
from . import mapping
from .client import LearnUponClient, LearnUponCredentials, build_base_url
from .consent import EnrollmentEstimate, courses_linked_when_done, waiting_record
from .push_completions import push_completions
from .push_courses import links_made as links_made
from .push_courses import mark_unlink as mark_unlink
from .push_courses import push_courses


def credentials_for(connection: PlatformConnection) -> LearnUponCredentials:
    return LearnUponCredentials(
        portal=connection.learnupon_portal,
        username=connection.learnupon_username,
        password=connection.learnupon_password,
        base_url=connection.base_url,
    )


def make_client(connection: PlatformConnection, **options: Any) -> LearnUponClient:
    """A client of the connection's portal (raises `PlatformConfigError` for a bad host)."""
    return LearnUponClient(credentials_for(connection), **options)


def check_connection(connection: PlatformConnection) -> CredentialCheck:
    """Test connection: the keys, the course owner and the target group; never raises."""
    owner_id, group_id = connection.learnupon_owner_id, connection.target_group_id
    return check_with_client(
        connection,
        make_client,
        lambda client: client.check_connection(owner_id=owner_id, group_id=group_id),
    )


def directory_source(connection: PlatformConnection, client: LearnUponClient) -> DirectorySource:
    return client_directory_source(client, mapping)


def push_problem(connection: PlatformConnection) -> str:
    """Why a push can't run with these settings ('' when it can)."""
    if not connection.learnupon_owner_id:
        return "Set the course owner id (a LearnUpon admin or instructor) before pushing."
    if connection.learnupon_cataloged is None:
        return (
            "Choose whether pushed courses are listed in the portal catalog (seen by every "
            "user of the portal) before pushing."
        )
    return ""


def push(
    *,
    run: PlatformRun,
    connection: PlatformConnection,
    client: LearnUponClient | None,
    dry_run: bool,
    on_item: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Catalog first (completions need their course), then completions; dry: no request.

    Links beyond the confirmed number of enrollments wait (`consent`): the result's `waiting`
    says so, and a real push keeps it on the connection for the page and the API."""
    job = PushJob(run=run, connection=connection, client=client, dry_run=dry_run, on_item=on_item)
    courses, decision = push_courses(job)
    if not dry_run:
        waiting_record(connection=connection, decision=decision)
    completions = push_completions(job)
    return {
        "courses": courses,
        "completions": completions,
        "plan": job.plan,
        "waiting": decision.waiting.get("message", ""),
    }


def enrollment_estimate(
    connection: PlatformConnection, client: LearnUponClient | None = None
) -> EnrollmentEstimate:
    """Dry run of auto-enrollment: the courses linked once a push has run (every active
    course) × the target group's members (one paged read of `GET /group_memberships`;
    nothing is written). Its `enrollments` is the number an admin confirms."""
    courses = courses_linked_when_done(connection=connection)
    if not connection.target_group_id:
        return EnrollmentEstimate(courses=courses, members=0)
    client = client or make_client(connection)
    with client.within_a_web_request():
        members = client.count_group_members(connection.target_group_id)
    return EnrollmentEstimate(courses=courses, members=members)


def config_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when the portal or base URL would be refused by the client."""
    credentials = LearnUponCredentials(
        portal=values.get("learnupon_portal", ""),
        username="",
        password="",
        base_url=values.get("base_url", ""),
    )
    return host_problem(build_base_url, credentials, host_field="learnupon_portal")
