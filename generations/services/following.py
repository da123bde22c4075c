"""Following a submitted prediction to its end: WaveSpeed's webhook, or one short poll task at
a time. Both hand a final prediction to `apply_final`.

Nothing sleeps: each poll is a task queued with a countdown that grows from POLL_MIN_SECONDS to
POLL_MAX_SECONDS, so a worker slot is free while WaveSpeed works, and a prediction that waits in
`created` behind the account's concurrency limit is looked at rarely but never given up early.
Each poll carries a sequence number and claims the row by advancing it, so when the sweeper
restarts a chain that only looked lost, the two chains cannot both go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from spend import services as spend
from wavespeed import timing, webhooks
from wavespeed.client import NotFoundError, Prediction, RateLimitError, WaveSpeedError, get_client

from .. import scheduling, state
from ..models import ErrorKind, Generation, ResultVia, Status

logger = logging.getLogger(__name__)

# Consecutive failed polls (429, 5xx, network) before we stop: about half an hour of backoff.
MAX_POLL_ERRORS = 12
POLL_ERROR_BASE_SECONDS = 2.0
POLL_ERROR_CAP_SECONDS = 300.0
# WaveSpeed accepted this prediction, so a 404 is read again before it is believed: a provider
# restart or a lagging replica can answer 404 for a moment.
NOT_FOUND_CONFIRM_SECONDS = 5.0


# The statuses in which a prediction's end may still be applied.
FOLLOWED = (Status.SUBMITTED, Status.PROCESSING)


class Applied(StrEnum):
    """What the receiver did with a verified webhook delivery."""

    QUEUED = "queued"  # a followed generation's end: handed to `apply_webhook_result`
    UNKNOWN = "unknown"  # no generation holds this prediction (yet, or ever)
    IGNORED = "ignored"  # already ended (or changed under us), or not final


# The fields of a prediction `apply_final` reads: what the hand-off task carries, so its message
# stays small (a delivery's `input` can hold a long prompt and many reference URLs).
_HANDED_OFF = ("id", "model", "status", "outputs", "has_nsfw_contents", "error", "code", "timings")


def generation_follow(*, generation_id: int, seq: int) -> None:
    now = timezone.now()
    claimed = Generation.objects.filter(pk=generation_id, poll_seq=seq, status__in=FOLLOWED).update(
        poll_seq=seq + 1, poll_count=F("poll_count") + 1, updated_at=now
    )
    if not claimed:
        return
    generation = Generation.objects.get(pk=generation_id)
    try:
        prediction = get_client().get_result(generation.provider_id)
    except WaveSpeedError as exc:
        _poll_failed(generation, exc)
        return
    if prediction.is_final:
        apply_final(generation, prediction, via=ResultVia.POLL)
    else:
        _still_running(generation, prediction)


def generation_apply_webhook(*, generation_id: int, prediction: Prediction) -> bool:
    """A prediction's end as WaveSpeed's webhook told it: applied exactly as a poll's answer
    (the task the receiver queued calls this). True when it was applied.

    Claimed like a poll, by advancing `poll_seq`, so the poll waiting as the fallback (and any
    poll restarted by the sweeper) finds its claim gone and does nothing; a duplicate or late
    delivery finds the generation ended and changes nothing, and a poll that was already
    asking WaveSpeed finds it ended when it applies its answer (`apply_final` only moves a
    followed generation, `_still_claimed` schedules no next poll). Safe to run twice."""
    generation = Generation.objects.filter(pk=generation_id, provider_id=prediction.id).first()
    if generation is None or not prediction.is_final:
        return False
    claimed = Generation.objects.filter(
        pk=generation.pk, poll_seq=generation.poll_seq, status__in=FOLLOWED
    ).update(poll_seq=generation.poll_seq + 1, updated_at=timezone.now())
    if not claimed:
        return False
    generation.poll_seq += 1
    apply_final(generation, prediction, via=ResultVia.WEBHOOK)
    return True


def apply_final(generation: Generation, prediction: Prediction, *, via: ResultVia) -> None:
    """Apply a final prediction state, from a poll or a webhook, to a generation its caller
    claimed. Every move only leaves a followed status, so applying it twice changes nothing."""
    if prediction.is_completed:
        _completed(generation, prediction, via)
    else:
        _prediction_failed(generation, prediction, via)


def _completed(generation: Generation, prediction: Prediction, via: ResultVia) -> None:
    outputs = [str(url) for url in prediction.outputs]
    if not outputs:
        state.fail(
            generation.pk,
            kind=ErrorKind.PREDICTION,
            message="WaveSpeed reported the prediction completed but sent no images.",
            cost=0,
            only_from=FOLLOWED,
            result_via=via,
        )
        return
    nsfw = [bool(flag) for flag in prediction.has_nsfw_contents]
    generation.output_urls = outputs
    with transaction.atomic():
        moved = state.move(
            generation.pk,
            Status.SAVING,
            only_from=FOLLOWED,
            output_urls=outputs,
            nsfw_flags=nsfw,
            inference_ms=prediction.inference_ms,
            completed_at=timezone.now(),
            processing_at=generation.processing_at or timezone.now(),
            cost=generation.cost_of_outputs(),
            poll_errors=0,
            error_kind="",
            error_message="",
            next_step_at=timezone.now(),
            result_via=via,
        )
        if moved:
            spend.settle(subject=Generation.objects.get(pk=generation.pk))
            scheduling.schedule_save(generation.pk)


def _prediction_failed(generation: Generation, prediction: Prediction, via: ResultVia) -> None:
    reason = prediction.error or f"The prediction ended as '{prediction.status}'."
    code = f" (code {prediction.error_code})" if prediction.error_code else ""
    # WaveSpeed refunds failed predictions: no cost is counted.
    state.fail(
        generation.pk,
        kind=ErrorKind.PREDICTION,
        message=f"WaveSpeed could not make the images{code}: {reason}",
        code=prediction.error_code,
        cost=0,
        inference_ms=prediction.inference_ms,
        only_from=FOLLOWED,
        result_via=via,
    )


def _still_claimed(generation: Generation) -> QuerySet[Generation]:
    """The row, if this poll's claim still holds: a webhook applied meanwhile (advancing
    `poll_seq`, ending the generation) must not get a next poll or lose its fields."""
    return Generation.objects.filter(
        pk=generation.pk, poll_seq=generation.poll_seq, status__in=FOLLOWED
    )


def _still_running(generation: Generation, prediction: Prediction) -> None:
    now = timezone.now()
    started = generation.submitted_at or generation.created_at
    if (now - started).total_seconds() > settings.FOLLOW_GIVE_UP_SECONDS:
        state.fail(
            generation.pk,
            kind=ErrorKind.TIMEOUT,
            message=f"WaveSpeed had not finished after "
            f"{settings.FOLLOW_GIVE_UP_SECONDS / 3600:.0f} hours (status "
            f"'{prediction.status}'); gave up following it.",
            only_from=FOLLOWED,
        )
        return
    delay = timing.poll_delay(generation.poll_count + 1)
    if prediction.status == "processing":
        working = (now - (generation.processing_at or now)).total_seconds()
        delay = min(delay, timing.processing_poll_cap(working))
    # With webhooks on, polls are the fallback: never closer together than the grace.
    delay = max(delay, timing.fallback_poll_floor())
    with transaction.atomic():
        if prediction.status == "processing" and generation.status == Status.SUBMITTED:
            state.move(generation.pk, Status.PROCESSING, source=Status.SUBMITTED, processing_at=now)
        if _still_claimed(generation).update(
            next_step_at=timing.due_at(delay), poll_errors=0, error_kind="", error_message=""
        ):
            scheduling.schedule_follow(generation.pk, generation.poll_seq, delay)


def _poll_failed(generation: Generation, exc: WaveSpeedError) -> None:
    errors = generation.poll_errors + 1
    if isinstance(exc, NotFoundError) and generation.error_kind != ErrorKind.NOT_FOUND:
        # The first 404 for a prediction WaveSpeed accepted: read it once more before failing.
        logger.warning("Generation %s: WaveSpeed answered 404; reading it again", generation.pk)
        with transaction.atomic():
            if _still_claimed(generation).update(
                poll_errors=errors,
                error_kind=ErrorKind.NOT_FOUND,
                next_step_at=timing.due_at(NOT_FOUND_CONFIRM_SECONDS),
            ):
                scheduling.schedule_follow(
                    generation.pk, generation.poll_seq, NOT_FOUND_CONFIRM_SECONDS
                )
        return
    if exc.permanent or errors > MAX_POLL_ERRORS:
        state.fail(
            generation.pk,
            kind=exc.kind,
            message=f"Could not read the prediction's result from WaveSpeed: {exc.message}",
            only_from=FOLLOWED,
        )
        return
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    delay = timing.backoff(
        errors, base=POLL_ERROR_BASE_SECONDS, cap=POLL_ERROR_CAP_SECONDS, retry_after=retry_after
    )
    logger.warning("Poll %s of generation %s failed: %s", errors, generation.pk, exc)
    with transaction.atomic():
        if _still_claimed(generation).update(
            poll_errors=errors, error_kind="", next_step_at=timing.due_at(delay)
        ):
            scheduling.schedule_follow(generation.pk, generation.poll_seq, delay)


def webhook_receive(headers: Mapping[str, str], body: bytes) -> Applied:
    """Verify a WaveSpeed webhook delivery, record it, and hand a followed generation's end to a
    task: the request does one INSERT and one indexed SELECT, so WaveSpeed gets its answer at
    once. Raises WebhookRejected (or WebhookReplayed) and SecretUnavailable as
    `webhooks.receive` does.

    The task is published after the commit (`scheduling.schedule_apply_webhook`), so it never
    runs before the receipt and never for a delivery that was rolled back. If the publish is
    lost (broker down, process killed between the commit and the publish), the receipt makes
    WaveSpeed's retry a replay, but the result is not lost: nothing was claimed here, so the
    fallback poll queued at submit (and the sweeper, from `next_step_at`) still reads it."""
    with transaction.atomic():
        delivery = webhooks.receive(headers, body)
        prediction = delivery.prediction
        outcome = Applied.IGNORED
        if prediction.is_final:
            found = (
                Generation.objects.filter(provider_id=prediction.id)
                .values_list("pk", "model", "status")
                .first()
            )
            if found is None or (prediction.model and prediction.model != found[1]):
                outcome = Applied.UNKNOWN
            elif found[2] in FOLLOWED:
                data = json.loads(body)
                payload = {key: data[key] for key in _HANDED_OFF if key in data}
                scheduling.schedule_apply_webhook(found[0], payload)
                outcome = Applied.QUEUED
    logger.info(
        "webhook %s prediction=%s status=%s: %s",
        delivery.webhook_id,
        prediction.id,
        prediction.status,
        outcome.value,
    )
    return outcome
