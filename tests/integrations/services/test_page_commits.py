"""Pages committed behind the mapping (`pipeline.PageCommits`): on PostgreSQL, outside a
transaction, a writer thread with its own connection commits pages N and N + 1 while page N + 2
is mapped. Pages still commit in order, with relaxed commits, carrying the run's log fields; a
page that shares an id with a page being committed waits for it; a failed commit ends the
stream with the pages before it kept and none after it; inside a transaction (and on SQLite)
pages are committed in place."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection

from catalog.models import Attempt, Course
from integrations.core.logs import current_run_context, run_log_context
from integrations.models import SyncError, SyncPage, SyncRun
from integrations.services import content_sync, stats_lookup, stats_sync
from integrations.services.pipeline import WRITE_AHEAD, PageCommits
from tests.integrations.services.audience import register

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the writer thread is PostgreSQL's"
)


def _synchronous_commit() -> str:
    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _recording_upserts(monkeypatch) -> list[tuple[str, str, int]]:
    """(thread name, synchronous_commit, first id) of each page's upsert."""
    write, seen = content_sync.courses_upsert_page, []

    def recording(**kwargs):
        first = kwargs["records"][0].external_id if kwargs["records"] else ""
        seen.append((threading.current_thread().name, _synchronous_commit(), first))
        return write(**kwargs)

    monkeypatch.setattr(content_sync, "courses_upsert_page", recording)
    return seen


@pytest.fixture
def five_pages(make_udemy_sandbox, make_integration):
    """An integration whose catalog is 500 courses: five pages."""
    return make_integration(make_udemy_sandbox(courses=500, paths=0, learners=1))


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_pages_are_committed_in_order_by_a_writer_thread_with_relaxed_commits(
    five_pages, run_sync, monkeypatch
) -> None:
    integration = five_pages
    seen = _recording_upserts(monkeypatch)
    run = run_sync(integration)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert {(name.startswith("sync-writer"), sync) for name, sync, _ in seen} == {(True, "off")}
    assert list(
        SyncPage.objects.filter(run=run).order_by("id").values_list("number", flat=True)
    ) == [1, 2, 3, 4, 5]
    assert Course.objects.filter(integration=integration).count() == 500
    assert run.checkpoint == {"courses": 5} and run.fetched == 500
    assert _synchronous_commit() == "on"
    names = {t.name for t in threading.enumerate()}
    assert not any(n.startswith("sync-writer") for n in names), "the writer thread ended"


@pytest.mark.django_db
def test_inside_a_transaction_pages_are_committed_in_place(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
) -> None:
    integration = make_integration(make_udemy_sandbox(courses=300, paths=0, learners=1))
    seen = _recording_upserts(monkeypatch)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    assert {name for name, _, _ in seen} == {threading.current_thread().name}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_failed_commit_ends_the_stream_and_keeps_the_pages_before_it(
    five_pages, run_sync, monkeypatch
) -> None:
    integration = five_pages
    write, calls = content_sync.courses_upsert_page, []

    def losing_the_database(**kwargs):
        calls.append(threading.current_thread().name)
        if len(calls) > 2:
            raise OperationalError("server closed the connection unexpectedly")
        return write(**kwargs)

    monkeypatch.setattr(content_sync, "courses_upsert_page", losing_the_database)
    run = run_sync(integration)
    assert calls and all(name.startswith("sync-writer") for name in calls)
    assert run.status == SyncRun.Status.PARTIAL, run.error_summary
    assert run.error_summary == "Database error: OperationalError"
    assert SyncError.objects.filter(run=run, category="database").count() == 1
    assert list(SyncPage.objects.filter(run=run).values_list("number", flat=True)) == [1, 2]
    assert Course.objects.filter(integration=integration).count() == 200
    monkeypatch.undo()
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED  # nothing left behind


def _page(*ids: str) -> SimpleNamespace:
    return SimpleNamespace(results=[{"id": i} for i in ids])


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_page_sharing_an_id_with_a_page_being_committed_waits_for_it() -> None:
    """Each commit is held by a gate of its own: a commit ends only once its gate opens. A
    mapping that must wait opens it (a timer) while it waits; one that must not wait returns
    with the gates still closed."""
    done: list[str] = []
    gates = {"a": threading.Event(), "b": threading.Event()}

    def gated_commit(name: str):
        return lambda: (gates[name].wait(30), done.append(name))

    with PageCommits(item_id=lambda raw: str(raw["id"])) as commits:
        assert commits.pool is not None
        commits.submit(gated_commit("a"), seen=["1", "2"])
        commits.submit(gated_commit("b"), seen=["5", "6"])
        commits.before_mapping(_page("3", "4"))
        assert done == []  # no shared id: mapped while both commit
        threading.Timer(0.3, gates["a"].set).start()
        commits.before_mapping(_page("4", "2"))
        assert done == ["a"]  # "2" is being written: its lookup must see it, not "b"'s ids
        threading.Timer(0.3, gates["b"].set).start()
        commits.before_mapping(_page("6"))
        assert done == ["a", "b"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_writer_holds_two_pages_at_most() -> None:
    started: list[int] = []
    release = threading.Event()

    def commit(number: int):
        return lambda: (started.append(number), release.wait(5))

    with PageCommits() as commits:
        commits.submit(commit(1), seen=[])
        commits.submit(commit(2), seen=[])  # page 1 being written, page 2 queued
        assert len(commits.pending) == WRITE_AHEAD == 2
        threading.Timer(0.3, release.set).start()
        commits.submit(commit(3), seen=[])  # waits for page 1 first
        assert started[0] == 1 and len(commits.pending) == 2
    assert started == [1, 2, 3]


def _commit_behind_a_failure(ran: list[str]) -> None:
    queued = threading.Event()  # page 1 fails only once page 2 is queued behind it
    with PageCommits() as commits:
        commits.submit(lambda: (queued.wait(30), _failing()), seen=[])
        commits.submit(lambda: ran.append("page 2"), seen=[])  # queued behind the failure
        assert len(commits.pending) == 2
        queued.set()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_page_queued_behind_a_failed_one_is_never_committed() -> None:
    ran: list[str] = []
    with pytest.raises(OperationalError):  # the first failure is the one reported
        _commit_behind_a_failure(ran)
    assert ran == []


def _failing() -> None:
    raise OperationalError("lost")


def _commit_twice() -> None:
    with PageCommits() as commits:
        commits.submit(_failing, seen=[])
        commits.submit(lambda: None, seen=[])


def _fail_while_committing() -> None:
    with PageCommits() as commits:
        commits.submit(_failing, seen=[])
        raise KeyError("the mapping failed")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_commit_fails_at_the_next_page_and_an_error_under_way_wins() -> None:
    with pytest.raises(OperationalError):
        _commit_twice()
    with pytest.raises(KeyError):
        _fail_while_committing()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_writer_runs_in_the_run_log_context() -> None:
    """The writer's log lines carry the run's fields and hide its secrets, as this thread's."""
    seen = []
    with run_log_context({"run_id": 42}, secrets=["s3cret"]), PageCommits() as commits:
        commits.submit(lambda: seen.append((threading.current_thread().name,
                                            current_run_context())), seen=[])  # fmt: skip
    ((name, context),) = seen
    assert name.startswith("sync-writer")
    assert context is not None and context.fields == {"run_id": 42}
    assert context.secrets == ("s3cret",)


@pytest.mark.django_db
def test_sqlite_or_a_transaction_commits_in_place() -> None:
    assert connection.in_atomic_block  # the test's transaction
    with PageCommits() as commits:
        assert commits.pool is None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_statistics_sync_looks_learners_up_while_mapping_and_writes_behind(
    make_udemy_sandbox, make_integration, run_sync, monkeypatch
) -> None:
    """Learners and courses are looked up with the page's mapping (this thread), attempts are
    written by the writer: every named row of a registered learner lands on its attempt."""
    sandbox = make_udemy_sandbox(courses=60, paths=0, learners=40)
    integration = make_integration(sandbox)
    assert run_sync(integration).status == SyncRun.Status.SUCCEEDED
    register(sandbox.data.learner_emails, integration.group)
    lookups, writes = [], []
    read_all, apply = stats_lookup.all_learners, stats_sync.attempts_apply
    monkeypatch.setattr(stats_lookup, "all_learners", lambda limit: lookups.append(
        threading.current_thread().name) or read_all(limit))  # fmt: skip
    monkeypatch.setattr(stats_sync, "attempts_apply", lambda **kw: writes.append(
        threading.current_thread().name) or apply(**kw))  # fmt: skip
    run = run_sync(integration, "stats")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_summary
    assert lookups and set(lookups) == {threading.current_thread().name}
    assert writes and all(name.startswith("sync-writer") for name in writes)
    named = {
        (r["user_email"].lower(), str(r["course_id"]))
        for r in sandbox.data.activity
        if r["user_email"].lower() != "anonymized user" and r.get("course_first_completion_date")
    }
    stored = set(
        Attempt.objects.filter(course__integration=integration).values_list(
            "learner__email", "course__external_id"
        )
    )
    assert named and named <= {(e.lower(), c) for e, c in stored}
