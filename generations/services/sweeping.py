"""Resuming a generation's saves whose task was lost (a dead worker, a lost message, a new
broker). The job runner's sweeper (`wavespeed.runner.sweep`) calls this through the
generation's kind (`generations/jobs.py`); the provider steps are its own.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from wavespeed import timing

from .. import scheduling
from ..models import Generation, Status
from .saving import SAVE_LEASE, remove_stale_downloads


def _save_task_name() -> str:
    from ..tasks import save_generation_outputs

    return save_generation_outputs.name


def saves_sweep() -> dict[str, int]:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    saves = 0
    late = Generation.objects.filter(status=Status.SAVING, next_step_at__lt=stale).filter(
        Q(save_claimed_at__isnull=True) | Q(save_claimed_at__lt=now - SAVE_LEASE)
    )
    # While the images queue holds messages, a late save is most likely one of them, waiting
    # behind a burst of saves: queueing it again would only add a duplicate. A save whose
    # message was really lost is queued once the queue has drained.
    if timing.messages_waiting(_save_task_name()):
        late = late.none()
    for pk in late.values_list("pk", flat=True):
        scheduling.schedule_save(pk)
        saves += 1
    # A killed save's files are deleted when the save is taken again (every way out of saving
    # passes through a claim); temporary downloads of a killed worker are removed here.
    remove_stale_downloads()
    return {"generation_save": saves}
