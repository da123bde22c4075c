"""The site's fixed-window counter (accounts.throttling.window_wait) under threads counting at
the same moment: exactly `limit` are let through, with the database cache (its own table, one
upsert a count) and with Redis (SET NX and INCR), the two caches the settings allow."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from accounts.models import WindowCount
from accounts.throttling import window_wait

LIMIT = 7
THREADS = 24


def count_at_once(key: str) -> list[int | None]:
    start = threading.Barrier(THREADS)
    waits: list[int | None] = []
    failures: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            waits.append(window_wait(key, limit=LIMIT, window=3600))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return waits


@pytest.mark.django_db(transaction=True)
def test_the_database_cache_lets_exactly_the_limit_through():
    waits = count_at_once("test:burst")
    assert waits.count(None) == LIMIT
    refused = [wait for wait in waits if wait is not None]
    assert len(refused) == THREADS - LIMIT
    assert all(0 < wait <= 3600 for wait in refused)
    (row,) = WindowCount.objects.filter(key__startswith="test:burst:")
    assert row.count == THREADS


@pytest.mark.django_db(transaction=True)
def test_a_new_window_forgets_the_windows_that_are_over():
    assert window_wait("test:short", limit=1, window=1) is None
    WindowCount.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert window_wait("test:other", limit=1, window=1) is None
    (key,) = WindowCount.objects.values_list("key", flat=True)
    assert key.startswith("test:other:")


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_redis_lets_exactly_the_limit_through():
    prefix = f"test-window-{uuid.uuid4().hex}"
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=redis_cache):
        try:
            waits = count_at_once("test:burst")
        finally:
            # Only this test's keys: clear() would flush the broker's database too.
            client = caches["default"]._cache.get_client(write=True)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
    assert waits.count(None) == LIMIT
    assert all(0 < wait <= 3600 for wait in waits if wait is not None)
