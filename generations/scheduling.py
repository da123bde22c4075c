"""Queueing a generation's save, and its images' thumbnails: always after the surrounding
transaction commits (through `wavespeed.timing.after_commit`, which holds the schedule every
provider job shares). Its provider steps are queued by the job runner (`wavespeed.runner`).

Tasks are imported lazily: services schedule tasks and tasks call services.
"""

from __future__ import annotations

from wavespeed import timing


def schedule_save(generation_id: int, countdown: float = 0) -> None:
    from .tasks import save_generation_outputs

    timing.after_commit(save_generation_outputs, countdown, generation_id)


def schedule_renditions(image_id: int, countdown: float = 0) -> None:
    """Queue the making of an image's thumbnails and placeholder (the `thumbnails` queue)."""
    from .tasks import make_image_renditions

    timing.after_commit(make_image_renditions, countdown, image_id)
