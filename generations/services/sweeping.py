"""Resuming generations whose next step was lost: a dead worker, a lost message, a new broker.

Every generation that is not final records in `next_step_at` when its next task should run.
Once that is STALE_AFTER_SECONDS in the past, the sweeper queues the step again. Every task
claims its row before acting, so a step queued twice still runs once.

The prompt enhancer's uses are swept here too (by its own module's rules), so GET views only
read.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from wavespeed import webhooks

from .. import scheduling
from ..models import Generation, Status
from .enhancing import enhancements_sweep
from .saving import SAVE_LEASE, remove_stale_downloads


def submit_lease() -> timedelta:
    """Longer than a submit can take (connect + answer): a claim this old belongs to a worker
    that died mid-request."""
    return timedelta(
        seconds=settings.WAVESPEED_CONNECT_TIMEOUT + settings.WAVESPEED_SUBMIT_TIMEOUT + 15
    )


def generations_sweep() -> dict[str, int]:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    counts = {"submit": 0, "reconcile": 0, "follow": 0, "save": 0}

    for pk in Generation.objects.filter(
        status=Status.QUEUED, submit_claimed_at__isnull=True, next_step_at__lt=stale
    ).values_list("pk", flat=True):
        scheduling.schedule_submit(pk)
        counts["submit"] += 1

    # A claim this old with no answer recorded: the worker died mid-request, so the request
    # may have arrived. Never resend blindly; ask the history.
    for pk in Generation.objects.filter(
        status=Status.QUEUED,
        submit_claimed_at__lt=now - submit_lease(),
        next_step_at__lt=stale,
    ).values_list("pk", flat=True):
        scheduling.schedule_reconcile(pk)
        counts["reconcile"] += 1

    for pk, seq in Generation.objects.filter(
        status__in=[Status.SUBMITTED, Status.PROCESSING], next_step_at__lt=stale
    ).values_list("pk", "poll_seq"):
        scheduling.schedule_follow(pk, seq, 0)
        counts["follow"] += 1

    for pk in (
        Generation.objects.filter(status=Status.SAVING, next_step_at__lt=stale)
        .filter(Q(save_claimed_at__isnull=True) | Q(save_claimed_at__lt=now - SAVE_LEASE))
        .values_list("pk", flat=True)
    ):
        scheduling.schedule_save(pk)
        counts["save"] += 1
    # A killed save's files are deleted when the save is taken again (every way out of saving
    # passes through a claim); temporary downloads of a killed worker are removed here.
    remove_stale_downloads()
    webhooks.forget_old_receipts()
    # The prompt enhancer's uses ride on this beat entry; element creations have their own.
    return {**counts, **enhancements_sweep()}
