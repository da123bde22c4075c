"""Celery tasks for “Create on Kling”: thin shells, ids in, safe to run twice, never sleeping."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def submit_kling_element(element_id: int) -> None:
    from .creation import kling_element_submit

    kling_element_submit(element_id=element_id)


@shared_task(ignore_result=True)
def follow_kling_element(element_id: int, seq: int, errors: int = 0) -> None:
    from .creation import kling_element_follow

    kling_element_follow(element_id=element_id, seq=seq, errors=errors)


@shared_task(ignore_result=True)
def sweep_kling_elements() -> dict[str, int]:
    from .creation import kling_elements_sweep

    return kling_elements_sweep()
