"""Celery tasks: thin shells over the services. Ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import Delivery, DeliveryStatus


@shared_task(ignore_result=True)
def deliver(delivery_id: int) -> None:
    """One attempt; after a failure the next is queued for when it is due (and the sweeper
    queues it again should this message be lost)."""
    if services.delivery_attempt(delivery_id=delivery_id):
        next_at = (
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if next_at is not None:
            deliver.apply_async((delivery_id,), eta=next_at)


@shared_task(ignore_result=True)
def sweep_deliveries() -> int:
    return services.deliveries_sweep()
