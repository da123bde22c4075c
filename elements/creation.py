"""“Create on Kling”: make an element with WaveSpeed's `kwaivgi/kling-elements` model.

The person gives a name, a description, a front view and more views. The pictures are kept as
references (decoded, upright, metadata gone: references/cleaning.py) and uploaded through the
same cache as a generation's references. A task submits `{name, description, image,
element_refer_list}` [inferred shape, docs/wavespeed.md]; short countdown tasks follow the
prediction, and its `outputs[0].element_id` becomes the element's Kling id.

A submit is sent again only when WaveSpeed certainly did not take it (429, no connection); one
that may have arrived fails with a message instead, and the person may try again knowingly.
A creation whose task was lost is resumed or ended by its own periodic sweeper
(`kling_elements_sweep`, beat entry "resume-kling-element-creations").

A creation is paid like any call to the provider: asking for one holds its price under the same
budgets as a generation (the creator's, the project's, the organisation's), Kling's success
charges it, any failure releases it. WaveSpeed publishes no price for Kling Elements, so the
price is the one staff set in the dated price table (`spend.published.KLING_ELEMENTS`, per use);
without one, creation is refused. Each person may ask for DARKROOM_ELEMENT_CREATIONS_PER_HOUR
creations an hour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Action
from audit.services import record
from projects.models import Project
from references.cleaning import NormalisedImage
from references.models import ReferenceImage
from references.services import reference_provider_url, reference_store
from spend import money
from spend import services as spend
from spend.published import PER_USE
from wavespeed import timing
from wavespeed.client import RateLimitError, WaveSpeedError, get_client
from wavespeed.specs import KLING_ELEMENTS

from . import services
from .models import Creation, Element

logger = logging.getLogger(__name__)

DESCRIPTION_MAX_LENGTH = 100  # [inferred] Kling Elements' limit
MAX_EXTRA_VIEWS = 3  # our choice: a front view and up to three more angles

MAX_SUBMIT_ATTEMPTS = 4
SUBMIT_RETRY_BASE_SECONDS = 2.0
SUBMIT_RETRY_CAP_SECONDS = 30.0
MAX_POLL_ERRORS = 5
# Element creation is not documented to be slow, but may wait behind the account's task limit
# like any prediction: poll on the generations' schedule and give up after an hour.
GIVE_UP_SECONDS = 3600.0


class CreationRefused(Exception):
    """Kling cannot be asked for this element now; the message says why, for the person."""


@dataclass(frozen=True)
class CreationQuote:
    """What creating an element costs this person (in this library) and whether they may."""

    price: Decimal | None
    budgets: list[spend.Standing]
    refusal: str

    @property
    def price_text(self) -> str:
        return money.prose(self.price) if self.price is not None else ""


def creation_quote(*, person: AbstractBaseUser, project: Project | None) -> CreationQuote:
    """The form's quote: the price, what is left of each budget that applies, and the refusal
    a creation would meet now (no price, over a budget, over the hourly limit), if any."""
    price = _price_or_none()
    budgets = spend.standings(person_id=person.pk, project_id=project.pk if project else None)
    try:
        _check(person=person, price=price, budgets=budgets)
    except CreationRefused as exc:
        return CreationQuote(price=price, budgets=budgets, refusal=str(exc))
    return CreationQuote(price=price, budgets=budgets, refusal="")


def _price_or_none() -> Decimal | None:
    try:
        return spend.price_for(model=KLING_ELEMENTS, resolution=PER_USE)
    except spend.NoPrice:
        return None


def _check(
    *, person: AbstractBaseUser, price: Decimal | None, budgets: list[spend.Standing]
) -> Decimal:
    """The price to hold, or CreationRefused: the rules a creation must pass, in the order the
    person can do something about them."""
    if price is None:
        raise CreationRefused(
            "Creating elements on Kling has no price set, so it cannot be paid for: ask an "
            "admin to add one."
        )
    _check_hourly_limit(person)
    if refusal := spend.first_exceeded(budgets, price, **spend.PAID["elements.Element"].wording):
        raise CreationRefused(str(refusal))
    return price


def _check_hourly_limit(person: AbstractBaseUser) -> None:
    limit = settings.DARKROOM_ELEMENT_CREATIONS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    recent = list(
        Element.objects.filter(created_by=person, created_at__gt=since)
        .exclude(creation=Creation.NONE)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        # The oldest of the last `limit` leaves the hour first.
        next_at = timezone.localtime(recent[-1] + timedelta(hours=1))
        raise CreationRefused(
            f"You have asked Kling for {limit} element{'s' if limit != 1 else ''} in the past "
            f"hour, the most Darkroom allows. You can create the next one from "
            f"{next_at:%H:%M}."
        )


class Picture(NamedTuple):
    """One picture of the element, already checked and normalised by the form."""

    name: str
    image: NormalisedImage


def _submit_lease() -> timedelta:
    """How long a submit may take: every picture uploaded, then the request itself. A claim
    older than this belongs to a worker that died mid-request."""
    uploads = (1 + MAX_EXTRA_VIEWS) * settings.WAVESPEED_UPLOAD_TIMEOUT
    return timedelta(seconds=uploads + settings.WAVESPEED_SUBMIT_TIMEOUT)


def element_create_on_kling(
    *,
    created_by: AbstractBaseUser,
    project: Project | None,
    name: str,
    description: str,
    front: Picture,
    views: list[Picture],
) -> Element:
    """Keep the pictures as the creator's references, record the element (no Kling id yet, so
    hidden from the picker), hold its price and queue its creation. The element's preview is
    the front view's small tile, made in the same decode as the reference (it is shown at 96 px
    at most).

    Raises services.ElementNameTaken when the library already has a live element so named, and
    CreationRefused when it cannot be paid for now (no price, a budget, the hourly limit)."""
    services.check_name_free(
        Element(owner=None if project else created_by, project=project, name=name)
    )
    # Checked before the pictures are stored, so a refusal leaves nothing behind; checked again
    # below, under the locks, where it counts.
    if refusal := creation_quote(person=created_by, project=project).refusal:
        raise CreationRefused(refusal)
    front_ref, *view_refs = [
        reference_store(owner=created_by, image=picture.image, name=picture.name)
        for picture in (front, *views)
    ]
    project_id = project.pk if project else None
    with transaction.atomic():
        # One creation at a time per person, so two at once cannot both pass the hourly limit;
        # the budget rows are locked (as the hold below locks them) before they are read, so
        # the hold cannot fail once the element and its preview are written.
        get_user_model().objects.select_for_update().filter(pk=created_by.pk).first()
        spend.applicable_budgets(person_id=created_by.pk, project_id=project_id, lock=True)
        price = _check(
            person=created_by,
            price=_price_or_none(),
            budgets=spend.standings(person_id=created_by.pk, project_id=project_id),
        )
        element = services.element_create(
            created_by=created_by,
            project=project,
            name=name,
            kling_element_id="",
            note=description,
            preview=front.image.preview,
            creation=Creation.QUEUED,
            creation_inputs={"image": front_ref.pk, "refer": [ref.pk for ref in view_refs]},
            price=price,
        )
        spend.reserve(subject=element, amount=price)
        record(
            Action.ELEMENT_CREATION_ASKED,
            actor=created_by,
            target=element,
            project=project,
            after={"name": name, "held": f"${price:.4f}"},
        )
        _schedule("submit_kling_element", 0, element.pk)
    return element


def kling_element_submit(*, element_id: int) -> None:
    """Upload the views and send the creation to WaveSpeed. Only one run claims it."""
    claimed = Element.objects.filter(
        pk=element_id, creation=Creation.QUEUED, provider_id__isnull=True
    ).update(
        creation=Creation.RUNNING,
        creation_attempts=F("creation_attempts") + 1,
        next_step_at=timezone.now() + _submit_lease(),
    )
    if not claimed:
        return
    element = Element.objects.get(pk=element_id)
    try:
        body = _body(element)
        prediction = get_client().submit(KLING_ELEMENTS, body)
    except WaveSpeedError as exc:
        _submit_failed(element, exc)
        return
    except (OSError, ReferenceImage.DoesNotExist):
        logger.exception("The views of element %s cannot be read", element_id)
        _fail(element_id, "Its pictures could not be read from storage. Create it again.")
        return
    with transaction.atomic():
        Element.objects.filter(pk=element_id).update(provider_id=prediction.id)
        _schedule("follow_kling_element", timing.poll_delay(1), element_id, 0, 0)


def _body(element: Element) -> dict[str, Any]:
    inputs = element.creation_inputs
    owned = ReferenceImage.objects.filter(owner_id=element.created_by_id)
    front = owned.get(pk=inputs["image"])
    views = [owned.get(pk=pk) for pk in inputs.get("refer", [])]
    return {
        "name": element.name,
        "description": element.note,
        "image": reference_provider_url(reference=front),
        "element_refer_list": [reference_provider_url(reference=view) for view in views],
    }


def _submit_failed(element: Element, exc: WaveSpeedError) -> None:
    if exc.permanent or exc.maybe_sent or element.creation_attempts >= MAX_SUBMIT_ATTEMPTS:
        sent = (
            " It may have reached Kling: check before creating it again." if exc.maybe_sent else ""
        )
        _fail(element.pk, f"WaveSpeed did not create it: {exc.message}.{sent}")
        return
    retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
    delay = timing.backoff(
        element.creation_attempts,
        base=SUBMIT_RETRY_BASE_SECONDS,
        cap=SUBMIT_RETRY_CAP_SECONDS,
        retry_after=retry_after,
    )
    with transaction.atomic():
        released = Element.objects.filter(
            pk=element.pk, creation=Creation.RUNNING, provider_id__isnull=True
        ).update(creation=Creation.QUEUED)
        if released:
            _schedule("submit_kling_element", delay, element.pk)


def kling_element_follow(*, element_id: int, seq: int, errors: int = 0) -> None:
    """One look at the creation. Claiming advances the poll count from `seq`, so a duplicated
    task finds nothing to do."""
    claimed = Element.objects.filter(
        pk=element_id, creation=Creation.RUNNING, provider_id__isnull=False, poll_count=seq
    ).update(poll_count=F("poll_count") + 1)
    if not claimed:
        return
    element = Element.objects.get(pk=element_id)
    try:
        prediction = get_client().get_result(element.provider_id)
    except WaveSpeedError as exc:
        errors += 1
        if exc.permanent or errors > MAX_POLL_ERRORS or _too_old(element):
            _fail(element_id, f"WaveSpeed could not say how the creation went: {exc.message}")
            return
        retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
        delay = timing.backoff(errors, base=1.0, cap=15.0, retry_after=retry_after)
        _schedule("follow_kling_element", delay, element_id, seq + 1, errors)
        return
    if prediction.is_completed:
        _completed(element, prediction.outputs)
    elif prediction.is_final:
        code = f" (code {prediction.error_code})" if prediction.error_code else ""
        reason = prediction.error or f"the prediction ended as '{prediction.status}'"
        _fail(element_id, f"Kling could not create the element{code}: {reason}")
    elif _too_old(element):
        _fail(element_id, _GAVE_UP_MESSAGE)
    else:
        delay = timing.poll_delay(seq + 2)
        _schedule("follow_kling_element", delay, element_id, seq + 1, 0)


def _completed(element: Element, outputs: list[Any]) -> None:
    first = outputs[0] if outputs else None
    # [inferred] third parties read `outputs[0].element_id`; a bare id string is taken too.
    kling_id = first.get("element_id") if isinstance(first, dict) else first
    if not isinstance(kling_id, str | int) or not str(kling_id).strip():
        _fail(element.pk, "Kling finished but sent back no element id.")
        return
    with transaction.atomic():
        done = Element.objects.filter(pk=element.pk, creation=Creation.RUNNING).update(
            creation=Creation.DONE,
            kling_element_id=str(kling_id).strip()[:64],
            creation_error="",
            cost=F("price"),
            updated_at=timezone.now(),
        )
        if done:
            spend.settle(subject=Element.objects.get(pk=element.pk))


def _too_old(element: Element) -> bool:
    return timezone.now() - element.created_at > timedelta(seconds=GIVE_UP_SECONDS)


def _fail(element_id: int, message: str) -> None:
    """End the creation without a charge and free its hold (WaveSpeed refunds failures)."""
    with transaction.atomic():
        failed = Element.objects.filter(
            pk=element_id, creation__in=[Creation.QUEUED, Creation.RUNNING]
        ).update(
            creation=Creation.FAILED,
            creation_error=message,
            cost=Decimal("0"),
            updated_at=timezone.now(),
        )
        if failed:
            spend.release(subject=Element.objects.get(pk=element_id))


def kling_elements_sweep() -> dict[str, int]:
    """Resume or end the creations whose task was lost (the beat runs this): one
    past the time limit is failed; one whose next step is overdue has it queued again (every
    task claims its row, so a step queued twice still runs once); one whose submit claim ran
    out may have reached Kling, so it is failed with a word to check, never sent again."""
    now = timezone.now()
    unfinished = Element.objects.filter(creation__in=[Creation.QUEUED, Creation.RUNNING])
    limit = now - timedelta(seconds=GIVE_UP_SECONDS)
    counts = {"element_given_up": 0, "element_resumed": 0}
    for pk in unfinished.filter(created_at__lt=limit).values_list("pk", flat=True):
        _fail(pk, _GAVE_UP_MESSAGE)
        counts["element_given_up"] += 1
    late = unfinished.filter(
        created_at__gte=limit,
        next_step_at__lt=now - timedelta(seconds=settings.STALE_AFTER_SECONDS),
    )
    for pk, creation, provider_id, poll_count in late.values_list(
        "pk", "creation", "provider_id", "poll_count"
    ):
        if creation == Creation.QUEUED:
            _schedule("submit_kling_element", 0, pk)
        elif provider_id:
            _schedule("follow_kling_element", 0, pk, poll_count, 0)
        else:
            _fail(pk, _LOST_SUBMIT_MESSAGE)
            continue
        counts["element_resumed"] += 1
    return counts


_GAVE_UP_MESSAGE = "Kling had not created the element after an hour; Darkroom stopped."
_LOST_SUBMIT_MESSAGE = (
    "Darkroom lost track of the request while sending it to Kling. It may have reached Kling: "
    "check before creating it again."
)


def _schedule(task_name: str, countdown: float, element_id: int, *args: int) -> None:
    """Queue a creation task and record when it is due, for the sweeper."""
    from . import tasks

    Element.objects.filter(pk=element_id).update(next_step_at=timing.due_at(countdown))
    # Queued after commit, countdown capped, like every provider job's step.
    timing.after_commit(getattr(tasks, task_name), countdown, element_id, *args)
