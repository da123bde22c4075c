"""Celery tasks: thin shells over the services. Ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from wavespeed.client import Prediction

from . import services


@shared_task(ignore_result=True)
def submit_generation(generation_id: int) -> None:
    services.generation_submit(generation_id=generation_id)


@shared_task(ignore_result=True)
def reconcile_submit(generation_id: int) -> None:
    services.generation_reconcile(generation_id=generation_id)


@shared_task(ignore_result=True)
def record_submitted_prediction(generation_id: int, prediction_id: str) -> None:
    services.generation_record_prediction(generation_id=generation_id, prediction_id=prediction_id)


@shared_task(ignore_result=True)
def follow_generation(generation_id: int, seq: int) -> None:
    services.generation_follow(generation_id=generation_id, seq=seq)


@shared_task(ignore_result=True)
def apply_webhook_result(generation_id: int, prediction: dict[str, Any]) -> None:
    """A webhook's final prediction (the fields `apply_final` reads), queued by the receiver."""
    services.generation_apply_webhook(
        generation_id=generation_id, prediction=Prediction.from_json(prediction)
    )


@shared_task(ignore_result=True)
def save_generation_outputs(generation_id: int) -> None:
    services.generation_save_outputs(generation_id=generation_id)


@shared_task(ignore_result=True)
def sweep_stuck_generations() -> dict[str, int]:
    return services.generations_sweep()


# --- the prompt enhancer (issue 5) ---
@shared_task(ignore_result=True)
def submit_enhancement(enhancement_id: int, attempt: int = 1) -> None:
    from .services.enhancing import enhancement_submit

    enhancement_submit(enhancement_id=enhancement_id, attempt=attempt)


@shared_task(ignore_result=True)
def follow_enhancement(enhancement_id: int, seq: int, errors: int = 0) -> None:
    from .services.enhancing import enhancement_follow

    enhancement_follow(enhancement_id=enhancement_id, seq=seq, errors=errors)
