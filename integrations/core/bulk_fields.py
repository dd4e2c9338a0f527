"""Which model fields a hand-written bulk statement may send as they are (`core.bulk_writes`,
`core.bulk_reads`), and the quoted column of a field.

A field whose Python value is what the database stores can go in a JSON document or an array
without the ORM preparing it; any other field (a subclass that stores something else, a
JSONField with its own encoder) leaves the statement to Django.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models
from django.db.models import Field, Model

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


def quoted_column(alias: str, model: type[Model], name: str) -> str:
    """The quoted column of `model`'s field `name` (or attname)."""
    return connections[alias].ops.quote_name(model._meta.get_field(name).column)


def plain_fields(fields: Sequence[Field]) -> bool:
    """Whether every field of `fields` is sent as its Python value (`PLAIN_FIELDS`)."""
    # A JSONField with its own encoder writes what that encoder makes of the value.
    return all(type(f) in PLAIN_FIELDS and getattr(f, "encoder", None) is None for f in fields)
