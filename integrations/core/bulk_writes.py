"""Bulk INSERT and UPDATE of model instances in one statement, without the ORM's per-value work.

Django's `bulk_create` and `bulk_update` prepare every value of every row in Python (the field's
`get_db_prep_save`, psycopg's array dumper for PostgreSQL's UNNEST, and for `bulk_update` a
`CASE WHEN` per row and field): for a page of rows, several times what the same rows cost sent
as one JSON document (figures in BENCHMARKS.md). So on PostgreSQL the rows go as one JSON array
of objects keyed by column, encoded by orjson (`core.jsoncodec`), and the server types them
with the table's own row type (`jsonb_populate_recordset`): every value goes through its
column's input function, so a value too long for a `varchar(n)` fails as it does with the ORM
(an explicit cast would truncate it), and a NULL stays NULL. On other databases (SQLite, the
embedded default), and for a model with a field this module does not know how to send,
Django's bulk methods do the work.

Both functions keep the ORM's contract: `bulk_insert` runs the fields' `pre_save` (auto_now,
auto_now_add) and sets the primary keys it returns, `bulk_update` writes the attributes as they
are (like `bulk_update`, it runs no `pre_save`).

Writes whose result is not read wait for the end of a `core.transactions.batched_transaction`
and go with its other writes, in one round trip. Which fields go as they are: `core.bulk_fields`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from functools import cache, partial
from operator import attrgetter
from typing import Any

from django.db import connections, models, router
from django.db.models import Field, Model
from django.utils import timezone

from . import jsoncodec
from .bulk_fields import plain_fields, quoted_column
from .transactions import execute_write


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
    if db.vendor != "postgresql" or not plain_fields(fields) or any(o.pk for o in objs):
        model._default_manager.bulk_create(
            objs,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=bool(update_fields),
            unique_fields=unique_fields or None,
            update_fields=update_fields or None,
        )
        return
    conflict = _on_conflict(db, model, ignore_conflicts, unique_fields, update_fields)
    returned = _insert_json(db, model, fields, _rows(objs, fields, adding=True), conflict)
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
    if db.vendor != "postgresql" or not plain_fields(fields):
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
    # the call on auto_now fields (dict merges, the cheap way for a page of rows).
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
    conflict = _on_conflict(db, model, ignore_conflicts, unique_fields, update_fields)
    return _insert_json(db, model, fields, json_ready, conflict, returning=returning)


def _insert_fields(model: type[Model]) -> list[Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _computes_on_save(field: Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _on_conflict(
    db: Any,
    model: type[Model],
    ignore_conflicts: bool,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> str:
    """The INSERT's ON CONFLICT clause: a row breaking a unique constraint is skipped
    (`ignore_conflicts`), or updates `update_fields` of the row it meets on `unique_fields`;
    none (an error) otherwise."""
    if ignore_conflicts:
        return " ON CONFLICT DO NOTHING"
    if not update_fields:
        return ""
    keys = ", ".join(quoted_column(db.alias, model, n) for n in unique_fields)
    sets = ", ".join(
        f"{c} = EXCLUDED.{c}" for c in (quoted_column(db.alias, model, n) for n in update_fields)
    )
    return f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"


def _insert_json(
    db: Any,
    model: type[Model],
    fields: Sequence[Field],
    rows: list[dict[str, Any]],
    conflict: str,
    *,
    returning: bool = True,
) -> list[Any]:
    """PostgreSQL: INSERT `rows` ({column: value}) as one JSON document, with the `conflict`
    clause (`_on_conflict`); the pks returned (`returning`), else sent with the transaction's
    other writes (`execute_write`)."""
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
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
    if db.vendor != "postgresql" or not plain_fields(chosen):
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
    progress after each page). Like `update()`, no `pre_save`."""
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
    for column in (quoted_column(alias, model, name) for name in added):
        sets.append(f"{column} = {column} + %s")
    if not sets:
        raise ValueError("nothing to update")
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s"  # noqa: S608 # nosec B608
    return sql, set_fields


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
