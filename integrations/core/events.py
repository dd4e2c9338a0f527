"""Signals a run sends when it ends, so that what follows a run subscribes to it and the run's
code never imports its followers (a Udemy sync does not know the learning platforms)."""

from django.dispatch import Signal

# Sent with `sender=<run model>` and `run=<the run>` when a run went through its work
# (succeeded or partial). Receivers must not raise: the run is already closed.
run_completed = Signal()
