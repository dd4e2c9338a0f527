"""Celery tasks: thin wrappers (ids in, one service call)."""
