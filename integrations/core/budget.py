"""An upstream account's request budget, shared by every sync of it on every worker.

Udemy rate-limits per organization, not per process: two syncs of one organization (a content
sync running late into the statistics sync, a manual run, a second worker) each fetching K pages
at once would double the load the organization sees. So the requests in flight are counted per
account in one place every worker reads:

- `RedisBudget` when Redis is configured (the broker of a production deployment): one hash per
  account, read and changed by one Lua script, atomic whatever the number of workers;
- `DatabaseBudget` on the embedded default (no Redis): one row per account, changed under the
  row's write lock (a conditional UPDATE first, so SQLite takes its write lock at once too).

A scan holds a `BudgetShare`: before its first request it claims at least one slot (waiting up
to the client's `retry_after_cap`, then rescheduling the run with the side's `RetryLater`
instead of blocking a worker), then, every `REFRESH_EVERY` pages, claims what its adaptive
concurrency wants; what it gets caps the requests it has in flight. A 429's `Retry-After` met by
any holder is published with the claim and honoured by all of them. All of this goes through
the client's throttle (`core.throttle.Throttle`: `wanted`, `cap`, `on_the_wire`, the pause).
Slots expire `SLOT_TTL` seconds after their last claim, so a killed worker's slots lapse; a
holder that ran on this host in a process that no longer exists is dropped at once
(`core.lease.holder_is_dead`).

A published pause lasts at most `netutil.shared_pause_cap()` (`UPSTREAM_MAX_SHARED_PAUSE`, never
more than `RUN_MAX_WAIT`): one absurd `Retry-After` must not stop every sync of the account for
years. The bound is applied where a pause is written (claim, release: the Lua scripts too) and
where it is read (a row or hash stored before the bound existed reads as clamped, and is
rewritten so), so a shared pause always expires by itself.

Claims are in epoch seconds: the hosts of a deployment are assumed to keep their clocks in sync
(NTP); a skew shortens or lengthens a pause by as much, never the slot count.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models, transaction

from .lease import _host, holder_is_dead
from .netutil import shared_pause_cap

logger = logging.getLogger(__name__)

SLOT_TTL = 300.0  # seconds a claim lasts without being refreshed
REFRESH_EVERY = 10  # pages between two claims of a scan (one claim: 1-3 statements or one call)
POLL_SECONDS = 1.0  # between two claims of a scan waiting for its first slot


@dataclass(frozen=True)
class Grant:
    slots: int  # requests this holder may have in flight (0: none yet)
    pause_until: float  # epoch seconds: no request of the account before then
    holders: tuple[str, ...] = ()  # every live holder, this one included (to drop dead ones)


class SharedBudget(Protocol):
    key: str
    limit: int

    def claim(self, holder: str, want: int, pause_until: float, held: int = 0) -> Grant: ...

    def release(self, holder: str, pause_until: float) -> None: ...

    def drop(self, holders: list[str]) -> None: ...


def _settle(
    slots: dict[str, Any], *, holder: str, want: int, limit: int, now: float, held: int = 0
) -> tuple[dict[str, list], int]:
    """The slots once expired claims are gone and `holder` got what fits: (slots, granted).

    A holder granted nothing stays listed with 0 slots (it waits); while anyone waits, a claim
    gets at most an even share of the limit, so a long sync makes room for a second one at its
    next claim instead of holding everything to its end. A holder granted fewer slots than the
    `held` requests it has on the wire keeps `held` listed until its next claim: those requests
    end on their own, and a waiting holder must not start beside them (the limit would be
    exceeded until they do).
    """
    live = {h: v for h, v in slots.items() if isinstance(v, list) and len(v) == 2 and v[1] >= now}
    live.pop(holder, None)
    others = sum(int(v[0]) for v in live.values())
    waiting = any(int(v[0]) == 0 for v in live.values())
    granted = max(0, min(int(want), limit - others))
    if waiting:
        granted = min(granted, max(1, limit // (len(live) + 1)))
    live[holder] = [max(granted, int(held)), now + SLOT_TTL]
    return live, granted


def _bounded_pause(stored: float, published: float, now: float) -> float:
    """The account's pause once `published` is added: the later of both, at most the cap."""
    return min(max(float(stored), float(published)), now + shared_pause_cap())


class DatabaseBudget:
    """One row of `model` (`UpstreamBudget`: key, pause_until, slots) per account."""

    def __init__(self, model: type[models.Model], key: str, limit: int) -> None:
        self.model, self.key, self.limit = model, key, limit

    def claim(self, holder: str, want: int, pause_until: float, held: int = 0) -> Grant:
        with transaction.atomic():
            row, now = self._locked(), time.time()
            row.slots, granted = _settle(
                row.slots, holder=holder, want=want, limit=self.limit, now=now, held=held
            )
            row.pause_until = _bounded_pause(row.pause_until, pause_until, now)
            row.save(update_fields=["slots", "pause_until", "updated_at"])
        return Grant(granted, row.pause_until, tuple(row.slots))

    def release(self, holder: str, pause_until: float) -> None:
        with transaction.atomic():
            row = self._locked()
            row.slots.pop(holder, None)
            row.pause_until = _bounded_pause(row.pause_until, pause_until, time.time())
            row.save(update_fields=["slots", "pause_until", "updated_at"])

    def drop(self, holders: list[str]) -> None:
        with transaction.atomic():
            row = self._locked()
            for holder in holders:
                row.slots.pop(holder, None)
            row.save(update_fields=["slots", "updated_at"])

    def _locked(self) -> Any:
        # The UPDATE takes the write lock before the read (PostgreSQL: the row's; SQLite: the
        # database's, which a SELECT first would only upgrade to later, and could deadlock).
        rows = self.model.objects.filter(key=self.key)
        if not rows.update(key=self.key):
            self.model.objects.bulk_create([self.model(key=self.key)], ignore_conflicts=True)
            rows.update(key=self.key)
        return rows.get()


# KEYS[1]: the account's hash (field per holder: "slots:expiry"; field "_pause": epoch).
# ARGV: now, holder, want, limit, expiry, pause_until, ttl, held, longest pause. Returns
# {granted, pause, holders...}.
# The same rule as `_settle`; the pause as `_bounded_pause` (a stored one too far ahead is
# rewritten clamped).
_CLAIM = """
local now, holder = tonumber(ARGV[1]), ARGV[2]
local want, limit, expiry = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local others, waiting, count, holders = 0, false, 0, {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if name ~= '_pause' and name ~= holder then
    local sep = string.find(value, ':', 1, true)
    local n, until_ = tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
    if until_ < now then
      redis.call('HDEL', KEYS[1], name)
    else
      others = others + n
      count = count + 1
      if n == 0 then waiting = true end
      table.insert(holders, name)
    end
  end
end
local granted = math.max(0, math.min(want, limit - others))
if waiting then granted = math.min(granted, math.max(1, math.floor(limit / (count + 1)))) end
redis.call('HSET', KEYS[1], holder, math.max(granted, tonumber(ARGV[8])) .. ':' .. expiry)
table.insert(holders, holder)
local stored = tonumber(redis.call('HGET', KEYS[1], '_pause') or '0')
local pause = math.min(math.max(stored, tonumber(ARGV[6])), now + tonumber(ARGV[9]))
if pause ~= stored then redis.call('HSET', KEYS[1], '_pause', tostring(pause)) end
-- Kept while a claim may live and while the pause lasts, whichever is longer.
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[7]), math.ceil(pause - now)))
return {granted, tostring(pause), unpack(holders)}
"""

# KEYS[1]: the hash; ARGV[1]: now; ARGV[2]: pause_until; ARGV[3]: ttl; ARGV[4]: longest
# pause; ARGV[5..]: holders to remove.
_RELEASE = """
for i = 5, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
local now = tonumber(ARGV[1])
local stored = tonumber(redis.call('HGET', KEYS[1], '_pause') or '0')
local pause = math.min(math.max(stored, tonumber(ARGV[2])), now + tonumber(ARGV[4]))
if pause ~= stored then redis.call('HSET', KEYS[1], '_pause', tostring(pause)) end
if redis.call('EXISTS', KEYS[1]) == 1 then
  local left = math.ceil(pause - now)
  redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[3]), left))
end
return 1
"""

REDIS_PREFIX = "lmsbridge:budget:"  # + the account's key: one hash per account
_redis_clients: dict[str, Any] = {}
_redis_lock = threading.Lock()


def _redis(url: str) -> Any:
    import redis

    with _redis_lock:
        if url not in _redis_clients:
            _redis_clients[url] = redis.Redis.from_url(
                url, socket_timeout=5, socket_connect_timeout=5
            )
        return _redis_clients[url]


class RedisBudget:
    """The account's budget in one Redis hash, `REDIS_PREFIX + key`."""

    def __init__(self, url: str, key: str, limit: int) -> None:
        self.key, self.limit = key, limit
        self._redis = _redis(url)
        self._name = REDIS_PREFIX + key
        self._claim = self._redis.register_script(_CLAIM)
        self._release = self._redis.register_script(_RELEASE)

    def claim(self, holder: str, want: int, pause_until: float, held: int = 0) -> Grant:
        now = time.time()
        args = [now, holder, int(want), self.limit, now + SLOT_TTL, pause_until, int(SLOT_TTL),
                int(held), shared_pause_cap()]  # fmt: skip
        granted, pause, *holders = self._claim(keys=[self._name], args=args)
        return Grant(int(granted), float(pause), tuple(h.decode() for h in holders))

    def release(self, holder: str, pause_until: float) -> None:
        args = [time.time(), pause_until, int(SLOT_TTL), shared_pause_cap(), holder]
        self._release(keys=[self._name], args=args)

    def drop(self, holders: list[str]) -> None:
        args = [time.time(), 0, int(SLOT_TTL), shared_pause_cap(), *holders]
        self._release(keys=[self._name], args=args)


def shared_budget(
    key: str, *, limit: int, model: type[models.Model], redis_url: str = ""
) -> SharedBudget | None:
    """The budget of account `key` (None when `limit` is 0: not shared)."""
    if limit <= 0:
        return None
    if redis_url:
        return RedisBudget(redis_url, key, limit)
    return DatabaseBudget(model, key, limit)


def budget_holder() -> str:
    """A scan's name in the budget: `budget:scan:<host>:<pid>:<nonce>` (the lease's shape, so
    a holder whose process died on this host can be told)."""
    return f"budget:scan:{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class BudgetShare:
    """One scan's use of `budget` through `client` (a `core.http.JsonHttpClient`).

    The client's `throttle` says what the scan would have in flight and is told what it may,
    and carries the account's pause both ways; the client waits (recorded) and names its
    side's errors.
    """

    def __init__(self, budget: SharedBudget, client: Any) -> None:
        self.budget, self.client, self.throttle = budget, client, client.throttle
        self.holder = ""
        self.pages = 0
        self.waited = 0.0  # seconds spent waiting for a first slot
        self.started = False

    def __enter__(self) -> BudgetShare:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Claim a first slot, waiting for one up to the client's `retry_after_cap`."""
        self.holder = budget_holder()
        deadline = time.monotonic() + self.client.retry_after_cap
        while True:
            grant = self._claim()
            if grant.slots:
                break
            dead = [h for h in grant.holders if h != self.holder and holder_is_dead(h)]
            if dead:
                logger.warning("%s budget %s: dropping dead holders %s", *self._who(), dead)
                self.budget.drop(dead)
                continue
            if time.monotonic() >= deadline:
                self.stop()  # not left waiting in the budget (it would keep the others' share even)
                raise self.client.errors.retry_later(
                    f"{self.client.vendor} requests of this account are at their shared limit "
                    f"({self.budget.limit} in flight, used by other syncs): the run continues "
                    "later.",
                    retry_after=30.0,
                )
            self.waited += POLL_SECONDS
            # Recorded like any wait: the run's "waited" figure and the wait metric show it.
            self.client.wait(
                f"budget {self.budget.key}: {self.budget.limit} requests in flight, waiting "
                "for a slot",
                POLL_SECONDS,
                "budget",
            )
        self.started = True
        self.throttle.hold_pause(True)

    def page_done(self) -> None:
        """After a page: every `REFRESH_EVERY` pages, claim what the scan wants now."""
        self.pages += 1
        if self.holder and self.pages % REFRESH_EVERY == 0:
            self._claim()

    def stop(self) -> None:
        if not self.holder:
            return
        holder, self.holder = self.holder, ""
        if self.started:
            self.started = False
            self.throttle.hold_pause(False)
        try:
            self.budget.release(holder, self.throttle.pause_epoch())
        except Exception:  # the slots lapse on their own (SLOT_TTL)
            logger.warning("%s budget %s: release failed", *self._who(), exc_info=True)

    def _claim(self) -> Grant:
        want = max(1, int(self.throttle.wanted))
        try:
            held = self.throttle.on_the_wire
            grant = self.budget.claim(self.holder, want, self.throttle.pause_epoch(), held)
        except Exception:  # the store is down: go on alone, said in the log
            logger.warning(
                "%s budget %s unreachable: the scan goes on unshared", *self._who(), exc_info=True
            )
            return Grant(want, 0.0)
        # Never 0 once started (pages in flight could not complete): a claim that lapsed
        # and was taken over meanwhile keeps one request going.
        self.throttle.cap(max(1, grant.slots))
        self.throttle.pause_until_epoch(grant.pause_until)
        return grant

    def _who(self) -> tuple[str, str]:
        return self.client.vendor, self.budget.key
