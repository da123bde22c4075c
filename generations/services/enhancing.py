"""The prompt enhancer: one use of WaveSpeed's `wavespeed-ai/prompt-optimizer`, paid like a run.

Creating a use holds its price in the ledger (budgets locked, as for a generation), then a task
submits `{text, style, mode: "image"}` and short countdown tasks follow the prediction. The
suggestion is `outputs[0]`. Completion charges the price and releases the hold; any failure
releases the hold only (WaveSpeed refunds failed predictions).

A submit is sent again only when WaveSpeed certainly did not take it (429, no connection): one
that may have arrived (a 5xx, a timeout) fails with a message instead, and the person may click
again, knowingly. A use whose task was lost is resumed or ended by the periodic sweeper
(`enhancements_sweep`), never by the page that shows it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Action
from audit.services import record
from projects.models import Project
from spend import services as spend
from spend.published import PER_USE
from wavespeed import timing
from wavespeed.client import (
    AuthError,
    NetworkError,
    NoBalanceError,
    Prediction,
    RateLimitError,
    WaveSpeedError,
    get_client,
)
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
    _schedule("submit_enhancement", 0, enhancement.pk, 1)
    return enhancement


def enhancement_submit(*, enhancement_id: int, attempt: int = 1) -> None:
    """Send a queued use to WaveSpeed. Safe to run twice: only one run claims it."""
    # The claim is due back by the end of the request's timeout: a claim the sweeper finds
    # later than that belongs to a worker that died mid-request.
    claimed = PromptEnhancement.objects.filter(
        pk=enhancement_id, status=EnhancementStatus.QUEUED, provider_id__isnull=True
    ).update(
        status=EnhancementStatus.RUNNING,
        next_step_at=timing.due_at(settings.WAVESPEED_SUBMIT_TIMEOUT),
    )
    if not claimed:
        return
    enhancement = PromptEnhancement.objects.get(pk=enhancement_id)
    body = {"text": enhancement.text, "style": enhancement.style, "mode": MODE}
    try:
        prediction = get_client().submit(PROMPT_OPTIMIZER, body)
    except WaveSpeedError as exc:
        _submit_failed(enhancement, exc, attempt)
        return
    with transaction.atomic():
        PromptEnhancement.objects.filter(pk=enhancement_id).update(provider_id=prediction.id)
        _schedule("follow_enhancement", POLL_FIRST_SECONDS, enhancement_id, 0, 0)


def _submit_failed(enhancement: PromptEnhancement, exc: WaveSpeedError, attempt: int) -> None:
    if exc.permanent or exc.maybe_sent or attempt >= MAX_SUBMIT_ATTEMPTS:
        _fail(enhancement.pk, _explain(exc, sent=True))
        return
    # Refused before anything was created (429, no connection): sending again is safe.
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    delay = timing.backoff(
        attempt,
        base=SUBMIT_RETRY_BASE_SECONDS,
        cap=SUBMIT_RETRY_CAP_SECONDS,
        retry_after=retry_after,
    )
    logger.info("Enhancement %s submit retried in %.1f s: %s", enhancement.pk, delay, exc)
    with transaction.atomic():
        released = PromptEnhancement.objects.filter(
            pk=enhancement.pk, status=EnhancementStatus.RUNNING, provider_id__isnull=True
        ).update(status=EnhancementStatus.QUEUED)
        if released:
            _schedule("submit_enhancement", delay, enhancement.pk, attempt + 1)


def enhancement_follow(*, enhancement_id: int, seq: int, errors: int = 0) -> None:
    """One look at the prediction. `seq` is the poll count this task expects: claiming the
    row advances it, so a duplicated task finds nothing to do."""
    claimed = PromptEnhancement.objects.filter(
        pk=enhancement_id,
        status=EnhancementStatus.RUNNING,
        provider_id__isnull=False,
        poll_count=seq,
    ).update(poll_count=F("poll_count") + 1)
    if not claimed:
        return
    enhancement = PromptEnhancement.objects.get(pk=enhancement_id)
    try:
        prediction = get_client().get_result(enhancement.provider_id)
    except WaveSpeedError as exc:
        _poll_failed(enhancement, exc, errors)
        return
    if prediction.is_completed:
        _completed(enhancement, prediction)
    elif prediction.is_final:
        reason = prediction.error or f"the prediction ended as '{prediction.status}'"
        code = f" (code {prediction.error_code})" if prediction.error_code else ""
        _fail(enhancement.pk, f"WaveSpeed could not enhance the prompt{code}: {reason}")
    elif _too_old(enhancement):
        _fail(enhancement.pk, _gave_up_message())
    else:
        delay = min(POLL_CAP_SECONDS, POLL_FIRST_SECONDS * POLL_FACTOR**enhancement.poll_count)
        _schedule("follow_enhancement", timing.jittered(delay), enhancement.pk, seq + 1, 0)


def _completed(enhancement: PromptEnhancement, prediction: Prediction) -> None:
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
            cost=enhancement.price,
            error_message="",
            finished_at=timezone.now(),
        )
        if finished:
            spend.settle(subject=PromptEnhancement.objects.get(pk=enhancement.pk))


def _poll_failed(enhancement: PromptEnhancement, exc: WaveSpeedError, errors: int) -> None:
    errors += 1
    if exc.permanent or errors > MAX_POLL_ERRORS or _too_old(enhancement):
        _fail(enhancement.pk, _explain(exc, sent=False))
        return
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    delay = timing.backoff(
        errors, base=POLL_ERROR_BASE_SECONDS, cap=POLL_ERROR_CAP_SECONDS, retry_after=retry_after
    )
    logger.info("Enhancement %s poll %s failed: %s", enhancement.pk, errors, exc)
    # The claim advanced the poll count: the next task expects the new value.
    _schedule("follow_enhancement", delay, enhancement.pk, enhancement.poll_count, errors)


def _too_old(enhancement: PromptEnhancement) -> bool:
    return timezone.now() - enhancement.created_at > timedelta(seconds=GIVE_UP_SECONDS)


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


def enhancements_sweep() -> dict[str, int]:
    """Resume or end the uses whose task was lost (the periodic sweeper calls this): one past
    the time limit is failed and its hold freed; one whose next step is overdue has it queued
    again (every task claims its row, so a step queued twice still runs once); one whose
    submit claim ran out may have reached WaveSpeed, so it is failed, never sent again."""
    now = timezone.now()
    unfinished = PromptEnhancement.objects.exclude(status__in=FINAL)
    limit = now - timedelta(seconds=GIVE_UP_SECONDS + SWEEP_GRACE_SECONDS)
    counts = {"enhancement_given_up": 0, "enhancement_resumed": 0}
    for pk in unfinished.filter(created_at__lt=limit).values_list("pk", flat=True):
        counts["enhancement_given_up"] += _fail(pk, _gave_up_message())
    late = unfinished.filter(
        created_at__gte=limit, next_step_at__lt=now - timedelta(seconds=SWEEP_GRACE_SECONDS)
    )
    for pk, status, provider_id, poll_count in late.values_list(
        "pk", "status", "provider_id", "poll_count"
    ):
        if status == EnhancementStatus.QUEUED:
            _schedule("submit_enhancement", 0, pk, 1)
        elif provider_id:
            _schedule("follow_enhancement", 0, pk, poll_count, 0)
        else:
            _fail(pk, _LOST_SUBMIT_MESSAGE)
            continue
        counts["enhancement_resumed"] += 1
    return counts


_LOST_SUBMIT_MESSAGE = (
    "Darkroom lost track of the request while sending it to WaveSpeed. Nothing was charged; "
    "try again."
)


def _schedule(task_name: str, countdown: float, enhancement_id: int, *args: int) -> None:
    """Queue one of the enhancer's tasks after the current transaction commits, and record
    when it is due, for the sweeper."""
    from .. import tasks

    PromptEnhancement.objects.filter(pk=enhancement_id).update(
        next_step_at=timing.due_at(countdown)
    )
    timing.after_commit(getattr(tasks, task_name), countdown, enhancement_id, *args)
