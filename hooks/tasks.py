"""Celery tasks: thin shells over the services. Ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver(delivery_id: int) -> None:
    """One attempt; after a failure the next is queued for when it is due."""
    if services.delivery_attempt(delivery_id=delivery_id):
        next_at = (
            services.Delivery.objects.filter(pk=delivery_id, status=services.DeliveryStatus.PENDING)
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if next_at is not None:
            deliver.apply_async((delivery_id,), eta=next_at)


@shared_task(ignore_result=True)
def sweep_deliveries() -> int:
    return services.deliveries_sweep()
