"""The local PostgreSQL and Redis the benchmarks use: one place for how they are reached."""

from __future__ import annotations

import os
import subprocess

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


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
