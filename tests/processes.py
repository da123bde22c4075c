"""A real Celery worker process for the end-to-end and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this process uses, for the worker to use too."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{db.get('HOST') or ''}{port}/{db['NAME']}"


def every_queue() -> str:
    """Every queue a task is sent to (config/settings/base.py routes them), comma-separated."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return ",".join(sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed}))


def purge_every_queue() -> None:
    """Drop the messages earlier tests left on every queue (Celery's `control.purge` empties
    only the queues this process has already sent to)."""
    from config.celery_app import app

    with app.connection_for_write() as connection:
        for queue in every_queue().split(","):
            connection.default_channel.queue_purge(queue)


# The Procfile's Celery workers as `start_worker(options=...)` takes them: one per queue, the
# scheduler inside the first (the Procfile gives it a process of its own).
PROCFILE_LAYOUT: dict[str, dict[str, object]] = {
    "worker": {"queues": "celery"},
    "submitter": {"queues": "submit", "beat": False, "pool": "threads", "concurrency": 8},
    "images": {"queues": "images", "beat": False, "concurrency": 2},
    "thumbnails": {"queues": "thumbnails", "beat": False, "concurrency": 2},
}


class WorkerProcess:
    """`celery worker -B` in its own process group, so a test can SIGKILL all of it. By default
    it consumes every queue; `queues` (with `beat`, `pool`, `concurrency`) makes it one of the
    Procfile's workers instead."""

    def __init__(
        self,
        *,
        simulator_url: str,
        log_dir: Path,
        extra_env: dict[str, str],
        queues: str | None = None,
        beat: bool = True,
        pool: str = "prefork",
        concurrency: int = 2,
    ) -> None:
        self.queues = queues or every_queue()
        self.beat = beat
        self.pool = pool
        self.concurrency = concurrency
        self.name = f"e2e-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            # This test process's broker, as it is (config/settings/test.py gives each xdist
            # process its own Redis database; `extra_env` may point at a Redis of the test's).
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "WAVESPEED_API_KEY": "",
            "WAVESPEED_BASE_URL": simulator_url,
            "DARKROOM_SWEEP_INTERVAL": "1",
            "DARKROOM_STALE_AFTER": "3",
            "DARKROOM_POLL_MAX": "2",
            "DARKROOM_POLL_BATCH": "1",
            "DARKROOM_POLL_TICK": "0.5",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.schedule = log_dir / f"{self.name}-beat-schedule"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        log = open(self.log_path, "wb")  # noqa: SIM115 - the process writes to it until it ends
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                *(["--beat", "--schedule", str(self.schedule)] if self.beat else []),
                "--queues",
                self.queues,
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{self.name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited at start:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"The worker was not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """Kill the worker and its pool at once, as a crash or an OOM kill would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_for(condition, *, timeout: float, interval: float = 0.2, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what or condition}")
