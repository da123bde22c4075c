"""Celery tasks: thin shells over the services. Ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def save_generation_outputs(generation_id: int) -> None:
    services.generation_save_outputs(generation_id=generation_id)


@shared_task(ignore_result=True)
def make_image_renditions(image_id: int) -> None:
    services.image_make_renditions(image_id=image_id)
