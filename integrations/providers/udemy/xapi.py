"""Udemy Business's xAPI statements, read into records (pure: no I/O, no database).

Udemy Business pushes a *progress* and a *completion* statement per learner and course or
learning path (Udemy Business help "Learning Management System Integration: xAPI" and
"… xAPI Statements"). The specification is xAPI 1.0.3; what Udemy puts in the object id and
the result is not published, so this reads what the specification and cmi5 define:
- verbs: ADL's `progressed` and `completed`; any other verb is refused;
- progress: cmi5's `…/result/extensions/progress` (0–100), else `result.score.scaled` (0–1);
- completion: the `completed` verb, or `result.completion: true`;
- the actor: `mbox` (`mailto:` e-mail) or `account` (its `name`, the `lmsUserId` of SSO);
- `timestamp`: when the learner did it (absent: when we received it).
The object id is kept as sent and matched to a synced item by `object_keys`.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson

VERB_PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERBS = {VERB_PROGRESSED: "progressed", VERB_COMPLETED: "completed"}
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
PATH_PREFIX = "path-"


class StatementError(ValueError):
    """A statement this door can't accept: the message says what is wrong (answered as 400)."""


@dataclass(frozen=True)
class XapiRecord:
    statement_id: str
    email: str  # lower-case, "" when the actor is an account
    account: str  # the account's name, "" when the actor is an mbox
    object_id: str
    verb: str  # "progressed" or "completed"
    progress: float | None  # 0–100
    completed: bool
    timestamp: datetime


def statement_digest(statement: dict[str, Any]) -> str:
    """SHA-256 of the statement's canonical JSON (sorted keys): the same id with another
    digest is a conflict (xAPI 1.0.3: 409)."""
    return hashlib.sha256(orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)).hexdigest()


def statement_id_of(statement: Any, *, given: str | None = None) -> str:
    """The statement's id (a UUID, as lower-case text). `given`: the `statementId` of a PUT,
    which must agree with an id in the body. A statement without id gets a new one."""
    if not isinstance(statement, dict):
        raise StatementError("A statement must be a JSON object.")
    own = statement.get("id")
    if own is not None and not isinstance(own, str):
        raise StatementError("'id' must be a UUID string.")
    ids = {_uuid(value, "id") for value in (own, given) if value is not None}
    if len(ids) > 1:
        raise StatementError("'statementId' and the statement's 'id' differ.")
    return ids.pop() if ids else str(uuid.uuid4())


def statement_read(statement: Any, *, received: datetime) -> XapiRecord:
    """The record of a statement, or `StatementError` saying what is missing or wrong."""
    if not isinstance(statement, dict):
        raise StatementError("A statement must be a JSON object.")
    statement_id = statement_id_of(statement)
    email, account = _actor(statement.get("actor"))
    verb = _verb(statement.get("verb"))
    object_id = _object(statement.get("object"))
    progress, completion = _result(statement.get("result"))
    completed = verb == "completed" or completion
    return XapiRecord(
        statement_id=statement_id,
        email=email,
        account=account,
        object_id=object_id,
        verb=verb,
        progress=100.0 if completed else progress,
        completed=completed,
        timestamp=_timestamp(statement.get("timestamp"), received),
    )


@lru_cache(maxsize=4096)  # a batch names a few items many times: each id is read once
def object_keys(object_id: str) -> tuple[tuple[str, str], ...]:
    """What an object id may be matched with: ("url", normalized URL) for a URL,
    ("course", id) for a number, ("learning_path", id) for "path-<id>"."""
    value = object_id.strip()
    if value.isdigit():
        return (("course", value),)
    if value.startswith(PATH_PREFIX) and value.removeprefix(PATH_PREFIX).isdigit():
        return (("learning_path", value.removeprefix(PATH_PREFIX)),)
    url = url_key(value)
    return (("url", url),) if url else ()


def url_key(url: str) -> str:
    """A URL compared without its scheme, query, fragment, trailing slash or case of host
    ("https://Acme.udemy.com/course/x/?a=1" → "acme.udemy.com/course/x"); "" if not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.hostname.lower()}{parts.path.rstrip('/')}"


def _uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise StatementError(f"'{name}' must be a UUID, got {value[:60]!r}.") from None


def _actor(actor: Any) -> tuple[str, str]:
    if not isinstance(actor, dict):
        raise StatementError("'actor' is missing (an object with 'mbox' or 'account').")
    mbox, account = actor.get("mbox"), actor.get("account")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:") and "@" in mbox:
        return mbox[len("mailto:") :].strip().lower(), ""
    if isinstance(account, dict) and isinstance(account.get("name"), str) and account["name"]:
        return "", account["name"].strip()
    raise StatementError("'actor' needs an 'mbox' (mailto:e-mail) or an 'account' with a 'name'.")


def _verb(verb: Any) -> str:
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    if not isinstance(verb_id, str):
        raise StatementError("'verb' is missing (an object with an 'id').")
    if verb_id not in VERBS:
        raise StatementError(
            f"Unknown verb {verb_id[:100]!r}: only {VERB_PROGRESSED} and {VERB_COMPLETED}."
        )
    return VERBS[verb_id]


def _object(obj: Any) -> str:
    object_id = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(object_id, str) or not object_id.strip():
        raise StatementError("'object' is missing (an activity with an 'id').")
    if len(object_id) > 1000:
        raise StatementError("'object.id' is longer than 1000 characters.")
    return object_id.strip()


def _result(result: Any) -> tuple[float | None, bool]:
    if result is None:
        return None, False
    if not isinstance(result, dict):
        raise StatementError("'result' must be an object.")
    completion = result.get("completion", False)
    if not isinstance(completion, bool):
        raise StatementError("'result.completion' must be true or false.")
    extensions = result.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise StatementError("'result.extensions' must be an object.")
    if CMI5_PROGRESS in extensions:
        return _number(extensions[CMI5_PROGRESS], CMI5_PROGRESS, 0, 100), completion
    score = result.get("score")
    if isinstance(score, dict) and "scaled" in score:
        return _number(score["scaled"], "result.score.scaled", 0, 1) * 100, completion
    return None, completion


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise StatementError(f"'{name}' must be a number from {low} to {high}.")
    return float(value)


def _timestamp(value: Any, received: datetime) -> datetime:
    if value is None:
        return received
    if not isinstance(value, str):
        raise StatementError("'timestamp' must be an ISO 8601 date-time.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise StatementError(f"'timestamp' is not an ISO 8601 date-time: {value[:40]!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
