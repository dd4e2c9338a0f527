"""Directory import, step 2: the platform's users → learners (matched by e-mail,
case-insensitively), page by page, each page in one transaction with a bounded number of
queries. Names are taken when the platform has them; a disabled account is inactive."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from catalog.models import Learner
from integrations.core.runs import run_add_counts
from integrations.models import PlatformConnection, PlatformDirectoryLink, PlatformRun

from ..base import DirectorySource, RemoteUser
from ..runs import run_set_details
from .common import Link, OnPage, Tally, Territory, links_by_remote_id, mapped

logger = logging.getLogger(__name__)


@dataclass
class UserPage:
    """The writes one page of users needs (all applied in one transaction)."""

    new_learners: list[tuple[Learner, str]] = field(default_factory=list)
    learners: dict[int, tuple[Learner, set[str]]] = field(default_factory=dict)
    links: list[PlatformDirectoryLink] = field(default_factory=list)
    new_links: list[PlatformDirectoryLink] = field(default_factory=list)

    def change(self, learner: Learner, name: str) -> None:
        self.learners.setdefault(learner.pk, (learner, set()))[1].add(name)


def import_users(
    *,
    run: PlatformRun,
    territory: Territory,
    source: DirectorySource,
    on_page: OnPage,
) -> dict[str, str]:
    """Upsert learners page by page; returns the remote ids seen (the scan was complete), each
    with the user's platform-wide role."""
    connection = territory.connection
    links = links_by_remote_id(connection, Link.ItemType.USER, "learner")
    seen: dict[str, str] = {}
    tally = Tally()
    for items in source.users():
        records = _dedupe(mapped(run, items, source.map_user), seen)
        page = _plan_users(territory, records, links, tally)
        with transaction.atomic():
            _apply_users(connection, page, links)
        run_add_counts(
            run=run,
            fetched=len(items),
            created=len(page.new_learners),
            updated=len(page.learners),
        )
        tally.add("fetched", len(items))
        if on_page:
            on_page()
    run_set_details(run=run, stream="users", **tally.counts)
    run_add_counts(run=run, unchanged=tally.counts.get("unchanged", 0))
    return seen


def _dedupe(records: list[RemoteUser], seen: dict[str, str]) -> list[RemoteUser]:
    """Drop repeats (a user on two pages, two users with one e-mail: the first one wins)."""
    kept, emails = [], set()
    for record in records:
        if record.remote_id in seen or record.email in emails:
            continue
        seen[record.remote_id] = record.role
        emails.add(record.email)
        kept.append(record)
    return kept


def _plan_users(
    territory: Territory,
    records: list[RemoteUser],
    links: dict[str, PlatformDirectoryLink],
    tally: Tally,
) -> UserPage:
    connection = territory.connection
    unlinked = {r.email for r in records if r.remote_id not in links}
    by_email = {
        learner.email_lower: learner
        for learner in Learner.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=unlinked
        )
    }
    matches = [
        links[r.remote_id].learner if r.remote_id in links else by_email.get(r.email)
        for r in records
    ]
    foreign = territory.foreign(learner.pk for learner in matches if learner is not None)
    page = UserPage()
    for record, learner in zip(records, matches, strict=True):
        link = links.get(record.remote_id)
        if learner is not None and learner.pk in foreign:
            _conflict(connection, record, learner, tally)
            continue
        if learner is None:
            learner = Learner(
                email=record.email,
                first_name=record.first_name,
                last_name=record.last_name,
                is_active=record.active,
                remote_kind=connection.kind,
                remote_id=record.remote_id,
            )
            page.new_learners.append((learner, record.remote_id))
            tally.add("created")
            continue
        if link is None:
            page.new_links.append(_user_link(connection, record.remote_id, learner))
            link = page.new_links[-1]
        before = len(page.learners.get(learner.pk, (None, ()))[1])
        _diff_learner(connection, learner, link, record, page)
        changed = len(page.learners.get(learner.pk, (None, ()))[1]) > before
        tally.add("updated" if changed else "unchanged")
    return page


def _conflict(
    connection: PlatformConnection, record: RemoteUser, learner: Learner, tally: Tally
) -> None:
    """Another tenant's learner: counted on the run (not named: the group's admin must not learn
    who exists elsewhere), logged for the operators, never touched."""
    tally.add("conflicts")
    logger.warning(
        "directory import of connection %s: platform user %s has the e-mail of learner %s, "
        "who belongs to another group: conflict, not imported",
        connection.pk,
        record.remote_id,
        learner.pk,
    )


def _user_link(connection: PlatformConnection, remote_id: str, learner: Learner) -> Link:
    return Link(
        connection=connection, item_type=Link.ItemType.USER, remote_id=remote_id, learner=learner
    )


def _diff_learner(
    connection: PlatformConnection,
    learner: Learner,
    link: PlatformDirectoryLink,
    record: RemoteUser,
    page: UserPage,
) -> None:
    """Record the fields to change; names only when the platform has them (Coursebase's list
    carries none), the remote link only when the learner has none yet."""
    for name in ("first_name", "last_name"):
        value = getattr(record, name)
        if value and getattr(learner, name) != value:
            setattr(learner, name, value)
            page.change(learner, name)
    if not learner.remote_kind and not learner.remote_id:
        learner.remote_kind, learner.remote_id = connection.kind, record.remote_id
        page.change(learner, "remote_kind")
        page.change(learner, "remote_id")
    # `present` False means this import deactivated the learner: only then may it reactivate.
    if not record.active and learner.is_active:
        learner.is_active = False
        page.change(learner, "is_active")
    elif record.active and not link.present and not learner.is_active:
        learner.is_active = True
        page.change(learner, "is_active")
    if link.present != record.active:
        link.present = record.active
        if link.pk:
            page.links.append(link)


def _apply_users(
    connection: PlatformConnection, page: UserPage, links: dict[str, PlatformDirectoryLink]
) -> None:
    if page.new_learners:
        created = Learner.objects.bulk_create([learner for learner, _ in page.new_learners])
        for learner, (_, remote_id) in zip(created, page.new_learners, strict=True):
            link = _user_link(connection, remote_id, learner)
            link.present = learner.is_active
            page.new_links.append(link)
    by_fields: dict[tuple[str, ...], list[Learner]] = {}
    for learner, names in page.learners.values():
        by_fields.setdefault(tuple(sorted(names)), []).append(learner)
    for names, learners in by_fields.items():
        Learner.objects.bulk_update(learners, list(names))
    if page.new_links:
        for link in Link.objects.bulk_create(page.new_links):
            links[link.remote_id] = link
    if page.links:
        Link.objects.bulk_update(page.links, ["present"])
