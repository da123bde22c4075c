"""The retry backoff: capped, jittered, never below a provider's Retry-After, and defined for
any number of attempts (a submit retried for a day is retried thousands of times)."""

from __future__ import annotations

import pytest

from wavespeed.timing import backoff


@pytest.mark.parametrize("attempt", [1, 2, 10, 1_025, 100_000])
def test_the_backoff_stays_within_its_cap_at_any_attempt(attempt: int) -> None:
    assert 0 < backoff(attempt, base=3.0, cap=3600.0) <= 3600.0


def test_the_backoff_grows_until_the_cap() -> None:
    assert backoff(1, base=3.0, cap=3600.0) <= 3.0 * 1.2
    assert 3.0 * 0.8 * 4 <= backoff(3, base=3.0, cap=3600.0) <= 3.0 * 1.2 * 4


def test_retry_after_is_a_floor() -> None:
    assert backoff(1, base=1.0, cap=60.0, retry_after=30.0) >= 30.0
