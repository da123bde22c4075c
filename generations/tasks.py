"""Celery tasks: thin shells over the services. Ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def submit_generation(generation_id: int) -> None:
    services.generation_submit(generation_id=generation_id)


@shared_task(ignore_result=True)
def reconcile_submit(generation_id: int) -> None:
    services.generation_reconcile(generation_id=generation_id)


@shared_task(ignore_result=True)
def follow_generation(generation_id: int, seq: int) -> None:
    services.generation_follow(generation_id=generation_id, seq=seq)


@shared_task(ignore_result=True)
def save_generation_outputs(generation_id: int) -> None:
    services.generation_save_outputs(generation_id=generation_id)


@shared_task(ignore_result=True)
def sweep_stuck_generations() -> dict[str, int]:
    return services.generations_sweep()
