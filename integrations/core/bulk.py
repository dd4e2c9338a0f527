"""Bulk INSERT and UPDATE of model instances in one statement, without the ORM's per-value work.

Django's `bulk_create` and `bulk_update` prepare every value of every row in Python (the field's
`get_db_prep_save`, psycopg's array dumper for PostgreSQL's UNNEST, and for `bulk_update` a
`CASE WHEN` per row and field). Measured on PostgreSQL for a page of 100 attempts: 11 ms of CPU,
where the same rows sent as one JSON document cost under 2 ms — half of what a statistics page
costs in all. So on PostgreSQL the rows go as one JSON array of objects keyed by column, encoded
by the standard library's C encoder, and the server types them with the table's own row type
(`jsonb_populate_recordset`): every value goes through its column's input function, so a value
too long for a `varchar(n)` fails as it does with the ORM (an explicit cast would truncate it),
and a NULL stays NULL. On other databases (SQLite, the embedded default), and for a model with
a field this module does not know how to send, Django's bulk methods do the work.

Both functions keep the ORM's contract: `bulk_insert` runs the fields' `pre_save` (auto_now,
auto_now_add) and sets the primary keys it returns, `bulk_update` writes the attributes as they
are (like `bulk_update`, it runs no `pre_save`).

Reads of a page (`select_where`, `instances_where`) are statements built once per shape. Writes
whose result is not read can wait for the end of their transaction and go together, in one
round trip (`batched_transaction`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import date, datetime, time
from functools import cache, partial
from operator import attrgetter
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    connection,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import F, Field, Lookup, Model
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils import timezone
from psycopg import ClientCursor

from . import jsoncodec

# Django's own fields whose Python value is what the database stores (JSON for a JSONField),
# so that the JSON document carries it as is. Exact classes, not subclasses: a subclass may
# store something else than its value (the encrypted secret is a TextField that stores a
# token). Anything else is left to the ORM.
PLAIN_FIELDS = frozenset(
    {
        models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
        models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
        models.PositiveBigIntegerField, models.PositiveSmallIntegerField, models.FloatField,
        models.BooleanField, models.CharField, models.TextField, models.SlugField,
        models.URLField, models.EmailField, models.DateTimeField, models.DateField,
        models.JSONField, models.ForeignKey, models.OneToOneField,
    }
)  # fmt: skip


def bulk_insert(
    objs: Sequence[Model],
    *,
    ignore_conflicts: bool = False,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> None:
    """INSERT `objs` (all of one model) in one statement; their primary keys are set.

    `ignore_conflicts`: a row that breaks a unique constraint is skipped (its pk stays None).
    `unique_fields` + `update_fields`: such a row updates those fields of the existing one."""
    if not objs:
        return
    model = type(objs[0])
    db = connections[router.db_for_write(model)]
    fields = _insert_fields(model)
    # Rows given their own primary key are the ORM's too (the statement below lets the
    # database number every row).
    if db.vendor != "postgresql" or not _plain(fields) or any(o.pk for o in objs):
        model._default_manager.bulk_create(
            objs,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=bool(update_fields),
            unique_fields=unique_fields or None,
            update_fields=update_fields or None,
        )
        return
    returned = _insert_json(
        db, model, fields, _rows(objs, fields, adding=True),
        ignore_conflicts=ignore_conflicts, unique_fields=unique_fields,
        update_fields=update_fields,
    )  # fmt: skip
    if len(returned) == len(objs):  # a skipped conflict returns nothing for its row
        for obj, value in zip(objs, returned, strict=True):
            obj.pk = value
    for obj in objs:
        obj._state.adding, obj._state.db = False, db.alias


def insert_rows(
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    returning: bool = True,
) -> list[Any]:
    """INSERT rows given as {field attname: value} in one statement; the new primary keys, in
    order (fewer when `ignore_conflicts` skipped some). `unique_fields` + `update_fields`: a
    row that breaks that unique constraint updates those fields of the existing one.
    `returning=False`: no keys wanted (an empty list back), so the statement may wait for the
    transaction's other writes (`batched_transaction`).

    What `bulk_insert` does without a model instance per row (Django's `Model.__init__` costs
    more than the whole statement for a page of courses): a field a row leaves out takes its
    default, auto_now and auto_now_add fields the time of the call."""
    if not rows:
        return []
    db = connections[router.db_for_write(model)]
    fields = _insert_fields(model)
    if db.vendor != "postgresql" or not _plain(fields):
        objs = [model(**row) for row in rows]
        bulk_insert(
            objs, ignore_conflicts=ignore_conflicts, unique_fields=unique_fields,
            update_fields=update_fields,
        )  # fmt: skip
        return [obj.pk for obj in objs if obj.pk is not None] if returning else []
    unknown = set().union(*rows) - {f.attname for f in fields}
    if unknown:
        raise TypeError(f"{model.__name__} has no fields {sorted(unknown)}")
    now = timezone.now()
    # Each row as {column: value}: the defaults, the row's values over them, then the time of
    # the call on auto_now fields (dict merges: a page of rows in a fraction of a millisecond).
    defaults = {f.column: f.get_default() for f in fields if not _computes_on_save(f)}
    fixed = {f.column: now for f in fields if _computes_on_save(f)}
    renamed = {f.attname: f.column for f in fields if f.attname != f.column}
    floats = [f.column for f in fields if isinstance(f, models.FloatField)]
    json_ready = []
    for row in rows:
        given = {renamed.get(k, k): v for k, v in row.items()} if renamed else row
        out = {**defaults, **given, **fixed}
        for column in floats:
            out[column] = _json_float(out[column])
        json_ready.append(out)
    return _insert_json(
        db, model, fields, json_ready, ignore_conflicts=ignore_conflicts,
        unique_fields=unique_fields, update_fields=update_fields, returning=returning,
    )  # fmt: skip


def _insert_fields(model: type[Model]) -> list[Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _computes_on_save(field: Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _insert_json(
    db: Any,
    model: type[Model],
    fields: Sequence[Field],
    rows: list[dict[str, Any]],
    *,
    ignore_conflicts: bool = False,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    returning: bool = True,
) -> list[Any]:
    """PostgreSQL: INSERT `rows` ({column: value}) as one JSON document; the pks returned
    (`returning`), else sent with the transaction's other writes (`execute_write`)."""
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    conflict = ""
    if ignore_conflicts:
        conflict = " ON CONFLICT DO NOTHING"
    elif update_fields:
        keys = ", ".join(_column(db.alias, model, n) for n in unique_fields)
        sets = ", ".join(
            f"{c} = EXCLUDED.{c}" for c in (_column(db.alias, model, n) for n in update_fields)
        )
        conflict = f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    source = f"jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
    if not returning:
        sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {source}{conflict}"  # noqa: S608 # nosec B608
        execute_write(db, sql, [json_rows(rows)])
        return []
    # WITH ORDINALITY + ORDER BY: rows are inserted, and returned, in the order given.
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 # nosec B608
        f"FROM {source} WITH ORDINALITY AS r ORDER BY r.ordinality{conflict} RETURNING {pk}"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [json_rows(rows)])
        return [row[0] for row in cursor.fetchall()]


def bulk_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """UPDATE `fields` of `objs` (all of one model, saved) in one statement, by primary key."""
    if not objs:
        return
    model = type(objs[0])
    db = connections[router.db_for_write(model)]
    chosen = [model._meta.get_field(name) for name in fields]
    if db.vendor != "postgresql" or not _plain(chosen):
        model._default_manager.bulk_update(objs, fields)
        return
    pk_field = model._meta.pk
    rows = _rows(objs, [pk_field, *chosen], adding=False)
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(pk_field.column)
    sets = ", ".join(f"{quote(f.column)} = r.{quote(f.column)}" for f in chosen)
    sql = (
        f"UPDATE {table} SET {sets} FROM "  # noqa: S608 # nosec B608
        f"jsonb_populate_recordset(NULL::{table}, %s::jsonb) AS r WHERE {table}.{pk} = r.{pk}"
    )
    execute_write(db, sql, [json_rows(rows)])


def update_one(
    model: type[Model],
    pk: Any,
    *,
    values: Mapping[str, Any] | None = None,
    add: Mapping[str, int] | None = None,
) -> int | None:
    """UPDATE one row by primary key: `values` set (each prepared by its field, as the ORM
    does), `add` added to integer columns (atomic: `col = col + n`); the rows changed (0/1),
    None when the statement waits for the transaction's other writes (`batched_transaction`).

    A queryset's `update()` without building and compiling a query on every call: the
    statement is made once per model and set of fields (a run's counters, checkpoint and
    progress after each page: 0.4 ms instead of 2.6). Like `update()`, no `pre_save`."""
    values, add = values or {}, add or {}
    db = connections[router.db_for_write(model)]
    sql, set_fields = _update_sql(model, tuple(values), tuple(add), db.alias)
    params = [f.get_db_prep_save(values[f.name], connection=db) for f in set_fields]
    params += [int(n) for n in add.values()]
    return execute_write(db, sql, [*params, pk])


@cache
def _update_sql(
    model: type[Model], names: tuple[str, ...], added: tuple[str, ...], alias: str
) -> tuple[str, list[Field]]:
    quote = connections[alias].ops.quote_name
    set_fields = [model._meta.get_field(name) for name in names]
    sets = [f"{quote(f.column)} = %s" for f in set_fields]
    for column in (_column(alias, model, name) for name in added):
        sets.append(f"{column} = {column} + %s")
    if not sets:
        raise ValueError("nothing to update")
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s"  # noqa: S608 # nosec B608
    return sql, set_fields


def select_by(
    model: type[Model],
    columns: Sequence[str],
    key: str,
    keys: Collection[Any],
    **equal: Any,
) -> list[tuple]:
    """`columns` (attnames) of the rows whose `key` is one of `keys` and whose other fields
    are `equal`: `filter(**equal, key__in=keys).values_list(*columns)` (see `select_where`)."""
    return select_where(model, columns, any_of={key: keys}, equal=equal)


def select_where(
    model: type[Model],
    columns: Sequence[str],
    *,
    any_of: Mapping[str, Collection[Any]],
    equal: Mapping[str, Any] | None = None,
    lower: str = "",
    order_by: Sequence[str] = (),
) -> list[tuple]:
    """`columns` (attnames) of the rows whose every `any_of` field is one of its values and
    whose `equal` fields are equal, in `order_by` order; `lower`: a text field compared and
    selected lower-cased (its values given lower-cased).

    A queryset's `values_list` without compiling a query on every page: PostgreSQL gets a
    statement made once per shape, each set of values as one array (`= ANY(%s)`, see
    `AnyOf`); elsewhere, and for fields whose stored value is not their Python value, it is
    that queryset."""
    equal = equal or {}
    if not any_of or not all(any_of.values()):
        return []
    db = connections[router.db_for_read(model)]
    fields = [model._meta.get_field(name) for name in (*columns, *any_of, *equal, *order_by)]
    if (
        db.vendor != "postgresql"
        or not _plain(fields)
        or any(isinstance(f, models.JSONField) for f in fields)
    ):
        return _select_orm(model, columns, any_of, equal, lower, order_by)
    shape = (tuple(columns), tuple(any_of), tuple(equal), lower, tuple(order_by))
    sql = _select_sql(model, shape, db.alias)
    with db.cursor() as cursor:
        cursor.execute(sql, [*equal.values(), *(list(values) for values in any_of.values())])
        return cursor.fetchall()


def instances_where(
    model: type[Model], *, any_of: Mapping[str, Collection[Any]], order_by: Sequence[str] = ()
) -> list[Model]:
    """The instances `select_where` finds (every concrete field loaded, as a queryset's)."""
    db = router.db_for_read(model)
    names = [f.attname for f in model._meta.concrete_fields]
    rows = select_where(model, names, any_of=any_of, order_by=order_by)
    return [model.from_db(db, names, row) for row in rows]


def _select_orm(
    model: type[Model],
    columns: Sequence[str],
    any_of: Mapping[str, Collection[Any]],
    equal: Mapping[str, Any],
    lower: str,
    order_by: Sequence[str],
) -> list[tuple]:
    rows = model._default_manager.filter(**equal)
    name = {column: column for column in (*columns, *any_of)}
    if lower:
        rows = rows.annotate(_lower_key=Lower(lower))
        name[lower] = "_lower_key"
    rows = rows.filter(*(AnyOf(F(name[f]), values) for f, values in any_of.items()))
    return list(rows.order_by(*order_by).values_list(*(name[c] for c in columns)))


@cache
def _select_sql(model: type[Model], shape: tuple, alias: str) -> str:
    columns, any_of, equal, lower, order_by = shape

    def column(name: str) -> str:
        quoted = _column(alias, model, name)
        return f"lower({quoted})" if name == lower else quoted

    where = [f"{column(name)} = %s" for name in equal]
    where += [f"{column(name)} = ANY(%s)" for name in any_of]
    selected = ", ".join(column(c) for c in columns)
    table = connections[alias].ops.quote_name(model._meta.db_table)
    order = f" ORDER BY {', '.join(column(c) for c in order_by)}" if order_by else ""
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    return f"SELECT {selected} FROM {table} WHERE {' AND '.join(where)}{order}"  # noqa: S608 # nosec B608


def _column(alias: str, model: type[Model], name: str) -> str:
    """The quoted column of `model`'s field `name` (or attname)."""
    return connections[alias].ops.quote_name(model._meta.get_field(name).column)


def _plain(fields: Sequence[Field]) -> bool:
    # A JSONField with its own encoder writes what that encoder makes of the value.
    return all(type(f) in PLAIN_FIELDS and getattr(f, "encoder", None) is None for f in fields)


def _rows(objs: Sequence[Model], fields: Sequence[Field], *, adding: bool) -> list[dict]:
    """The rows of `objs` as {column: value}. Only a field that computes its value on save
    (auto_now, auto_now_add) is asked for it, and only when inserting (like the ORM); the
    others are read as attributes, the cheap way a page of a hundred rows wants."""
    readers = []
    for field in fields:
        computes = adding and _computes_on_save(field)
        read = partial(field.pre_save, add=True) if computes else attrgetter(field.attname)
        readers.append((field.column, read, isinstance(field, models.FloatField)))
    rows = []
    for obj in objs:
        row = {}
        for column, read, is_float in readers:
            value = read(obj)
            row[column] = _json_float(value) if is_float else value
        rows.append(row)
    return rows


def _json_float(value: float | None) -> float | str | None:
    # JSON has no NaN or infinity: PostgreSQL's float input reads them as text.
    return str(value) if value is not None and not math.isfinite(value) else value


def _encode(value: Any) -> str:
    """What JSON has no type for (orjson writes these itself; the fallback does not)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not sent by bulk statements")


def json_rows(rows: list[dict[str, Any]]) -> str:
    """Rows as the one JSON document a bulk statement takes as its parameter."""
    return jsoncodec.dumps(rows, default=_encode)


class AnyOf(Lookup):
    """`lhs IN (a page's values)`, sent on PostgreSQL as `lhs = ANY(%s)` with one array.

    Django writes `IN (%s, %s, …)`: a hundred literals that the server parses and the planner
    estimates one by one on every page (0.9 ms of planning per lookup of 100 course ids, against
    0.16 ms for the array; the whole lookup 3.4 → under 1 ms). Used as an expression:
    `Course.objects.filter(AnyOf(F("external_id"), ids))`; elsewhere it is Django's `IN`.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):  # type: ignore[override]
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):  # type: ignore[no-untyped-def]
        values = list(self.rhs)
        if not values:
            return In(self.lhs, values).as_sql(compiler, connection)  # raises EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, values]


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """Within: PostgreSQL commits without waiting for its write-ahead log to reach the disk.

    A sync commits every page, and at latency 0 the flush of each commit (about 2 ms here) is
    a tenth of a page's cost. What this risks is only what a crash of the database server
    itself (not of a worker) could lose: the pages committed in its last fraction of a second
    (three times `wal_writer_delay`, 0.6 s by default) — and each page's checkpoint is in the
    same transaction, so a resumed run reads those pages again. Nothing is ever half-written.
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


# --------------------------------------------------------------------------- batched writes


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
