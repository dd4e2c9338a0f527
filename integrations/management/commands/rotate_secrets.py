"""Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), run this
command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from integrations.core import crypto
from integrations.core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all secrets with the newest key."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        from django.apps import apps

        total = 0
        for model in apps.get_models():
            for field in model._meta.fields:
                if isinstance(field, EncryptedTextField):
                    total += self._rotate(model, field)
        self.stdout.write(f"Re-encrypted {total} secret(s) with the first key.")

    def _rotate(self, model, field) -> int:
        # Work on the stored tokens directly: decrypting to the model and saving would go
        # through the same keys anyway, but this never holds plaintext outside crypto.
        table, column = model._meta.db_table, field.column
        qn = connection.ops.quote_name
        count = 0
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('id')}, {qn(column)} FROM {qn(table)} "  # noqa: S608 - names from _meta
                f"WHERE {qn(column)} <> ''"
            )
            for pk, token in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn('id')} = %s",  # noqa: S608
                    [crypto.rotate(token), pk],
                )
                count += 1
        return count
