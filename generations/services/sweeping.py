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
from ..models import Generation, OutputImage, Renditions, Status
from .saving import SAVE_LEASE, remove_stale_downloads
from .thumbnailing import RENDITIONS_LEASE

# At most this many images a sweep queues thumbnails for (the rest at the next sweep).
RENDITIONS_SWEEP_LIMIT = 1000


def _save_task_name() -> str:
    from ..tasks import save_generation_outputs

    return save_generation_outputs.name


def _renditions_task_name() -> str:
    from ..tasks import make_image_renditions

    return make_image_renditions.name


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
    return {"generation_save": saves, "image_renditions": renditions_sweep()}


def renditions_sweep() -> int:
    """Queue the thumbnails of images stored more than STALE_AFTER ago and still without them,
    whose task was lost (a killed worker, a lost message); how many. Not while the thumbnails
    queue holds messages: a late image is then most likely one of them, waiting its turn."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    late = OutputImage.objects.filter(renditions=Renditions.PENDING, created_at__lt=stale).filter(
        Q(renditions_claimed_at__isnull=True) | Q(renditions_claimed_at__lt=now - RENDITIONS_LEASE)
    )
    if not late.exists():
        return 0
    if timing.messages_waiting(_renditions_task_name()):
        return 0
    pks = list(late.order_by("created_at").values_list("pk", flat=True)[:RENDITIONS_SWEEP_LIMIT])
    for pk in pks:
        scheduling.schedule_renditions(pk)
    return len(pks)
