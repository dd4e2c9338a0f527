"""Statements received from Udemy Business, stored before the answer (durable first).

xAPI 1.0.3, Statements resource: a POST carries one statement or an array and is answered with
their ids; a statement without id gets one; a PUT names its id in `statementId`. The same id
sent again with the same content is accepted and changes nothing; with other content it is a
conflict (409). A batch is all or nothing: one invalid statement refuses the whole request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration, XapiClient, XapiStatement
from integrations.providers.udemy.xapi import (
    StatementError,
    statement_digest,
    statement_id_of,
    statement_read,
)

logger = logging.getLogger(__name__)


class StatementConflict(Exception):
    """A statement id already stored with other content (xAPI 1.0.3: 409 Conflict)."""


def xapi_rate_allows(*, client_key: str) -> bool:
    """One more request of this client in the last minute (`XAPI_RATE_PER_MINUTE`), counted in
    Django's cache as a sliding window: this minute's count plus the previous minute's, weighted
    by how much of it still lies in the last 60 s. A fixed window would let twice the rate
    through across a minute boundary (and start afresh in the middle of a burst)."""
    now = timezone.now().timestamp()
    window, elapsed = divmod(now, 60)
    key = f"xapi-rate:{client_key}:{int(window)}"
    try:
        cache.add(key, 0, timeout=180)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=180)
            count = 1
        previous = cache.get(f"xapi-rate:{client_key}:{int(window) - 1}") or 0
    except Exception:  # the cache is down: statements are still taken (stored, bounded in size)
        logger.warning("xAPI rate not checked: the cache did not answer", exc_info=True)
        return True
    return count + previous * (1 - elapsed / 60) <= settings.XAPI_RATE_PER_MINUTE


def xapi_statements_store(
    *, integration: Integration, body: Any, statement_id: str | None = None
) -> list[str]:
    """Check and store the statements of a request; their ids, in order. Raises
    `StatementError` (400) or `StatementConflict` (409); nothing is stored then."""
    statements = _as_list(body, single=statement_id is not None)
    now = timezone.now()
    rows: dict[str, dict[str, Any]] = {}
    order = []
    for statement in statements:
        sid = statement_id_of(statement, given=statement_id)
        statement = {**statement, "id": sid}
        statement_read(statement, received=now)  # refuses what could never be applied
        digest = statement_digest(statement)
        if sid in rows and rows[sid]["digest"] != digest:
            raise StatementError(f"Two different statements have the id {sid}.")
        rows[sid] = {"raw": statement, "digest": digest}
        order.append(sid)
    with transaction.atomic():
        XapiStatement.objects.bulk_create(
            [
                XapiStatement(integration=integration, statement_id=sid, **row)
                for sid, row in rows.items()
            ],
            ignore_conflicts=True,
        )
        stored = XapiStatement.objects.filter(
            integration=integration, statement_id__in=list(rows)
        ).values_list("statement_id", "digest")
        for sid, digest in stored:
            if rows[str(sid)]["digest"] != digest:
                raise StatementConflict(f"Statement {sid} was received before with other content.")
        XapiClient.objects.filter(integration=integration).update(last_statement_at=now)
    return order


def _as_list(body: Any, *, single: bool) -> list[Any]:
    if single:
        if not isinstance(body, dict):
            raise StatementError("A PUT carries one statement (a JSON object).")
        return [body]
    statements = body if isinstance(body, list) else [body]
    if not statements:
        raise StatementError("The array holds no statement.")
    if len(statements) > settings.XAPI_MAX_STATEMENTS:
        raise StatementError(f"At most {settings.XAPI_MAX_STATEMENTS} statements per request.")
    return statements
