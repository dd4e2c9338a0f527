"""A page's lookups without compiling a query each time: `select_where` and `select_by` (a
queryset's `values_list`), `instances_where` (its instances), and `AnyOf` (`IN` as one array).

On PostgreSQL a statement is made once per shape (columns, filters, order) and each set of
values goes as one array (`= ANY(%s)`); elsewhere, and for fields whose stored value is not
their Python value (`core.bulk_fields`), it is the queryset.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from django.db import connections, models, router
from django.db.models import F, Lookup, Model
from django.db.models.functions import Lower
from django.db.models.lookups import In

from .bulk_fields import plain_fields, quoted_column


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
        or not plain_fields(fields)
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
        quoted = quoted_column(alias, model, name)
        return f"lower({quoted})" if name == lower else quoted

    where = [f"{column(name)} = %s" for name in equal]
    where += [f"{column(name)} = ANY(%s)" for name in any_of]
    selected = ", ".join(column(c) for c in columns)
    table = connections[alias].ops.quote_name(model._meta.db_table)
    order = f" ORDER BY {', '.join(column(c) for c in order_by)}" if order_by else ""
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    return f"SELECT {selected} FROM {table} WHERE {' AND '.join(where)}{order}"  # noqa: S608 # nosec B608


class AnyOf(Lookup):
    """`lhs IN (a page's values)`, sent on PostgreSQL as `lhs = ANY(%s)` with one array.

    Django writes `IN (%s, %s, …)`: a hundred literals that the server parses and the planner
    estimates one by one on every page, where one array is planned once (figures in
    BENCHMARKS.md). Used as an expression:
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
