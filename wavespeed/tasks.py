"""The job runner's Celery tasks: thin shells over `runner`, (kind, id) in, safe to run twice,
never sleeping."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import runner
from .client import Prediction


@shared_task(ignore_result=True)
def submit_job(kind: str, job_id: int) -> None:
    runner.submit(runner.kind_named(kind), job_id)


@shared_task(ignore_result=True)
def submit_due() -> None:
    runner.submit_due()


@shared_task(ignore_result=True)
def reconcile_job(kind: str, job_id: int) -> None:
    runner.reconcile(runner.kind_named(kind), job_id)


@shared_task(ignore_result=True)
def record_job_prediction(kind: str, job_id: int, prediction_id: str) -> None:
    runner.record_prediction(runner.kind_named(kind), job_id, prediction_id)


@shared_task(ignore_result=True)
def follow_job(kind: str, job_id: int, seq: int) -> None:
    runner.follow(runner.kind_named(kind), job_id, seq)


@shared_task(ignore_result=True)
def apply_webhook_result(kind: str, job_id: int, prediction: dict[str, Any]) -> None:
    """A webhook's final prediction (the fields `apply_final` reads), as the receiver queued it
    before it applied deliveries itself: kept so that messages still in the broker after an
    upgrade are applied."""
    runner.apply_webhook(runner.kind_named(kind), job_id, Prediction.from_json(prediction))


@shared_task(ignore_result=True)
def sweep_jobs() -> dict[str, int]:
    return runner.sweep()


@shared_task(ignore_result=True)
def poll_due_jobs() -> dict[str, int]:
    return runner.poll_due()
