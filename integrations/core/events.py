"""Signals a run sends when it ends, so that what follows a run subscribes to it and the run's
code never imports its followers (a Udemy sync does not know the learning platforms)."""

from django.dispatch import Signal

# Sent with `sender=<run model>` and `run=<the run>` when a run went through its work
# (succeeded or partial). Receivers must not raise: the run is already closed.
run_completed = Signal()

# Sent (after the transaction commits) with `sender=<run model>` and `run=<the run>` whenever a
# run closes with a final status other than skipped: succeeded, partial, failed, timed out,
# closed by the reaper or by hand. Sent with `send_robust`: a receiver's error is logged only.
run_ended = Signal()

# Sent (after commit) with `sender=<owner model>`, `owner`, `old` and `new` (statuses) when a run
# moves its owner between Active and Error (entered Error, recovered).
owner_status_changed = Signal()
