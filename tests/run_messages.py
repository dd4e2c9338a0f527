"""Messages caught at the broker's door: a test that must not reach a broker (and never uses
eager mode) replaces Celery's public sending calls, rather than a private function of a
service: a run task's `apply_async`, found by its stable name as the services send it
(`core.execute.run_enqueue`), or the app's `send_task` (the alert outbox's request to send).
Every message of that kind is caught, whichever service sent it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery import current_app

from integrations.core.execute import task_named


def catch_run_messages(
    monkeypatch: pytest.MonkeyPatch, task_name: str, handle: Callable[[int], Any]
) -> None:
    """Hand the run id of every message sent to the task `task_name` to `handle` instead of
    the broker (its countdown and options are dropped)."""

    def apply_async(args: Any = (), kwargs: Any = None, **options: Any) -> None:
        handle(args[0])

    monkeypatch.setattr(task_named(task_name), "apply_async", apply_async)


def catch_sent_tasks(
    monkeypatch: pytest.MonkeyPatch, handle: Callable[[str], Any] = lambda name: None
) -> None:
    """Hand the name of every task sent by name (`send_task`, e.g. the alert outbox asking a
    worker to send it now) to `handle` instead of the broker."""

    def send_task(name: str, *args: Any, **options: Any) -> None:
        handle(name)

    monkeypatch.setattr(current_app, "send_task", send_task)
