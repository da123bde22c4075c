"""Creating a generation and sending it to WaveSpeed exactly once."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Action
from audit.services import record
from elements.models import Element, GenerationElement
from projects.models import Project
from references.services import reference_provider_url
from spend import services as spend
from wavespeed import timing, webhooks
from wavespeed.client import NetworkError, Prediction, RateLimitError, WaveSpeedError, get_client
from wavespeed.history import HistoryVerdict, search_history
from wavespeed.specs import KLING_IMAGE_O3

from .. import pricing, scheduling, state
from ..models import ErrorKind, Generation, GenerationReference, ResultType, Status
from ..references import references_visible_to

logger = logging.getLogger(__name__)

SUBMIT_RETRY_BASE_SECONDS = 2.0
# Look in the history a little after a lost answer, so the provider has recorded the task.
RECONCILE_DELAY_SECONDS = 3.0
RECONCILE_RETRY_CAP_SECONDS = 60.0
# A prediction in the history may carry a time up to this much before our claim (clocks differ).
HISTORY_SKEW = timedelta(minutes=2)
# Recording an accepted submit: tries on a fresh database connection before handing the
# prediction id to a task (which carries it through the broker).
RECORD_TRIES = 5
RECORD_RETRY_TASK_DELAY_SECONDS = 10.0


@dataclass(frozen=True)
class GenerationParams:
    prompt: str
    aspect_ratio: str = "auto"
    resolution: str = "1k"
    result_type: str = ResultType.SINGLE
    num_images: int = 1
    # The person's own prompt when `prompt` is the enhancer's suggestion they accepted.
    prompt_original: str = ""
    # ReferenceImage pks the owner may see, in the order they are sent (`<<<image_1>>>` first).
    references: tuple[int, ...] = ()
    # Elements, in the order they are sent (`<<<element_1>>>` first); the form checked them.
    elements: tuple[Element, ...] = ()


def build_payload(params: GenerationParams) -> dict[str, Any]:
    """The submit body, in the documented field names (docs/wavespeed.md)."""
    payload: dict[str, Any] = {
        "prompt": params.prompt,
        "aspect_ratio": params.aspect_ratio,
        "resolution": params.resolution,
        "result_type": params.result_type,
    }
    if params.result_type != ResultType.SERIES:
        # For a series the provider ignores num_images; not sending it keeps the record honest.
        payload["num_images"] = params.num_images
    if params.elements:
        # Kling's own item shape; WaveSpeed does not document it [inferred].
        payload["element_list"] = [
            {"element_id": element.kling_element_id} for element in params.elements
        ]
    return payload


@transaction.atomic
def generation_create(
    *, owner: AbstractBaseUser, params: GenerationParams, project: Project | None = None
) -> Generation:
    """Record a generation (personal, or in a project the caller checked they may generate in)
    and queue its submit."""
    price = pricing.price_per_image(params.resolution)
    generation = Generation.objects.create(
        owner=owner,
        project=project,
        model=KLING_IMAGE_O3,
        prompt=params.prompt,
        prompt_original=params.prompt_original,
        aspect_ratio=params.aspect_ratio,
        resolution=params.resolution,
        result_type=params.result_type,
        num_images=params.num_images,
        request_payload=build_payload(params),
        price_per_image=price,
        quoted_cost=price
        * pricing.held_images(
            num_images=params.num_images, series=params.result_type == ResultType.SERIES
        ),
        next_step_at=timezone.now(),
    )
    _link_references(generation, params.references)
    GenerationElement.objects.bulk_create(
        GenerationElement(generation=generation, element=element, position=position)
        for position, element in enumerate(params.elements)
    )
    # Raises BudgetExceeded, which rolls this transaction (and the generation) back.
    spend.reserve(subject=generation, amount=generation.quoted_cost)
    record(
        Action.GENERATION_CREATED,
        actor=owner,
        target=generation,
        project=project,
        after={
            "images": generation.num_images,
            "resolution": generation.resolution,
            "held": f"${generation.quoted_cost:.3f}",
        },
    )
    scheduling.schedule_submit(generation.pk)
    return generation


def _link_references(generation: Generation, reference_ids: tuple[int, ...]) -> None:
    """Link the references as they are, another person's too ("generate again" on a project
    member's generation): a used reference is protected from deletion, and its provider upload
    is shared by content hash."""
    visible = set(
        references_visible_to(generation.owner)
        .filter(pk__in=reference_ids)
        .values_list("pk", flat=True)
    )
    if visible != set(reference_ids):
        # The form only offers references the person may see; anything else is a bug upstream.
        raise ValueError("A generation may only use references its owner may see.")
    GenerationReference.objects.bulk_create(
        GenerationReference(generation=generation, reference_id=pk, position=position)
        for position, pk in enumerate(reference_ids)
    )


def generation_submit(*, generation_id: int) -> None:
    """Send a queued generation to WaveSpeed. Safe to run twice: only one run claims it."""
    if not _attach_reference_urls(generation_id):
        return
    now = timezone.now()
    claimed = Generation.objects.filter(
        pk=generation_id,
        status=Status.QUEUED,
        provider_id__isnull=True,
        submit_claimed_at__isnull=True,
    ).update(submit_claimed_at=now, submit_attempts=F("submit_attempts") + 1, updated_at=now)
    if not claimed:
        return
    generation = Generation.objects.get(pk=generation_id)
    try:
        prediction = get_client().submit(
            generation.model, generation.request_payload, webhook=webhooks.webhook_url()
        )
    except WaveSpeedError as exc:
        _submit_failed(generation, exc)
        return
    _adopt(generation, prediction)


def _attach_reference_urls(generation_id: int) -> bool:
    """Put the provider URLs of the references into the payload, uploading what is needed, and
    save it, so that the history reconcile compares what was really sent. False when the submit
    must stop here (not queued any more, retried later, or failed).

    Runs before the submit is claimed: uploads may take minutes, and the sweeper takes a claim
    older than the submit lease (`sweeping.submit_lease`) for a worker that died mid-submit,
    whose request may have arrived.
    Two runs at once both upload (the same bytes; harmless); only one then claims the submit."""
    generation = Generation.objects.filter(
        pk=generation_id,
        status=Status.QUEUED,
        provider_id__isnull=True,
        submit_claimed_at__isnull=True,
    ).first()
    if generation is None:
        return False
    links = list(
        GenerationReference.objects.filter(generation=generation)
        .select_related("reference")
        .order_by("position")
    )
    if not links:
        return True
    try:
        urls = [reference_provider_url(reference=link.reference) for link in links]
    except WaveSpeedError as exc:
        if exc.permanent:
            state.fail(
                generation.pk,
                kind=exc.kind,
                message=f"A reference image could not be uploaded to WaveSpeed: {exc.message}",
            )
        else:
            # Unclaimed, so count the attempt here: a failing upload must not retry forever.
            Generation.objects.filter(pk=generation.pk).update(
                submit_attempts=F("submit_attempts") + 1
            )
            generation.submit_attempts += 1
            _retry_submit_later(generation, exc)
        return False
    except OSError:
        logger.exception("Reference file of generation %s cannot be read", generation.pk)
        state.fail(
            generation.pk,
            kind=ErrorKind.INVALID,
            message="A reference image of this generation could not be read from storage.",
        )
        return False
    payload = {**generation.request_payload, "images": urls}
    Generation.objects.filter(pk=generation.pk, submit_claimed_at__isnull=True).update(
        request_payload=payload
    )
    return True


def _submit_failed(generation: Generation, exc: WaveSpeedError) -> None:
    if exc.permanent:
        state.fail(generation.pk, kind=exc.kind, message=exc.message)
        return
    if exc.maybe_sent:
        # The request may have reached WaveSpeed, which has no idempotency key: sending it again
        # could run (and bill) the generation twice. Keep the claim and ask the history first.
        logger.warning("Submit of generation %s has an unknown fate: %s", generation.pk, exc)
        with transaction.atomic():
            Generation.objects.filter(pk=generation.pk).update(
                next_step_at=timing.due_at(RECONCILE_DELAY_SECONDS),
                submit_retry_since=generation.submit_retry_since or timezone.now(),
                error_message=f"Checking whether WaveSpeed received the request ({exc.message}).",
            )
            scheduling.schedule_reconcile(generation.pk, RECONCILE_DELAY_SECONDS)
        return
    # Refused before anything was created (429, no connection): sending again is safe.
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    _retry_submit_later(generation, exc, retry_after=retry_after)


def _retry_window_over(generation: Generation) -> bool:
    since = generation.submit_retry_since
    return since is not None and (
        (timezone.now() - since).total_seconds() >= settings.SUBMIT_RETRY_WINDOW_SECONDS
    )


def _retry_submit_later(
    generation: Generation, exc: WaveSpeedError, *, retry_after: float | None = None
) -> None:
    """Nothing was created at WaveSpeed: send again after a backoff, for as long as the retry
    window (DARKROOM_SUBMIT_RETRY_WINDOW, from the first failure) lasts. The hold stays."""
    now = timezone.now()
    since = generation.submit_retry_since or now
    if _retry_window_over(generation):
        minutes = (now - since).total_seconds() / 60
        state.fail(
            generation.pk,
            kind=exc.kind,
            message=f"WaveSpeed did not take the request for {minutes:.0f} minutes "
            f"({generation.submit_attempts} tries), so it was given up; nothing was charged. "
            f"Last answer: {exc.message}",
        )
        return
    delay = timing.backoff(
        generation.submit_attempts,
        base=SUBMIT_RETRY_BASE_SECONDS,
        cap=settings.SUBMIT_RETRY_CAP_SECONDS,
        retry_after=retry_after,
    )
    with transaction.atomic():
        Generation.objects.filter(pk=generation.pk, status=Status.QUEUED).update(
            submit_claimed_at=None,
            submit_retry_since=since,
            next_step_at=timing.due_at(delay),
            error_kind=exc.kind,
            error_message=f"Waiting for WaveSpeed, which is not taking requests right now "
            f"({exc.message}). Trying again in {delay:.0f} s; your budget hold is kept.",
            updated_at=now,
        )
        scheduling.schedule_submit(generation.pk, delay)


def _adopt(generation: Generation, prediction: Prediction) -> None:
    """Record that WaveSpeed holds this generation as `prediction`, and start following it.

    The prediction id exists nowhere else yet (WaveSpeed bills it whether or not we remember
    it), so it is logged at once, and a write that fails on a lost database connection is
    tried again on a fresh one, then handed to a task that carries the id through the broker.
    """
    logger.info(
        "submit_accepted generation=%s uuid=%s model=%s prediction=%s",
        generation.pk,
        generation.uuid,
        generation.model,
        prediction.id,
    )
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            generation_record_prediction(generation_id=generation.pk, prediction_id=prediction.id)
            return
        except (OperationalError, InterfaceError) as exc:
            logger.warning(
                "submit_record_retry generation=%s prediction=%s attempt=%s error=%r",
                generation.pk,
                prediction.id,
                attempt,
                exc,
            )
            if connection.in_atomic_block:
                raise  # not ours to reconnect (a caller's transaction)
            connection.close()  # the next try opens a fresh connection
            if attempt < RECORD_TRIES:
                time.sleep(min(0.25 * 2**attempt, 4.0))
    logger.error(
        "submit_unrecorded generation=%s prediction=%s: the database is unreachable; a task "
        "will record it",
        generation.pk,
        prediction.id,
    )
    scheduling.schedule_record(generation.pk, prediction.id, RECORD_RETRY_TASK_DELAY_SECONDS)


def generation_record_prediction(*, generation_id: int, prediction_id: str) -> bool:
    """Move a generation WaveSpeed accepted as `prediction_id` to submitted and follow it.

    Idempotent through the row's state: a generation that already holds this prediction is
    left alone; one still queued (or parked as needing attention meanwhile) adopts it."""
    # With webhooks on, the first poll waits for the webhook (timing.first_poll_delay).
    first_poll = timing.first_poll_delay()
    with transaction.atomic():
        moved = state.move(
            generation_id,
            Status.SUBMITTED,
            provider_id=prediction_id,
            submitted_at=timezone.now(),
            submit_claimed_at=None,
            submit_retry_since=None,
            error_kind="",
            error_message="",
            next_step_at=timing.due_at(first_poll),
        )
        if moved:
            seq = Generation.objects.values_list("poll_seq", flat=True).get(pk=generation_id)
            scheduling.schedule_follow(generation_id, seq, first_poll)
            return True
    holder = Generation.objects.filter(pk=generation_id).values_list("provider_id", flat=True)
    if holder.first() != prediction_id:
        logger.error(
            "Generation %s got prediction %s but was no longer queued", generation_id, prediction_id
        )
    return False


def generation_reconcile(*, generation_id: int) -> None:
    """Settle a submit whose answer was lost, through the provider's prediction history.

    Found there: adopt it. Certainly absent: send again. The history cannot tell (its items carry
    no `input`, or it cannot be read): mark the generation as needing attention rather than risk
    a second, billed run.
    """
    generation = Generation.objects.filter(
        pk=generation_id,
        status=Status.QUEUED,
        provider_id__isnull=True,
        submit_claimed_at__isnull=False,
    ).first()
    if generation is None:
        return
    claimed_at = generation.submit_claimed_at
    try:
        verdict = _search_history(generation)
    except WaveSpeedError as exc:
        if exc.permanent or _retry_window_over(generation):
            _needs_attention(generation, f"the prediction history could not be read ({exc})")
            return
        Generation.objects.filter(pk=generation.pk).update(submit_attempts=F("submit_attempts") + 1)
        delay = timing.backoff(
            generation.submit_attempts + 1,
            base=RECONCILE_DELAY_SECONDS,
            cap=RECONCILE_RETRY_CAP_SECONDS,
        )
        with transaction.atomic():
            Generation.objects.filter(pk=generation.pk, submit_claimed_at=claimed_at).update(
                next_step_at=timing.due_at(delay),
                error_message="Waiting for WaveSpeed: checking whether it received the request "
                f"({exc.message}).",
            )
            scheduling.schedule_reconcile(generation.pk, delay)
        return
    if verdict.found is not None:
        logger.info("Generation %s found in history as %s", generation.pk, verdict.found.id)
        _adopt(generation, verdict.found)
    elif verdict.absent:
        # The history shows every prediction of that time with its input, and none is ours:
        # safe to send again (counts as an attempt).
        _retry_submit_later(
            generation,
            NetworkError(
                "WaveSpeed's history shows that the earlier request did not arrive",
                maybe_sent=False,
            ),
        )
    else:
        _needs_attention(generation, verdict.why)


def _search_history(generation: Generation) -> HistoryVerdict:
    """Look for our request among the predictions WaveSpeed created since just before the
    claim, skipping those that other generations own."""

    def taken(prediction_ids: list[str]) -> set[str]:
        return set(
            Generation.objects.filter(provider_id__in=prediction_ids)
            .exclude(pk=generation.pk)
            .values_list("provider_id", flat=True)
        )

    return search_history(
        get_client(),
        model=generation.model,
        payload=generation.request_payload,
        since=(generation.submit_claimed_at or generation.created_at) - HISTORY_SKEW,
        taken=taken,
    )


def _needs_attention(generation: Generation, why: str) -> None:
    state.move(
        generation.pk,
        Status.NEEDS_ATTENTION,
        source=Status.QUEUED,
        error_kind=ErrorKind.UNKNOWN_SUBMIT,
        error_message=f"The request to WaveSpeed may or may not have arrived, and {why}. "
        "It was not sent again, to avoid paying twice: check the WaveSpeed dashboard, then "
        "fail it or enter its prediction id in the admin.",
        submit_claimed_at=None,
        next_step_at=None,
    )


def adopt_prediction_id(
    *, generation_id: int, prediction_id: str, by: AbstractBaseUser | None = None
) -> None:
    """A person found the prediction of a generation that needs attention: follow it."""
    with transaction.atomic():
        moved = state.move(
            generation_id,
            Status.SUBMITTED,
            source=Status.NEEDS_ATTENTION,
            provider_id=prediction_id,
            submitted_at=timezone.now(),
            error_kind="",
            error_message="",
            next_step_at=timezone.now(),
        )
        if moved:
            generation = Generation.objects.select_related("project").get(pk=generation_id)
            record(
                Action.GENERATION_RETRIED,
                actor=by,
                target=generation,
                project=generation.project,
                after={"prediction": prediction_id},
                reason="followed again with a prediction id found by hand",
            )
            scheduling.schedule_follow(generation_id, generation.poll_seq, 0)
