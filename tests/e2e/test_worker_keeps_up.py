"""A worker takes each task as soon as it is queued, on either broker. With the embedded one
(kombu's filesystem transport) Celery's blocking loop used to stall for 2 s once it held
`--concurrency` messages it had not yet acknowledged: two tasks queued together (the two sweeps
every second, a follow and a save) held up whatever came next, and a backlog grew."""

from __future__ import annotations

import re
import time

import pytest

from gallery.tasks import expire_share_links
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def test_pairs_of_tasks_queued_one_after_another_are_each_taken_at_once(start_worker) -> None:
    worker = start_worker()  # two slots, as `make run`'s worker

    def finished() -> int:
        return len(re.findall(r"expire_share_links\[[^\]]+\] succeeded", worker.log()))

    started = time.monotonic()
    for round_number in range(1, ROUNDS + 1):
        expire_share_links.delay()
        expire_share_links.delay()
        wait_for(lambda n=round_number: finished() == 2 * n, timeout=15, what="a pair of tasks")
    took = time.monotonic() - started
    # Each task takes a few milliseconds; the stalled loop took about 2 s a round.
    assert took < ROUNDS * 0.8, f"{took:.1f} s for {ROUNDS} rounds"
