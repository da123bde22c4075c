"""The local PostgreSQL and Redis the benchmarks use: one place for how they are reached."""

from __future__ import annotations

import os
import subprocess

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"

# Variables of the calling shell that would point a benchmark's processes somewhere else (another
# database, broker, provider, bucket, public address or webhook secret): never passed on.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "WAVESPEED_API_KEY",
    "WAVESPEED_BASE_URL",
    "WAVESPEED_SIMULATOR_URL",
    "MEDIA_ROOT",
    "DARKROOM_VAR_DIR",
    "AWS_STORAGE_BUCKET_NAME",
    "DJANGO_SETTINGS_MODULE",
    "DARKROOM_PUBLIC_URL",
    "WAVESPEED_WEBHOOK_SECRET",
    "ALLOWED_HOSTS",
)


def clean_env() -> dict[str, str]:
    """This process's environment without SCRUBBED_ENV, for a benchmark's processes."""
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}


def psql(sql: str) -> None:
    """Run `sql` against the server's `postgres` database (CREATE/DROP DATABASE)."""
    subprocess.run(
        ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", "postgres", "-qc", sql],
        check=True,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )


def flush_redis(url: str) -> None:
    """Empty the Redis database `url` names (each benchmark has its own)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    client.close()
