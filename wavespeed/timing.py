"""When to take the next step of a provider job, and queueing it after the commit.

The schedule every caller of the provider shares: capped exponential backoff with jitter (a
Retry-After is a floor), the poll schedule (read from the POLL_* settings) and the queueing of a
Celery task once the surrounding transaction commits.
"""

from __future__ import annotations

import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_COUNTDOWN_SECONDS = 600.0


class Task(Protocol):
    """What after_commit needs of a Celery task."""

    name: str

    def apply_async(self, *args: object, **kwargs: object) -> object: ...


def jittered(seconds: float, spread: float = 0.2) -> float:
    return max(0.0, seconds * random.uniform(1 - spread, 1 + spread))


def backoff(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Capped exponential backoff with jitter; a provider's Retry-After is a floor."""
    # The exponent stops growing long after the cap is reached: 2 ** 1024 is no float.
    delay = jittered(min(cap, base * (2 ** min(max(0, attempt - 1), 60))))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, max(cap, retry_after or 0))


def poll_delay(
    poll_number: int,
    *,
    first: float | None = None,
    factor: float | None = None,
    cap: float | None = None,
) -> float:
    """Wait before poll number `poll_number` (1 = the first look after the submit): `first`,
    growing by `factor`, at most `cap` (by default the POLL_* settings)."""
    first = settings.POLL_MIN_SECONDS if first is None else first
    factor = settings.POLL_FACTOR if factor is None else factor
    cap = settings.POLL_MAX_SECONDS if cap is None else cap
    raw = first * factor ** max(0, poll_number - 1)
    return jittered(min(cap, raw))


# Without webhooks, the first poll waits for this share of a run's typical time (the rest, and
# a run slower than usual, is covered by the polls that follow: POLL_PROCESSING_*).
TYPICAL_RUN_SHARE = 0.8


def first_poll_delay(
    *, expected: float | None = None, first: float | None = None, typical: float | None = None
) -> float:
    """Wait before the first poll after a submit. With webhooks on, polling is the fallback:
    it waits until the run should be over (`expected`, by default EXPECTED_RUN_SECONDS) plus
    WEBHOOK_GRACE_SECONDS, so a webhook that arrives makes the poll unneeded. Without, it waits
    `first`, or most of the `typical` run time of jobs like this one when that is longer: a
    10 s run is then polled twice or three times, not five."""
    from .webhooks import webhooks_enabled

    if webhooks_enabled():
        expected = settings.EXPECTED_RUN_SECONDS if expected is None else expected
        grace: float = settings.WEBHOOK_GRACE_SECONDS
        return expected + grace
    delay = poll_delay(1, first=first)
    if typical:
        delay = max(delay, jittered(TYPICAL_RUN_SHARE * typical, spread=0.1))
    return delay


def fallback_poll_floor() -> float:
    """The shortest wait between polls: WEBHOOK_GRACE_SECONDS with webhooks on, else 0."""
    from .webhooks import webhooks_enabled

    grace: float = settings.WEBHOOK_GRACE_SECONDS
    return grace if webhooks_enabled() else 0.0


def processing_poll_cap(seconds_processing: float) -> float:
    """The longest wait while the provider is working: a fifth of the time it has worked so far,
    at least POLL_PROCESSING_MIN_SECONDS. A finished prediction is noticed within ~20 % of its
    run time, while one waiting in `created` keeps the slow schedule."""
    fraction = settings.POLL_PROCESSING_FRACTION * seconds_processing
    return jittered(
        min(settings.POLL_MAX_SECONDS, max(settings.POLL_PROCESSING_MIN_SECONDS, fraction))
    )


def due_at(countdown: float) -> datetime:
    return timezone.now() + timedelta(seconds=countdown)


def after_commit(task: Task, countdown: float, *args: int | str | dict[str, Any]) -> None:
    """Queue `task` once the surrounding transaction commits.

    Countdowns stay far below the broker's visibility timeout (30 min), so a waiting task is
    never handed out twice by Redis. A broker that is down must not turn a committed step into
    an error (a web request would answer 500 for a generation and a hold that exist): the
    failure is logged, and the sweeper queues the step from its `next_step_at`.
    """
    countdown = min(countdown, MAX_COUNTDOWN_SECONDS)
    options: dict[str, float] = {"countdown": countdown} if countdown > 0 else {}

    def publish() -> None:
        try:
            task.apply_async(args=args, **options)
        except Exception:
            logger.warning(
                "Could not queue %s%r (the broker is unreachable); the sweeper will queue it "
                "when it is back",
                task.name,
                args,
                exc_info=True,
            )

    transaction.on_commit(publish)


def after_commit_once(task: Task, key: str, seconds: float) -> None:
    """Queue `task` (no arguments) once the surrounding transaction commits, unless `key` says
    one is queued or running already (`publish_once`)."""
    transaction.on_commit(lambda: publish_once(task, key, seconds))


def publish_once(task: Task, key: str, seconds: float, countdown: float = 0) -> None:
    """Queue `task` (no arguments) unless `key` says one is queued or running already: the key
    is set (in the cache, for `seconds` at most) when it is queued, and the task deletes it once
    it has nothing left to do. Never raises: a cache or broker that is down (one Redis, often)
    is logged, as `after_commit` does, and the sweeper queues the work when it is back."""
    from django.core.cache import cache

    try:
        if not cache.add(key, 1, timeout=seconds):
            return  # one is queued or running: it will find this work
    except Exception:
        logger.warning("Could not check %s in the cache; queueing it", key, exc_info=True)
    options: dict[str, float] = {"countdown": countdown} if countdown > 0 else {}
    try:
        task.apply_async(**options)
    except Exception:
        with contextlib.suppress(Exception):
            cache.delete(key)
        logger.warning(
            "Could not queue %s (the broker is unreachable); the sweeper will queue its work "
            "when it is back",
            task.name,
            exc_info=True,
        )


def queue_of(task_name: str) -> str:
    """The queue CELERY_TASK_ROUTES sends `task_name` to (the default queue when unrouted)."""
    route: dict[str, str] = settings.CELERY_TASK_ROUTES.get(task_name, {})
    queue: str = route.get("queue", settings.CELERY_TASK_DEFAULT_QUEUE)
    return queue


def messages_waiting(task_name: str) -> int | None:
    """How many messages wait in the broker's queue for `task_name` (not yet handed to a
    worker), or None when the broker cannot be asked. The sweepers ask before queueing a late
    step again: while a queue holds messages, a late step there is most likely one of them,
    waiting its turn behind a backlog, and a second copy would only be a duplicate."""
    from celery import current_app

    try:
        with current_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=queue_of(task_name))
            waiting: int = declared.message_count
            return waiting
    except Exception:
        logger.warning("Could not count the messages waiting for %s", task_name, exc_info=True)
        return None
