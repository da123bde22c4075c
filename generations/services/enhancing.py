"""The prompt enhancer: one use of WaveSpeed's `wavespeed-ai/prompt-optimizer`, paid like a run.

Creating a use holds its price in the ledger (budgets locked, as for a generation); the job
runner (`wavespeed.runner`) submits `{text, style, mode: "image"}` and follows the prediction
(webhook first, quick polls as the fallback); `EnhancementJob` below says what to send and what
to do with the result. The suggestion is `outputs[0]`. Completion charges the price and releases
the hold; any failure releases the hold only (WaveSpeed refunds failed predictions).

A submit is sent again only when WaveSpeed certainly did not take it (429, no connection): one
that may have arrived (a 5xx, a timeout) fails with a message instead, and the person may click
again, knowingly (nobody waits beside the prompt for a history search). A use whose task was
lost is resumed or ended by the runner's sweeper, never by the page that shows it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.services import record
from projects.models import Project
from spend import services as spend
from spend.published import PER_USE
from wavespeed import runner
from wavespeed.client import (
    AuthError,
    NetworkError,
    NoBalanceError,
    Prediction,
    RateLimitError,
    WaveSpeedError,
)
from wavespeed.runner import Failure, Reason, Timings
from wavespeed.specs import PROMPT_OPTIMIZER

from .. import pricing
from ..models import EnhancementStatus, PromptEnhancement

logger = logging.getLogger(__name__)

STYLES = ("default", "artistic", "photographic", "technical", "anime", "realistic")
TEXT_MAX_LENGTH = 2500
MODE = "image"

MAX_SUBMIT_ATTEMPTS = 4
SUBMIT_RETRY_BASE_SECONDS = 1.0
SUBMIT_RETRY_CAP_SECONDS = 10.0
# The optimizer answers in about a second: poll soon, then a little less often.
POLL_FIRST_SECONDS = 0.5
POLL_FACTOR = 1.5
POLL_CAP_SECONDS = 3.0
MAX_POLL_ERRORS = 5
POLL_ERROR_BASE_SECONDS = 1.0
POLL_ERROR_CAP_SECONDS = 15.0
# Nobody waits longer than this beside the prompt; what is unfinished then is given up.
GIVE_UP_SECONDS = 120.0
# The sweeper's patience: polls are at most 15 s apart (the error backoff's cap), so a step
# this late past its due time was lost with its message or its worker.
SWEEP_GRACE_SECONDS = 15.0
# With webhooks on, the first poll waits this (plus the grace) for the webhook.
EXPECTED_RUN_SECONDS = 2.0

FINAL = (EnhancementStatus.DONE, EnhancementStatus.FAILED)


class EnhancementRefused(Exception):
    """The enhancer cannot be used now; the message says why, for the person."""


def enhancement_price() -> str:
    """The price of one use, as the button shows it ("" when no price is set)."""
    try:
        return pricing.format_usd(spend.price_for(model=PROMPT_OPTIMIZER, resolution=PER_USE))
    except spend.NoPrice:
        return ""


@transaction.atomic
def enhancement_create(
    *, owner: AbstractBaseUser, project: Project | None, text: str, style: str
) -> PromptEnhancement:
    """Record a use (personal, or in a project the caller checked the person may generate in),
    hold its price against every budget that applies, and queue its submit."""
    text = text.strip()
    if not text:
        raise EnhancementRefused("Write a prompt first: the enhancer rewrites it.")
    if len(text) > TEXT_MAX_LENGTH:
        raise EnhancementRefused(f"The prompt is longer than {TEXT_MAX_LENGTH:,} characters.")
    if style not in STYLES:
        raise EnhancementRefused(f"Choose one of the styles: {', '.join(STYLES)}.")
    try:
        price = spend.price_for(model=PROMPT_OPTIMIZER, resolution=PER_USE)
    except spend.NoPrice as exc:
        raise EnhancementRefused(
            "The prompt enhancer has no price set, so it cannot be paid for: ask an admin to "
            "add one."
        ) from exc
    enhancement = PromptEnhancement.objects.create(
        owner=owner, project=project, text=text, style=style, price=price
    )
    try:
        spend.reserve(subject=enhancement, amount=price)
    except spend.BudgetExceeded as exc:
        raise EnhancementRefused(str(exc)) from exc  # rolls the use back with the transaction
    record(
        Action.ENHANCER_USED,
        actor=owner,
        target=enhancement,
        project=project,
        after={"held": f"${price:.4f}"},
    )
    runner.queue_first_submit(ENHANCEMENT, enhancement.pk)
    return enhancement


def _completed(enhancement: PromptEnhancement, prediction: Prediction, via: str) -> None:
    suggestion = prediction.outputs[0] if prediction.outputs else None
    if not isinstance(suggestion, str) or not suggestion.strip():
        _fail(enhancement.pk, "WaveSpeed finished but sent back no enhanced prompt.")
        return
    with transaction.atomic():
        finished = PromptEnhancement.objects.filter(
            pk=enhancement.pk, status=EnhancementStatus.RUNNING
        ).update(
            status=EnhancementStatus.DONE,
            suggestion=suggestion.strip(),
            result_via=via,
            cost=enhancement.price,
            error_message="",
            finished_at=timezone.now(),
        )
        if finished:
            enhancement.cost = enhancement.price  # as just written: no second SELECT
            spend.settle(subject=enhancement)


def _gave_up_message() -> str:
    return (
        f"WaveSpeed had not enhanced the prompt after {GIVE_UP_SECONDS:.0f} s, so Darkroom "
        "stopped waiting. Nothing was charged; try again."
    )


def _explain(exc: WaveSpeedError, *, sent: bool) -> str:
    """A message for the person, by cause."""
    if isinstance(exc, AuthError):
        return "WaveSpeed refused Darkroom's API key, so nothing was enhanced. Tell an admin."
    if isinstance(exc, NoBalanceError):
        return "The WaveSpeed account has no balance left. Tell an admin to top it up."
    if isinstance(exc, RateLimitError):
        return "WaveSpeed is busy (too many requests). Nothing was charged; try again shortly."
    if isinstance(exc, NetworkError):
        what = "did not answer in time" if exc.maybe_sent else "could not be reached"
        return f"WaveSpeed {what}. Nothing was charged; try again."
    if exc.status_code and exc.status_code >= 500:
        return (
            f"WaveSpeed had an error ({exc.status_code}). Nothing was charged; try again."
            if sent
            else f"WaveSpeed kept failing ({exc.status_code}) while we waited for the "
            "result. Nothing was charged; try again."
        )
    return f"WaveSpeed could not enhance the prompt: {exc.message}"


def _fail(enhancement_id: int, message: str) -> bool:
    """End the use without a charge and free its hold. True if this call ended it."""
    with transaction.atomic():
        failed = (
            PromptEnhancement.objects.filter(pk=enhancement_id)
            .exclude(status__in=FINAL)
            .update(
                status=EnhancementStatus.FAILED,
                error_message=message,
                cost=0,
                finished_at=timezone.now(),
            )
        )
        if failed:
            spend.release(subject=PromptEnhancement.objects.get(pk=enhancement_id))
    return bool(failed)


_LOST_SUBMIT_MESSAGE = (
    "Darkroom lost track of the request while sending it to WaveSpeed. Nothing was charged; "
    "try again."
)


class EnhancementJob(runner.JobKind):
    """A use of the enhancer as a job of the runner: what it sends, what it does with the
    result."""

    name = "enhancement"
    model = PromptEnhancement
    provider_model = PROMPT_OPTIMIZER

    def awaiting_submit(self) -> Q:
        return Q(status=EnhancementStatus.QUEUED)

    def followed(self) -> Q:
        return Q(status=EnhancementStatus.RUNNING, provider_id__isnull=False)

    def timings(self) -> Timings:
        return Timings(
            expected_run=EXPECTED_RUN_SECONDS,
            poll_first=POLL_FIRST_SECONDS,
            poll_factor=POLL_FACTOR,
            poll_cap=POLL_CAP_SECONDS,
            give_up=GIVE_UP_SECONDS,
            submit_retry_base=SUBMIT_RETRY_BASE_SECONDS,
            submit_retry_cap=SUBMIT_RETRY_CAP_SECONDS,
            max_submit_attempts=MAX_SUBMIT_ATTEMPTS,
            submit_retry_window=None,
            max_poll_errors=MAX_POLL_ERRORS,
            poll_error_base=POLL_ERROR_BASE_SECONDS,
            poll_error_cap=POLL_ERROR_CAP_SECONDS,
            stale_after=SWEEP_GRACE_SECONDS,
            submit_lease=settings.WAVESPEED_CONNECT_TIMEOUT + settings.WAVESPEED_SUBMIT_TIMEOUT,
            reconcile_lost_submits=False,
            give_up_unfinished=GIVE_UP_SECONDS + SWEEP_GRACE_SECONDS,
        )

    def payload(self, job: PromptEnhancement) -> dict[str, Any]:
        return {"text": job.text, "style": job.style, "mode": MODE}

    def start_following(self, job_id: int, fields: dict[str, Any]) -> bool:
        return bool(
            PromptEnhancement.objects.filter(
                pk=job_id, status=EnhancementStatus.QUEUED, provider_id__isnull=True
            ).update(status=EnhancementStatus.RUNNING, **fields)
        )

    def on_success(self, job: PromptEnhancement, prediction: Prediction, *, via: str) -> None:
        _completed(job, prediction, via)

    def on_failure(self, job_id: int, failure: Failure) -> bool:
        return _fail(job_id, _message(failure))


ENHANCEMENT = EnhancementJob()


def _message(failure: Failure) -> str:
    """What the person reads, by cause."""
    if failure.reason == Reason.PREDICTION and failure.prediction is not None:
        prediction = failure.prediction
        reason = prediction.error or f"the prediction ended as '{prediction.status}'"
        code = f" (code {prediction.error_code})" if prediction.error_code else ""
        return f"WaveSpeed could not enhance the prompt{code}: {reason}"
    if failure.reason == Reason.GAVE_UP:
        return _gave_up_message()
    if failure.reason == Reason.LOST_SUBMIT:
        return _LOST_SUBMIT_MESSAGE
    if failure.error is not None:
        return _explain(failure.error, sent=not failure.followed)
    return failure.message
