"""The embedded broker: kombu's file transport with exchange tables a killed process can't break.

kombu's file transport keeps each exchange's bindings (which queues a fanout reaches: the
workers' remote control, their replies, the event stream Flower follows) as one JSON file,
rewritten in place. A process killed between its write and its truncate, or two processes
creating the file at once (both open it for writing, which empties it before either holds the
lock), leave two JSON values in the file; every later read fails and `celery inspect`, Flower and
remote control stay broken until someone deletes the file by hand.

Here a table is rewritten whole into a temporary file and renamed over the old one (atomic on
POSIX), under an exclusive lock on a separate lock file, so a reader sees the old table or the new
one and a killed writer leaves only its temporary file. A table already damaged is read back
entry by entry (each binding is three strings) and written clean at the next change.
Registered for the `filesystem://` scheme by `lmsbridge.celery`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kombu.transport import filesystem

log = logging.getLogger(__name__)

Binding = filesystem.exchange_queue_t
_STRING = r'"(?:[^"\\]|\\.)*"'
_ENTRY = re.compile(rf"\[\s*({_STRING})\s*,\s*({_STRING})\s*,\s*({_STRING})\s*\]")


def read_bindings(text: str, *, source: str = "") -> list[Binding]:
    """The bindings of a table's text; a damaged table gives every whole entry it still holds
    (first occurrence kept, in order)."""
    if not text.strip():
        return []
    try:
        return [Binding(*entry) for entry in json.loads(text)]
    except (ValueError, TypeError):
        entries = [Binding(*(json.loads(part) for part in match.groups()))
                   for match in _ENTRY.finditer(text)]  # fmt: skip
        log.warning("broker table %s was damaged: %d bindings recovered", source, len(entries))
        return list(dict.fromkeys(entries))


class Channel(filesystem.Channel):
    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            return read_bindings(file.read_text(), source=file.name)
        except FileNotFoundError:
            return []

    @contextmanager
    def _table(self, exchange) -> Iterator[list[Binding]]:
        """The exchange's bindings, for change; written back (atomically) if changed."""
        file: Path = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        with open(f"{file}.lock", "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                text = file.read_text() if file.exists() else None
                before = read_bindings(text or "", source=file.name)
                bindings = list(before)
                yield bindings
                if bindings != before or text is None or text != json.dumps(before):
                    _replace(file, json.dumps(bindings))  # a damaged table is written clean
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = Binding(routing_key or "", pattern or "", queue or "")
        with self._table(exchange) as bindings:
            if binding not in bindings:
                bindings.insert(0, binding)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # The grandparent's delete (the virtual transport's in-memory state), not kombu's
        # in-place rewrite of the table.
        super(filesystem.Channel, self)._delete(queue, exchange, routing_key, pattern, *args,
                                                **kwargs)  # fmt: skip
        binding = Binding(routing_key or "", pattern or "", queue or "")
        if not self._exchange_file(exchange).exists():
            return
        with self._table(exchange) as bindings:
            if binding in bindings:
                bindings.remove(binding)


def _replace(file: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # the rename never lands before the content
        os.chmod(temporary, 0o644)  # as kombu's own files: readable by every process's user
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Transport(filesystem.Transport):
    Channel = Channel
    global_state = filesystem.Transport.global_state
