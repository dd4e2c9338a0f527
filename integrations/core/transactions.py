"""How a page's transaction reaches PostgreSQL: its writes batched into one round trip
(`batched_transaction`, `execute_write`), and commits that do not wait for the disk
(`relaxed_commits`). Elsewhere (SQLite), plain `atomic()` and ordinary commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from psycopg import ClientCursor


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """Within: PostgreSQL commits without waiting for its write-ahead log to reach the disk.

    A sync commits every page, and with the database close by the flush of each commit is a
    noticeable part of a page's cost (BENCHMARKS.md). What this risks is only what a crash of
    the database server itself (not of a worker) could lose: the pages committed in its last
    fraction of a second (three times `wal_writer_delay`, 0.6 s by default) — and each page's
    checkpoint is in the same transaction, so a resumed run reads those pages again. Nothing
    is ever half-written.
    """
    if connection.vendor != "postgresql":
        yield
        return
    relax_commits_here()
    token = _RELAXED.set(True)
    try:
        yield
    finally:
        _RELAXED.reset(token)
        with suppress(DatabaseError), connection.cursor() as cursor:
            # A connection lost meanwhile took its setting with it.
            cursor.execute("RESET synchronous_commit")


_RELAXED: ContextVar[bool] = ContextVar("relaxed_commits", default=False)


def commits_relaxed() -> bool:
    """Whether the code running is inside `relaxed_commits()`."""
    return _RELAXED.get()


def relax_commits_here() -> None:
    """PostgreSQL: this thread's connection commits without waiting for the disk (another
    thread's part of a `relaxed_commits()` scope, on its own connection)."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")


BATCH_SEPARATOR = ";\n"  # between the statements of one batch, as the server receives it


class _Batch:
    """The writes of a `batched_transaction` not sent yet, on its connection."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.pending: list[tuple[str, Sequence[Any]]] = []

    def add(self, sql: str, params: Sequence[Any]) -> None:
        self.pending.append((sql, params))

    def send(self) -> None:
        """Every pending write, as one text of statements (client-side binding, which
        PostgreSQL's simple protocol takes as one round trip)."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        texts = []
        with ClientCursor(self.db.connection) as composer:
            for sql, params in pending:
                texts.append(composer.mogrify(sql, params))
        with self.db.cursor() as cursor:
            cursor.execute(BATCH_SEPARATOR.join(texts))

    def before_other(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Any other statement on the connection (a read, a savepoint, an ORM write) is
        preceded by the pending writes: statements run in the order the code sent them."""
        self.send()
        return execute(sql, params, many, context)


_BATCH: ContextVar[_Batch | None] = ContextVar("batched_writes", default=None)


def execute_write(db: Any, sql: str, params: Sequence[Any]) -> int | None:
    """Execute a write whose result is not read: at once (the rows it changed back), or with
    the other writes of the `batched_transaction` under way on `db` (None back)."""
    batch = _BATCH.get()
    if batch is not None and batch.db is db:
        batch.add(sql, params)
        return None
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@contextmanager
def batched_transaction(using: str | None = None) -> Iterator[None]:
    """`transaction.atomic()` whose writes that nobody reads the result of (`bulk_update`,
    `update_one`, `insert_rows(returning=False)`) go to PostgreSQL together, in one round
    trip, as the block ends (or as soon as another statement is sent: the order stays the
    code's). A sync's page is such a transaction: its rows, its ledger row and its run's
    counters were three round trips, each one a wait for the server and then for the GIL.

    A write that fails fails the block, as it would have at once; a block that raises sends
    nothing (its transaction is rolled back). Elsewhere than PostgreSQL with client-side
    binding (the default), or inside a block already batched, it is `atomic()` alone."""
    db = connections[using or DEFAULT_DB_ALIAS]
    with transaction.atomic(using=db.alias):
        options = db.settings_dict.get("OPTIONS") or {}
        if (
            db.vendor != "postgresql"
            or options.get("server_side_binding")
            or _BATCH.get() is not None
        ):
            yield
            return
        batch = _Batch(db)
        token = _BATCH.set(batch)
        try:
            with db.execute_wrapper(batch.before_other):
                yield
                batch.send()
        finally:
            _BATCH.reset(token)
