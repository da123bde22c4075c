"""Darkroom's own system checks: `manage.py check`, and every command that runs the checks
(runserver, migrate, `make run`'s prepare step). Registered by config.apps.AdminConfig."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# UPDATE … RETURNING (wavespeed/runner.py update_returning: the job runner's claims) and the
# rate limits' upsert with RETURNING (accounts/throttling.py) came in SQLite 3.35.
SQLITE_MINIMUM = (3, 35, 0)


def sqlite_version() -> tuple[int, ...]:
    """The version of the SQLite library this Python's sqlite3 module uses."""
    return tuple(sqlite3.sqlite_version_info)


def sqlite_errors(*, engines: Iterable[str], version: tuple[int, ...]) -> list[CheckMessage]:
    """An error when a database is SQLite and `version` is older than SQLITE_MINIMUM."""
    if version >= SQLITE_MINIMUM or not any(e.endswith("sqlite3") for e in engines):
        return []
    have = ".".join(str(part) for part in version)
    return [
        Error(
            f"Darkroom needs SQLite 3.35 or newer (this Python has {have}): the job runner "
            "claims its jobs with UPDATE … RETURNING and the rate limits count with an upsert "
            "… RETURNING, which older versions do not have.",
            hint="Use a Python built with a newer SQLite (python.org's builds and current "
            "Linux distributions have one), or PostgreSQL through DATABASE_URL.",
            id="darkroom.E001",
        )
    ]


@register(Tags.compatibility)
def sqlite_new_enough(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    engines = [database["ENGINE"] for database in settings.DATABASES.values()]
    return sqlite_errors(engines=engines, version=sqlite_version())
