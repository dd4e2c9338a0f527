"""The embedded broker's exchange tables (which queues a fanout reaches: remote control, its
replies, the event stream) survive a process killed mid-write and two processes binding at once;
a table damaged before is read back and repaired at its next change."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from lmsbridge.celery import app as celery_app
from lmsbridge.file_broker import read_bindings
from tests.celery_worker import wait_for

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"),
    reason="the file broker is the embedded default's; this run uses another broker",
)

A = ["id-a", "", "id-a.reply.celery.pidbox"]
B = ["id-b", "", "id-b.reply.celery.pidbox"]
# What kombu's in-place rewrite leaves when its writer dies between write and truncate.
DAMAGED = json.dumps([A]) + " " + json.dumps([B])[1:]


def channel(folder: Path):
    options = {"data_folder_in": str(folder / "q"), "data_folder_out": str(folder / "q"),
               "control_folder": str(folder / "control")}  # fmt: skip
    (folder / "q").mkdir(exist_ok=True)
    connection = Connection("filesystem://", transport_options=options)
    return connection, connection.default_channel


def test_the_filesystem_scheme_is_the_hardened_transport(tmp_path):
    connection, chan = channel(tmp_path)
    with connection:
        assert type(chan).__module__ == "lmsbridge.file_broker"


def test_a_damaged_table_is_read_entry_by_entry_and_repaired_at_the_next_change(tmp_path):
    connection, chan = channel(tmp_path)
    with connection:
        table = Path(chan.control_folder) / "reply.celery.pidbox.exchange"
        table.parent.mkdir(exist_ok=True)
        table.write_text(DAMAGED)
        with pytest.raises(ValueError):
            json.loads(table.read_text())
        assert [list(b) for b in chan.get_table("reply.celery.pidbox")] == [A, B]
        chan._queue_bind("reply.celery.pidbox", "id-c", "", "id-c.reply.celery.pidbox")
        assert [row[0] for row in json.loads(table.read_text())] == ["id-c", "id-a", "id-b"]


def test_a_writer_killed_before_its_rename_leaves_the_previous_table(tmp_path, monkeypatch):
    connection, chan = channel(tmp_path)
    with connection:
        chan._queue_bind("celeryev", "#", "", "first")
        table = Path(chan.control_folder) / "celeryev.exchange"
        before = table.read_text()

        def killed(*args):
            raise KeyboardInterrupt  # stands for the signal that ends the process here

        monkeypatch.setattr("lmsbridge.file_broker.os.replace", killed)
        with pytest.raises(KeyboardInterrupt):
            chan._queue_bind("celeryev", "#", "", "second")
        assert table.read_text() == before
        assert [p.name for p in table.parent.iterdir() if p.name.startswith(".")] == []


def _bind_many(folder: str, worker: int, start) -> None:
    connection, chan = channel(Path(folder))
    start.wait()
    with connection:
        for n in range(25):
            chan._queue_bind("celery.pidbox", "", "", f"w{worker}-q{n}")
            if n % 5 == 4:
                chan._delete(f"w{worker}-q{n}", "celery.pidbox", "", "")


def test_processes_binding_at_once_lose_nothing_and_leave_valid_json(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    workers = [ctx.Process(target=_bind_many, args=(str(tmp_path), w, start)) for w in range(6)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    table = tmp_path / "control" / "celery.pidbox.exchange"
    queues = {row[2] for row in json.loads(table.read_text())}
    assert queues == {f"w{w}-q{n}" for w in range(6) for n in range(25) if n % 5 != 4}


def test_read_bindings_of_an_empty_or_whole_table():
    assert read_bindings("") == []
    assert [list(b) for b in read_bindings(json.dumps([A, B]))] == [A, B]


@pytest.mark.celery_worker
@pytest.mark.slow
def test_remote_control_answers_over_a_table_damaged_before(celery_worker_process, worker_queue):
    """A worker answers `inspect ping` although the reply table was left damaged by an earlier
    crash (before, every inspect failed with 'Extra data' until the file was deleted by hand)."""
    control = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"])
    (control / "reply.celery.pidbox.exchange").write_text(DAMAGED)

    def answered() -> bool:
        replies = celery_app.control.inspect(timeout=5).ping() or {}
        return any(name.startswith(worker_queue) for name in replies)

    wait_for(answered, timeout=60, interval=0.5, message="the worker's answer to inspect ping")
