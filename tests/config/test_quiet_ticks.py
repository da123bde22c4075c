"""The once-a-second poll tick does not fill the logs: Celery's own lines about it (beat's
"Sending due task", the worker's "received" and "succeeded") are dropped below WARNING, through
the settings' LOGGING, while every other task's lines and the tick's failures still log."""

from __future__ import annotations

import logging

from celery import beat
from celery.app import trace

TICK = "wavespeed.tasks.poll_due_jobs"
OTHER = "generations.tasks.save_generation_outputs"


def _context(name: str) -> dict[str, object]:
    return {
        "id": "1",
        "name": name,
        "return_value": "{}",
        "runtime": 0.01,
        "args": "()",
        "kwargs": "{}",
        "eta": None,
    }


def test_the_ticks_celery_lines_are_dropped_and_others_kept(caplog) -> None:
    caplog.set_level(logging.INFO)
    trace.info(trace.LOG_SUCCESS, _context(TICK))
    trace.info(trace.LOG_RECEIVED, _context(TICK))
    beat.info("Scheduler: Sending due task %s (%s)", "poll-due-jobs", TICK)
    assert caplog.messages == []

    trace.info(trace.LOG_SUCCESS, _context(OTHER))
    logging.getLogger("celery.worker.strategy").info(trace.LOG_RECEIVED, _context(OTHER))
    beat.info("Scheduler: Sending due task %s (%s)", "resume-provider-jobs", OTHER)
    assert len(caplog.messages) == 3
    assert all(OTHER in message for message in caplog.messages)


def test_a_failing_tick_still_logs(caplog) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("celery.app.trace").error(
        trace.LOG_FAILURE, {**_context(TICK), "exc": "boom", "description": "raised"}
    )
    assert len(caplog.messages) == 1 and TICK in caplog.messages[0]
