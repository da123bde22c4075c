"""`celery beat` as the Procfile runs it, on a fresh clone with Redis as the broker.

It keeps its schedule in var/, which only the filesystem broker used to create: with REDIS_URL
set and no var/ yet, beat crashed at start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import ROOT


def test_beat_starts_on_a_fresh_clone_with_redis_as_the_broker(tmp_path: Path) -> None:
    var = tmp_path / "fresh-clone" / "var"  # does not exist yet
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DARKROOM_VAR_DIR": str(var),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # beat need not reach it to start
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("CELERY_BROKER_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    schedule = var / "celerybeat-schedule"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if list(var.glob("celerybeat-schedule*")):
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[0]
        assert list(var.glob(f"{schedule.name}*")), "beat wrote no schedule"
    finally:
        process.terminate()
        process.wait(timeout=15)
