"""`LearnUponConnector`: a `PlatformConnection` of kind "learnupon", its client and the engines
(directory import, and the push of the catalog and the completions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrations.core.kinds import Capability
from integrations.models import PlatformConnection, PlatformRun

from ..base import CredentialCheck
from ..connector_common import ClientConnector
from ..ledger import PushJob
from . import mapping
from .client import LearnUponClient, LearnUponCredentials, build_base_url
from .consent import EnrollmentEstimate, courses_linked_when_done, waiting_record
from .push_completions import push_completions
from .push_courses import links_made, mark_unlink, push_courses


class LearnUponConnector(ClientConnector):
    key = "learnupon"
    label = "LearnUpon"
    capabilities = frozenset({Capability.DIRECTORY, Capability.PUSH})
    settings_fields = (
        "learnupon_portal",
        "learnupon_username",
        "learnupon_password",
        "learnupon_owner_id",
        "target_group_id",
        "learnupon_cataloged",
        "push_after_sync",
    )

    client_class = LearnUponClient
    credentials_class = LearnUponCredentials  # columns learnupon_portal, _username, _password
    host_field = "learnupon_portal"
    mapping = mapping
    build_base_url = staticmethod(build_base_url)

    def client_check(
        self, client: LearnUponClient, connection: PlatformConnection
    ) -> CredentialCheck:
        """The keys, the course owner and the target group."""
        return client.check_connection(
            owner_id=connection.learnupon_owner_id, group_id=connection.target_group_id
        )

    def push_problem(self, connection: PlatformConnection) -> str:
        if not connection.learnupon_owner_id:
            return "Set the course owner id (a LearnUpon admin or instructor) before pushing."
        if connection.learnupon_cataloged is None:
            return (
                "Choose whether pushed courses are listed in the portal catalog (seen by every "
                "user of the portal) before pushing."
            )
        return ""

    def push_run(
        self,
        *,
        run: PlatformRun,
        connection: PlatformConnection,
        client: LearnUponClient | None,
        dry_run: bool,
        on_item: Callable[[], None] | None = None,
        counts: dict[str, dict[str, int]] | None = None,
        resumed_since: datetime | None = None,
    ) -> dict[str, Any]:
        """Catalog first (completions need their course), then completions; dry: no request.
        `counts` holds each stream's counts so far, also when the push stops half-way (its
        slice used); `resumed_since`: the run's start, when this goes on from there.

        Links beyond the confirmed number of enrollments wait (`consent`): the result's
        `waiting` says so, and a real push keeps it on the connection for the page and the
        API."""
        job = PushJob(
            run=run, connection=connection, client=client, dry_run=dry_run, on_item=on_item,
            counts=counts if counts is not None else {}, resumed_since=resumed_since,
        )  # fmt: skip
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

    links_made = staticmethod(links_made)
    mark_unlink = staticmethod(mark_unlink)

    def enrollment_estimate(
        self, connection: PlatformConnection, client: LearnUponClient | None = None
    ) -> EnrollmentEstimate:
        """Dry run of auto-enrollment: the courses linked once a push has run (every active
        course) × the target group's members (one paged read of `GET /group_memberships`;
        nothing is written). Its `enrollments` is the number an admin confirms."""
        courses = courses_linked_when_done(connection=connection)
        if not connection.target_group_id:
            return EnrollmentEstimate(courses=courses, members=0)
        client = client or self.make_client(connection)
        with client.within_a_web_request():
            members = client.count_group_members(connection.target_group_id)
        return EnrollmentEstimate(courses=courses, members=members)
