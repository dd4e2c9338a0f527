"""Udemy Business's side of the xAPI push, played against the product's door.

What Udemy Business does once an admin pasted the endpoints and credentials (Udemy Business help
"Learning Management System Integration: xAPI"): get a bearer token by the OAuth 2.0 client
credentials grant, client authenticated by HTTP Basic (RFC 6749 §4.4, §2.3.1), then POST
statements (xAPI 1.0.3, with `X-Experience-API-Version`) as learners progress. This sender:

- asks for a token when it has none, and for a new one once when the door answers 401 (the
  token expired, or the credentials were rotated: then it reads the credentials file again);
- retries 429 and 5xx answers and refused connections with exponential backoff, waiting at
  least the `Retry-After` the answer gives (seconds or an HTTP date, RFC 9110 §10.2.3);
- splits a batch the door finds too large (413) in halves;
- never writes the client secret anywhere: `XapiTarget`'s repr leaves it out, and neither the
  log nor an error message carries a request's headers.

`XapiTarget.read(path)` reads the credentials `manage.py seed_demo` writes for the demo (JSON,
mode 0600). `XapiPump` runs a `LearnerFeed` through a sender on a thread (`sandbox udemy
--xapi-credentials`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

from .server import UdemySandbox
from .xapi_feed import LearnerFeed

logger = logging.getLogger(__name__)

SCOPE = "xapi:write"
VERSION = "1.0.3"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class XapiSendError(Exception):
    """The door refused a batch for good (400, 403, 409...) or kept failing past the retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class XapiTarget:
    """Where and as whom statements are sent."""

    token_url: str
    statements_url: str
    client_id: str
    client_secret: str = field(repr=False)

    @classmethod
    def read(cls, path: Path) -> XapiTarget:
        values = json.loads(Path(path).read_text())
        return cls(**{name: str(values[name]) for name in
                      ("token_url", "statements_url", "client_id", "client_secret")})  # fmt: skip

    def write(self, path: Path) -> None:
        """Write the credentials readable by their owner only (0600), replacing a previous file
        atomically: the sender never reads half of one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.__dict__, out)
        os.chmod(temporary, 0o600)  # whatever the umask
        os.replace(temporary, path)


@dataclass
class SenderCounts:
    statements: int = 0  # accepted by the door
    requests: int = 0
    retries: int = 0
    tokens: int = 0
    refused: int = 0  # statements in batches refused for good


class XapiSender:
    """Posts statements to one integration's door (see the module docstring)."""

    def __init__(
        self,
        target: XapiTarget | Callable[[], XapiTarget],
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        max_attempts: int = 8,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # A callable target is read again after a 401 (credentials rotated meanwhile).
        self._load = target if callable(target) else (lambda: target)
        self.target = self._load()
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.counts = SenderCounts()
        self._token: str | None = None

    def send(self, statements: list[dict[str, Any]]) -> list[str]:
        """POST the statements (one request, or halves on 413); the ids the door answered."""
        if not statements:
            return []
        status, body = self._post(statements)
        if status == 413 and len(statements) > 1:
            half = len(statements) // 2
            return self.send(statements[:half]) + self.send(statements[half:])
        if status != 200:
            self.counts.refused += len(statements)
            raise XapiSendError(f"The door refused {len(statements)} statements: "
                                f"{status} {_excerpt(body)}", status)  # fmt: skip
        self.counts.statements += len(statements)
        return list(body)

    def token(self) -> str:
        """A bearer token (client credentials grant, HTTP Basic), fetched with the retries."""
        for attempt in range(1, self.max_attempts + 1):
            target = self.target
            try:
                response = self.session.post(
                    target.token_url,
                    data={"grant_type": "client_credentials", "scope": SCOPE},
                    auth=(target.client_id, target.client_secret),
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                self._wait(attempt, None, f"token endpoint unreachable ({type(exc).__name__})")
                continue
            if response.status_code == 200:
                self.counts.tokens += 1
                self._token = response.json()["access_token"]
                return self._token
            if response.status_code == 401:  # invalid_client: maybe rotated since read
                fresh = self._load()
                if fresh != target:
                    self.target = fresh
                    continue
            if response.status_code not in RETRY_STATUSES:
                raise XapiSendError(
                    f"No token: {response.status_code} {_excerpt(response.text)}",
                    response.status_code,
                )
            self._wait(attempt, response, f"token endpoint answered {response.status_code}")
        raise XapiSendError("No token: the token endpoint kept failing.")

    def _post(self, statements: list[dict[str, Any]]) -> tuple[int, Any]:
        payload = json.dumps(statements).encode()
        renewed = False
        for attempt in range(1, self.max_attempts + 1):
            token = self._token or self.token()
            try:
                self.counts.requests += 1
                response = self.session.post(
                    self.target.statements_url,
                    data=payload,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                        "X-Experience-API-Version": VERSION,
                    },
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                self._wait(attempt, None, f"door unreachable ({type(exc).__name__})")
                continue
            if response.status_code == 401 and not renewed:
                renewed, self._token = True, None  # expired or revoked: one new token
                self.target = self._load()
                continue
            if response.status_code in RETRY_STATUSES:
                self._wait(attempt, response, f"door answered {response.status_code}")
                continue
            try:
                body = response.json()
            except ValueError:
                body = response.text
            return response.status_code, body
        raise XapiSendError(f"{len(statements)} statements not sent: the door kept failing.")

    def _wait(self, attempt: int, response: requests.Response | None, why: str) -> None:
        if attempt >= self.max_attempts:
            return
        self.counts.retries += 1
        delay = min(self.max_wait, self.backoff * 2 ** (attempt - 1))
        if response is not None:
            delay = max(delay, min(self.max_wait, retry_after(response.headers) or 0.0))
        logger.info("xapi sender: %s; retry %d in %.1f s", why, attempt, delay)
        self.sleep(delay)


def retry_after(headers: Any) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _excerpt(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return text[:300]


class XapiPump:
    """Sends what a `LearnerFeed` tells, `batch` learners every `interval` seconds, on a thread.

    `lock` is held while the feed moves (it mutates the sandbox's organization, which the
    sandbox's request threads read); never while sending. Duplicates and out-of-order
    statements asked for with `request(...)` go with the next batch. Until the credentials
    file exists (the demo seeding writes it), it waits for it.
    """

    def __init__(
        self,
        feed: Any,
        credentials: Path,
        *,
        lock: Any,
        batch: int = 5,
        interval: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.feed, self.credentials, self.lock = feed, Path(credentials), lock
        self.batch, self.interval, self.session = batch, interval, session
        self.sender: XapiSender | None = None
        self._asked = {"duplicates": 0, "out_of_order": 0, "statements": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def request(self, *, duplicates: int = 0, out_of_order: int = 0, statements: int = 0) -> dict:
        with self.lock:
            self._asked["duplicates"] += max(0, int(duplicates))
            self._asked["out_of_order"] += max(0, int(out_of_order))
            self._asked["statements"] += max(0, int(statements))
            return dict(self._asked)

    def state(self) -> dict[str, Any]:
        counts = self.sender.counts.__dict__ if self.sender else {}
        return {"credentials": self.credentials.exists(), **counts}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="xapi-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def tick(self) -> int:
        """One batch: what the feed tells now, plus what was asked for; statements accepted."""
        if self.sender is None:
            if not self.credentials.exists():
                return 0
            self.sender = XapiSender(lambda: XapiTarget.read(self.credentials),
                                     session=self.session, sleep=self._stop.wait)  # fmt: skip
        with self.lock:
            asked, self._asked = self._asked, dict.fromkeys(self._asked, 0)
            moved = self.feed.advance(self.batch + asked["statements"], datetime.now(UTC))
            extra = self.feed.out_of_order(asked["out_of_order"])
            extra += self.feed.duplicates(asked["duplicates"])
        sent = 0
        for statements in (moved, extra):  # the late ones after the newer ones
            try:
                sent += len(self.sender.send(statements))
            except XapiSendError as exc:
                logger.warning("xapi sender: %s", exc)
        return sent

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.tick()
                if sent:
                    logger.info("xapi sender: %d statements accepted", sent)
            except Exception:  # a demo process: keep going, say why
                logger.exception("xapi sender: batch not sent")
            self._stop.wait(self.interval)


XAPI_SCENARIO_KEYS = {"xapi_duplicates", "xapi_out_of_order", "xapi_statements"}


class XapiUdemySandbox(UdemySandbox):
    """The Udemy sandbox that also pushes xAPI statements (`pump`, started by the command).

    On demand, through the control endpoint: ``POST /_sandbox/scenario`` with
    ``{"xapi_duplicates": n, "xapi_out_of_order": n, "xapi_statements": n}`` adds to the next
    batch the last n statements again, n late ones, or n more learners moving;
    ``GET /_sandbox/state`` has the sender's counts under ``xapi``.
    """

    scenario_keys = UdemySandbox.scenario_keys | XAPI_SCENARIO_KEYS

    def attach_pump(self, credentials: Path, **kwargs: Any) -> XapiPump:
        self.pump = XapiPump(LearnerFeed(self.data), credentials, lock=self._lock, **kwargs)
        return self.pump

    def _data_state(self) -> dict[str, Any]:
        state = super()._data_state()
        pump = getattr(self, "pump", None)
        if pump is not None:
            state["xapi"] = pump.state()
        return state

    def _apply_data_changes(self, scenario: dict[str, Any], result: dict[str, Any]) -> None:
        super()._apply_data_changes(scenario, result)
        asked = {key.removeprefix("xapi_"): scenario[key] for key in XAPI_SCENARIO_KEYS
                 if key in scenario}  # fmt: skip
        pump = getattr(self, "pump", None)
        if asked and pump is not None:
            result["xapi_queued"] = pump.request(**asked)
