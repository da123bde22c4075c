"""Logging filters that LOGGING (config/settings/base.py) attaches to Celery's loggers."""

from __future__ import annotations

import logging
from collections.abc import Mapping

# Tasks queued every second or so by the scheduler: beat's "Sending due task" line and the
# worker's "received" and "succeeded" lines for them would be three lines a second, for ever,
# in `make run`'s terminal and in every deployment's logs. A failure (WARNING and above) still
# logs; what a tick did is in its own log lines (wavespeed.runner) when it did anything.
QUIET_TASKS = frozenset({"wavespeed.tasks.poll_due_jobs"})


class QuietTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        # Celery's worker passes a mapping ({"name": task, ...}); beat a tuple (entry, task).
        args = record.args
        values = args.values() if isinstance(args, Mapping) else (args or ())
        return not any(isinstance(value, str) and value in QUIET_TASKS for value in values)
