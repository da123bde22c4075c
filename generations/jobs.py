"""A generation as a job of the runner (`wavespeed.runner`): what it sends to Kling Image O3 and
what it does with the result. Submitting, following, giving up and sweeping are the runner's.

Before the claim, the references' provider URLs are put into the saved payload (uploading what
is needed), so the history reconcile compares what was really sent. A completed prediction moves
the generation to saving (its charge settled, the save queued); a failure fails it through
`state.fail`, which frees its hold.
"""

from __future__ import annotations

import logging
import statistics
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from references.services import reference_provider_url
from spend import services as spend
from wavespeed import runner
from wavespeed.client import Prediction, Timeouts, WaveSpeedError
from wavespeed.runner import Failure, Timings
from wavespeed.specs import KLING_IMAGE_O3

from . import scheduling, state
from .models import ErrorKind, Generation, GenerationReference, Status

logger = logging.getLogger(__name__)

# The statuses in which a prediction's end may still be applied.
FOLLOWED = (Status.SUBMITTED, Status.PROCESSING)
SUBMIT_RETRY_BASE_SECONDS = 2.0
# Consecutive failed polls (429, 5xx, network) before we stop: about half an hour of backoff.
MAX_POLL_ERRORS = 12
POLL_ERROR_BASE_SECONDS = 2.0
POLL_ERROR_CAP_SECONDS = 300.0


def submit_lease_seconds() -> float:
    """Longer than a submit can take (a free connection, connect, answer): a claim this old
    belongs to a worker that died mid-request. References are uploaded before the claim."""
    return float(
        Timeouts.pool + settings.WAVESPEED_CONNECT_TIMEOUT + settings.WAVESPEED_SUBMIT_TIMEOUT + 15
    )


# The runs a typical time is taken from (the latest of the same shape), and how long it is kept
# in each process before it is read again.
TYPICAL_SAMPLE = 50
TYPICAL_TTL_SECONDS = 60.0
_typical: dict[tuple[str, int], tuple[float, float | None]] = {}


def typical_run_seconds(resolution: str, num_images: int) -> float | None:
    """The median time from submit to result of the latest finished generations of this
    resolution and image count (None before there are five). Read once a minute per process."""
    key = (resolution, num_images)
    now = time.monotonic()
    cached = _typical.get(key)
    if cached and now - cached[0] < TYPICAL_TTL_SECONDS:
        return cached[1]
    spans = [
        (completed - submitted).total_seconds()
        for submitted, completed in Generation.objects.filter(
            resolution=resolution,
            num_images=num_images,
            status=Status.DONE,
            submitted_at__isnull=False,
            completed_at__isnull=False,
        )
        .order_by("-pk")
        .values_list("submitted_at", "completed_at")[:TYPICAL_SAMPLE]
    ]
    typical = statistics.median(spans) if len(spans) >= 5 else None
    _typical[key] = (now, typical)
    return typical


class GenerationJob(runner.JobKind):
    name = "generation"
    model = Generation
    provider_model = KLING_IMAGE_O3

    def awaiting_submit(self) -> Q:
        return Q(status=Status.QUEUED)

    def followed(self) -> Q:
        return Q(status__in=FOLLOWED)

    def batch_submittable(self) -> Q:
        # References may need uploading first (`prepare`): those are sent one task each.
        return ~Exists(GenerationReference.objects.filter(generation=OuterRef("pk")))

    def typical_run_seconds(self, job: Generation) -> float | None:
        return typical_run_seconds(job.resolution, job.num_images)

    def timings(self) -> Timings:
        return Timings(
            expected_run=settings.EXPECTED_RUN_SECONDS,
            poll_first=settings.POLL_MIN_SECONDS,
            poll_factor=settings.POLL_FACTOR,
            poll_cap=settings.POLL_MAX_SECONDS,
            give_up=settings.FOLLOW_GIVE_UP_SECONDS,
            submit_retry_base=SUBMIT_RETRY_BASE_SECONDS,
            submit_retry_cap=settings.SUBMIT_RETRY_CAP_SECONDS,
            max_submit_attempts=None,
            submit_retry_window=settings.SUBMIT_RETRY_WINDOW_SECONDS,
            max_poll_errors=MAX_POLL_ERRORS,
            poll_error_base=POLL_ERROR_BASE_SECONDS,
            poll_error_cap=POLL_ERROR_CAP_SECONDS,
            stale_after=settings.STALE_AFTER_SECONDS,
            submit_lease=submit_lease_seconds(),
        )

    # --- what it sends
    def prepare(self, job: Generation) -> bool:
        return _attach_reference_urls(job)

    def payload(self, job: Generation) -> dict[str, Any]:
        return dict(job.request_payload)

    def model_of(self, job: Generation) -> str:
        return job.model

    # --- its moves
    def start_following(self, job_id: int, fields: dict[str, Any]) -> bool:
        # From queued, or from needs-attention when the prediction turned up meanwhile.
        return state.move(job_id, Status.SUBMITTED, error_message="", **fields)

    def note_processing(self, job: Generation, now: datetime) -> None:
        if job.status == Status.SUBMITTED:
            state.move(job.pk, Status.PROCESSING, source=Status.SUBMITTED, processing_at=now)

    def note_processing_many(self, jobs: list[Generation], now: datetime) -> None:
        # One UPDATE for a poll tick's worth (a move between two followed statuses: nothing
        # is emitted for it, see events.on_move).
        ids = [job.pk for job in jobs if job.status == Status.SUBMITTED]
        if ids:
            state.move_many(ids, Status.PROCESSING, source=Status.SUBMITTED, processing_at=now)

    def note_fields(self, kind: str, message: str) -> dict[str, Any]:
        return {"error_kind": kind, "error_message": message}

    def touch(self) -> dict[str, Any]:
        return {"updated_at": timezone.now()}

    def on_success(self, job: Generation, prediction: Prediction, *, via: str) -> None:
        outputs = [str(url) for url in prediction.outputs]
        if not outputs:
            state.fail(
                job.pk,
                kind=ErrorKind.PREDICTION,
                message="WaveSpeed reported the prediction completed but sent no images.",
                cost=0,
                only_from=FOLLOWED,
                result_via=via,
            )
            return
        nsfw = [bool(flag) for flag in prediction.has_nsfw_contents]
        job.output_urls = outputs
        now = timezone.now()
        cost = job.cost_of_outputs()
        # No savepoint when a webhook's transaction holds this: an error rolls that back whole.
        with transaction.atomic(savepoint=False):
            moved = state.move(
                job.pk,
                Status.SAVING,
                only_from=FOLLOWED,
                output_urls=outputs,
                nsfw_flags=nsfw,
                inference_ms=prediction.inference_ms,
                completed_at=now,
                processing_at=job.processing_at or now,
                cost=cost,
                poll_errors=0,
                error_kind="",
                error_message="",
                next_step_at=now,
                result_via=via,
                updated_at=now,
            )
            if moved:
                # The row as claimed, with its cost: settle takes the payer and month from it
                # (neither ever changes) and the project from the hold, so a move while the
                # request was out changes nothing (no second SELECT).
                job.cost = cost
                spend.settle(subject=job)
                scheduling.schedule_save(job.pk)

    def on_failure(self, job_id: int, failure: Failure) -> bool:
        fields: dict[str, Any] = {}
        message = failure.message
        code = None
        if failure.prediction is not None:
            prediction = failure.prediction
            reason = prediction.error or f"The prediction ended as '{prediction.status}'."
            shown = f" (code {prediction.error_code})" if prediction.error_code else ""
            message = f"WaveSpeed could not make the images{shown}: {reason}"
            code = prediction.error_code
            # WaveSpeed refunds failed predictions: no cost is counted.
            fields.update(cost=0, inference_ms=prediction.inference_ms)
        if failure.via:
            fields["result_via"] = failure.via
        return state.fail(
            job_id,
            kind=failure.kind,
            message=message,
            code=code,
            only_from=FOLLOWED if failure.followed else None,
            **fields,
        )

    def needs_attention(self, job: Generation, why: str) -> None:
        state.move(
            job.pk,
            Status.NEEDS_ATTENTION,
            source=Status.QUEUED,
            error_kind=ErrorKind.UNKNOWN_SUBMIT,
            error_message=f"The request to WaveSpeed may or may not have arrived, and {why}. "
            "It was not sent again, to avoid paying twice: check the WaveSpeed dashboard, then "
            "fail it or enter its prediction id in the admin.",
            submit_claimed_at=None,
            next_step_at=None,
        )

    def sweep_extra(self) -> dict[str, int]:
        from .services.sweeping import saves_sweep

        return saves_sweep()


GENERATION = GenerationJob()


def _attach_reference_urls(generation: Generation) -> bool:
    """Put the provider URLs of the references into the payload, uploading what is needed, and
    save it, so that the history reconcile compares what was really sent. False when the submit
    must stop here (retried later, or failed).

    Runs before the submit is claimed: uploads may take minutes, and the sweeper takes a claim
    older than the submit lease for a worker that died mid-submit, whose request may have
    arrived. Two runs at once both upload (the same bytes; harmless); only one then claims the
    submit."""
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
            runner.count_attempt(GENERATION, generation)
            runner.retry_submit_later(GENERATION, generation, exc)
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
    generation.request_payload = payload
    return True
