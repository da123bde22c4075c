"""Settings for `make test`: the same environment variables, plus speed-ups for tests."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR, env_bool, s3_media_storage

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
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker"),
        "data_folder_out": str(VAR_DIR / "test-broker"),
        "control_folder": str(VAR_DIR / "test-broker" / "control"),
        "polling_interval": 0.1,
    }
    (VAR_DIR / "test-broker" / "control").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "test-celerybeat-schedule")
