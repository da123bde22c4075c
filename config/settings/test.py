"""Settings for `make test`: the same environment variables, plus speed-ups for tests."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, VAR_DIR, env_bool, s3_media_storage

# pytest-xdist runs the suite in processes named gw0, gw1, ... (PYTEST_XDIST_WORKER); each has
# its own test database (pytest-django adds the suffix), Redis database and folders, so one
# process purging its queues or flushing its database never touches another's. The worker
# processes the end-to-end tests start inherit the variable, or are given the broker's URL.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
XDIST_INDEX = int(XDIST_WORKER.removeprefix("gw") or "0")


def _redis_database_for_this_process(url: str) -> str:
    """REDIS_URL's database for gw0, the next lower ones (or higher, from 0) for gw1, gw2..."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or "0")
    db = base - XDIST_INDEX if base >= XDIST_INDEX else base + XDIST_INDEX
    return urlunsplit(parts._replace(path=f"/{db}"))


# Only a broker derived from REDIS_URL moves: a CELERY_BROKER_URL set outright (a test's own
# Redis, or the URL tests/processes.py gives a worker) is used as it is.
if (
    XDIST_INDEX
    and CELERY_BROKER_URL.startswith("redis://")
    and not os.environ.get("CELERY_BROKER_URL")
):
    CELERY_BROKER_URL = _redis_database_for_this_process(CELERY_BROKER_URL)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# django-axes stays on; this subclass only lets `client.login()` (which passes no request)
# through to ModelBackend. Every login through a view is watched as in production.
AUTHENTICATION_BACKENDS = [
    "tests.accounts.backends.AxesBackendAllowingClientLogin",
    "accounts.backends.ModelBackend",
]
# Always the database cache, whatever REDIS_URL says: each test's counters roll back with its
# transaction, and clearing a Redis cache would flush the broker's database too.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": CACHE_TABLE,  # noqa: F405
    }
}
# Local files in each test's own folder (tests/conftest.py), whatever AWS_STORAGE_BUCKET_NAME says:
# a bucket named in the shell is never a test's. The S3 tests (tests/e2e/test_s3_storage.py) start
# their worker with DARKROOM_TEST_S3=1 and the AWS_ variables of the S3 server they started, so
# the worker stores exactly as base.py configures S3.
STORAGES = {
    "default": (
        s3_media_storage()
        if env_bool("DARKROOM_TEST_S3", False)
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the Celery worker process of the end-to-end tests must see it. One per
    # test run, so two runs side by side do not delete each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# The test run has its own broker folder and beat schedule, apart from `make run`'s.
_TEST_BROKER = VAR_DIR / f"test-broker{XDIST_WORKER and '-' + XDIST_WORKER}"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_TEST_BROKER),
        "data_folder_out": str(_TEST_BROKER),
        "control_folder": str(_TEST_BROKER / "control"),
        "polling_interval": 0.1,
    }
    (_TEST_BROKER / "control").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(
    VAR_DIR / f"test-celerybeat-schedule{XDIST_WORKER and '-' + XDIST_WORKER}"
)

# Unit tests drive one `follow_job` task per poll through the `pipeline` fixture; the end-to-end
# workers (tests/processes.py) poll in batches, as base.py's default.
POLL_BATCH = env_bool("DARKROOM_POLL_BATCH", False)
