"""Which learners a statistics report may match: those who can see the integration's catalog.

A Udemy organization's report names whoever used it, and e-mails are unique site-wide: matched
against every learner, a report would write attempts for other tenants' people on this group's
courses and show their e-mails to this group's admin. So a row is matched only to a learner of
the integration's *audience*, the groups whose learners see its catalog (360Learning: "learners
in public subgroups can access the content in the catalog of the target group"; "If you choose
the platform group, all users ... can see the content") — the rule the learner catalog applies,
`catalog_audience_group_ids`. A row naming a learner outside it is unmatched, counted apart as
"outside this group" (`OUTSIDE`), and nothing of it is stored.

Set-based: the learners of a page's e-mails are read as before (`stats_lookup.RememberedIds`),
then which of them belong to the audience, in one statement for all the ids not known yet, or
none once the audience's learners are all remembered.
"""

from __future__ import annotations

from catalog.models import Membership
from catalog.selectors import catalog_audience_group_ids
from integrations.core.bulk_reads import select_where
from integrations.models import Integration

# The id a lookup gives a learner of the site outside the audience: matched to no one.
OUTSIDE = 0

Audience = frozenset[int] | None  # group ids; None: every learner (the platform group)


def audience_of(integration: Integration) -> Audience:
    """The groups whose learners a report of `integration` may match (None: all)."""
    ids = catalog_audience_group_ids(group=integration.group)
    return None if ids is None else frozenset(ids)


def members_of(audience: frozenset[int], learner_ids: set[int]) -> dict[int, int]:
    """Which of `learner_ids` belong to a group of `audience`: {id: id} (one statement)."""
    if not learner_ids:
        return {}
    rows = select_where(
        Membership, ("learner_id",), any_of={"learner_id": learner_ids, "group_id": audience}
    )
    return {pk: pk for (pk,) in rows}


def all_members(audience: frozenset[int], limit: int) -> dict[int, int] | None:
    """Every learner of `audience` as `members_of` gives them, when there are at most `limit`,
    else None (one statement)."""
    ids = set(
        Membership.objects.filter(group_id__in=audience)
        .order_by()
        .values_list("learner_id", flat=True)
        .distinct()[: limit + 1]
    )
    return {pk: pk for pk in ids} if len(ids) <= limit else None


def scoped(found: dict[str, int], inside: dict[int, int] | None) -> dict[str, int]:
    """`found` ({e-mail: learner id}) with `OUTSIDE` for the learners not `inside` the
    audience (None: everyone is)."""
    if inside is None:
        return found
    return {email: (pk if pk in inside else OUTSIDE) for email, pk in found.items()}


def matched_only(found: dict[str, int]) -> tuple[dict[str, int], set[str]]:
    """A lookup's answer split: the learners matched, and the e-mails outside the audience."""
    matched = {email: pk for email, pk in found.items() if pk != OUTSIDE}
    return matched, {email for email, pk in found.items() if pk == OUTSIDE}
