"""The system check that stops Darkroom on an SQLite older than 3.35 (no UPDATE … RETURNING),
naming the version this Python has."""

from __future__ import annotations

import re

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from config import checks

SQLITE = "django.db.backends.sqlite3"
POSTGRES = "django.db.backends.postgresql"


def test_an_sqlite_older_than_3_35_is_an_error_naming_its_version():
    [error] = checks.sqlite_errors(engines=[SQLITE], version=(3, 31, 1))
    assert isinstance(error, Error) and error.id == "darkroom.E001"
    assert error.msg.startswith("Darkroom needs SQLite 3.35 or newer (this Python has 3.31.1): ")
    assert "DATABASE_URL" in error.hint


@pytest.mark.parametrize(
    ("engines", "version"),
    [([SQLITE], (3, 35, 0)), ([SQLITE], (3, 45, 1)), ([POSTGRES], (3, 31, 1))],
)
def test_a_new_enough_sqlite_or_none_at_all_is_fine(engines, version):
    assert checks.sqlite_errors(engines=engines, version=version) == []


def test_the_check_runs_with_every_command_that_checks(monkeypatch):
    monkeypatch.setattr(checks, "sqlite_version", lambda: (3, 34, 1))
    on_sqlite = connection.vendor == "sqlite"
    assert ("darkroom.E001" in {m.id for m in run_checks()}) == on_sqlite
    if on_sqlite:
        with pytest.raises(SystemCheckError, match=re.escape("this Python has 3.34.1")):
            call_command("check")
    monkeypatch.setattr(checks, "sqlite_version", lambda: (3, 35, 0))
    assert "darkroom.E001" not in {m.id for m in run_checks()}
