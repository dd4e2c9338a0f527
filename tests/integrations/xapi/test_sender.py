"""Promise: the sandbox's xAPI sender behaves like a careful Udemy Business — a token by client
credentials over HTTP Basic, a new one on 401, retries of 429/5xx waiting at least Retry-After,
413 split in halves, the secret in no repr, log or error — and its feed tells learners moving
forward (launch, progress, completion), duplicates and late statements on demand."""

from __future__ import annotations

import base64
import logging
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.providers.udemy.xapi import (
    CMI5_PROGRESS,
    VERB_COMPLETED,
    VERB_PROGRESSED,
    statement_read,
)
from integrations.sandboxes.udemy import UdemyData
from integrations.sandboxes.udemy.xapi_feed import LearnerFeed
from integrations.sandboxes.udemy.xapi_sender import (
    XapiPump,
    XapiSender,
    XapiSendError,
    XapiTarget,
    retry_after,
)

SECRET = "s3cr3t-never-shown-anywhere"
TARGET = XapiTarget("http://door/token/", "http://door/statements", "client-1", SECRET)


@dataclass
class Answer:
    status_code: int
    body: object = None
    headers: dict = field(default_factory=dict)

    def json(self):
        return self.body

    @property
    def text(self) -> str:
        return str(self.body)


class FakeSession:
    """Scripted answers: token requests get `tokens`, statement requests `answers`, in order."""

    def __init__(self, answers: list[Answer], tokens: list[Answer] | None = None) -> None:
        self.answers, self.tokens = list(answers), list(tokens or [])
        self.calls: list[tuple[str, dict]] = []
        self.issued = 0

    def post(self, url, **kwargs):
        self.calls.append((url, kwargs))
        if url == TARGET.token_url:
            if self.tokens:
                return self.tokens.pop(0)
            self.issued += 1
            return Answer(200, {"access_token": f"token-{self.issued}", "token_type": "Bearer"})
        answer = self.answers.pop(0)
        if answer.status_code == 200 and answer.body is None:
            return Answer(200, [s["id"] for s in _sent(kwargs)])
        return answer


def _sent(kwargs) -> list[dict]:
    import json

    return json.loads(kwargs["data"])


def sender(session: FakeSession, waits: list[float], target=TARGET) -> XapiSender:
    return XapiSender(target, session=session, sleep=waits.append, max_attempts=4)


def statements(n: int) -> list[dict]:
    data = UdemyData.generate(seed=2, courses=10, paths=2, learners=3, today=date(2026, 12, 1))
    return LearnerFeed(data).advance(n, datetime(2026, 12, 7, 9, tzinfo=UTC))


def test_a_token_by_http_basic_then_statements_with_the_bearer_and_version():
    session, waits = FakeSession([Answer(200)]), []
    batch = statements(2)
    assert sender(session, waits).send(batch) == [s["id"] for s in batch]
    (_url, token_call), (_, post) = session.calls
    assert token_call["auth"] == ("client-1", SECRET)
    assert token_call["data"] == {"grant_type": "client_credentials", "scope": "xapi:write"}
    assert post["headers"]["Authorization"] == "Bearer token-1"
    assert post["headers"]["X-Experience-API-Version"] == "1.0.3"
    assert waits == []


def test_429_and_5xx_are_retried_waiting_at_least_retry_after():
    answers = [Answer(429, {}, {"Retry-After": "7"}), Answer(503), Answer(200)]
    session, waits = FakeSession(answers), []
    one = sender(session, waits)
    assert len(one.send(statements(1))) == 1
    assert waits[0] >= 7 and len(waits) == 2  # Retry-After, then the backoff
    assert one.counts.retries == 2 and one.counts.statements == 1


def test_a_401_gets_one_new_token_and_the_credentials_read_again(tmp_path):
    path = tmp_path / "creds.json"
    TARGET.write(path)
    session, waits = FakeSession([Answer(401, {"error": "invalid_token"}), Answer(200)]), []
    one = XapiSender(lambda: XapiTarget.read(path), session=session, sleep=waits.append)
    one.send(statements(1))
    posts = [c for u, c in session.calls if u == TARGET.statements_url]
    assert [p["headers"]["Authorization"] for p in posts] == ["Bearer token-1", "Bearer token-2"]
    assert one.counts.tokens == 2


def test_a_second_401_in_a_row_is_an_error_not_a_loop():
    session, waits = FakeSession([Answer(401, {}), Answer(401, {"error": "invalid_token"})]), []
    with pytest.raises(XapiSendError) as error:
        sender(session, waits).send(statements(1))
    assert error.value.status == 401


def test_413_is_split_in_halves():
    session, waits = FakeSession([Answer(413, {}), Answer(200), Answer(200)]), []
    batch = statements(4)
    assert sender(session, waits).send(batch) == [s["id"] for s in batch]
    sizes = [len(_sent(c)) for u, c in session.calls if u == TARGET.statements_url]
    assert sizes == [4, 2, 2]


def test_the_secret_is_in_no_repr_log_or_error(caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    session = FakeSession([Answer(500)] * 4 + [Answer(409, {"message": "conflict"})])
    one = sender(session, [])
    for _ in range(2):
        with pytest.raises(XapiSendError) as error:
            one.send(statements(1))
        assert SECRET not in str(error.value)
    assert SECRET not in repr(TARGET) and SECRET not in repr(one.target)
    assert SECRET not in caplog.text
    path = tmp_path / "creds.json"
    TARGET.write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_retry_after_reads_seconds_and_http_dates():
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after({"Retry-After": "12"}) == 12
    assert 25 < retry_after({"Retry-After": later}) <= 30
    assert retry_after({"Retry-After": "soon"}) is None and retry_after({}) is None


def test_the_feed_tells_launches_progress_and_completions_forward_only():
    data = UdemyData.generate(seed=3, courses=20, paths=3, learners=5, today=date(2026, 12, 1))
    feed = LearnerFeed(data)
    moment, told = datetime(2026, 12, 7, 9, tzinfo=UTC), {}
    for i in range(200):
        for s in feed.advance(5, moment + timedelta(seconds=i)):
            record = statement_read(s, received=moment)  # every one is what the door accepts
            key = (record.email, record.object_id)
            assert record.progress >= told.get(key, 0)  # never backwards
            told[key] = record.progress
    verbs = {s["verb"]["id"] for s in feed.duplicates(1000)}
    assert verbs == {VERB_PROGRESSED, VERB_COMPLETED}
    assert any("/learning-paths/" in key[1] for key in told)
    assert any(v == 100 for v in told.values())
    # A course's report row moved with its statements (the daily report agrees).
    course_pairs = [p for p in feed.pairs if p.row is not None and p.done]
    assert course_pairs and all(p.row["course_completion_date"] for p in course_pairs)


def test_duplicates_are_the_same_statements_and_late_ones_are_older_and_lower():
    data = UdemyData.generate(seed=3, courses=20, paths=3, learners=5, today=date(2026, 12, 1))
    feed = LearnerFeed(data)
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    sent = feed.advance(4, now) + feed.advance(4, now + timedelta(minutes=1))
    assert feed.duplicates(3) == sent[-3:]
    for late in feed.out_of_order(3):
        pair = next(p for p in feed.pairs if p.object_id == late["object"]["id"]
                    and f"mailto:{p.email}" == late["actor"]["mbox"])  # fmt: skip
        assert datetime.fromisoformat(late["timestamp"]) < pair.last_at
        assert late["result"]["extensions"][CMI5_PROGRESS] <= pair.progress


def test_the_pump_waits_for_the_credentials_then_sends_what_was_asked_for(tmp_path):
    import threading

    data = UdemyData.generate(seed=3, courses=20, paths=3, learners=5, today=date(2026, 12, 1))
    path = tmp_path / "creds.json"
    session = FakeSession([Answer(200)] * 10)
    pump = XapiPump(LearnerFeed(data), path, lock=threading.RLock(), batch=2, session=session)
    assert pump.tick() == 0 and session.calls == []  # no credentials yet
    TARGET.write(path)
    pump.request(duplicates=2, out_of_order=1)
    assert pump.tick() == 2 + 3
    assert pump.state()["statements"] == 5 and pump.state()["credentials"] is True
    assert base64.b64encode(SECRET.encode()).decode() not in str(pump.state())
