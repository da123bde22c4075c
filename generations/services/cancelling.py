"""Cancelling a generation that has not been sent to WaveSpeed yet."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from .. import state
from ..models import ErrorKind, Generation, Status


def generation_cancel(*, generation: Generation, by: AbstractBaseUser) -> bool:
    """Fail a queued generation as cancelled, free its hold and record it in the audit trail
    (state.fail). One conditional UPDATE claims it: only while it is queued, unclaimed by a
    submit and without a prediction id, so a submit under way (whose request may arrive) is
    never cancelled under it. False when it was too late."""
    return state.fail(
        generation.pk,
        kind=ErrorKind.CANCELLED,
        message=f"Cancelled by {by.get_username()} before it was sent to WaveSpeed.",
        by=by,
        only_from={Status.QUEUED},
        where=Q(submit_claimed_at__isnull=True, provider_id__isnull=True),
    )
