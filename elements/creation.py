"""“Create on Kling”: make an element with WaveSpeed's `kwaivgi/kling-elements` model.

The person gives a name, a description, a front view and more views. The pictures are kept as
references (decoded, upright, metadata gone: references/cleaning.py) and uploaded through the
same cache as a generation's references. The job runner (`wavespeed.runner`) submits `{name,
description, image, element_refer_list}` [inferred shape, docs/wavespeed.md] and follows the
prediction (webhook first, polls as the fallback); `ElementJob` below says what to send and what
to do with the result: `outputs[0].element_id` becomes the element's Kling id.

A submit is sent again only when WaveSpeed certainly did not take it (429, no connection); one
that may have arrived fails with a message instead, and the person may try again knowingly.
A creation whose task was lost is resumed or ended by the runner's sweeper.

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
from django.db.models import F, Q
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
from wavespeed import runner
from wavespeed.client import Prediction
from wavespeed.runner import Failure, Reason, Timings
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
POLL_ERROR_BASE_SECONDS = 1.0
POLL_ERROR_CAP_SECONDS = 15.0
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
    """How long a submit may take: every picture uploaded (after the claim), then the request
    itself. A claim older than this belongs to a worker that died mid-request."""
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
        runner.queue_first_submit(ELEMENT_CREATION, element.pk)
    return element


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


def _completed(element: Element, outputs: list[Any], via: str) -> None:
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
            result_via=via,
            creation_error="",
            cost=F("price"),
            updated_at=timezone.now(),
        )
        if done:
            spend.settle(subject=Element.objects.get(pk=element.pk))


def _fail(element_id: int, message: str) -> bool:
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
    return bool(failed)


_GAVE_UP_MESSAGE = "Kling had not created the element after an hour; Darkroom stopped."
_LOST_SUBMIT_MESSAGE = (
    "Darkroom lost track of the request while sending it to Kling. It may have reached Kling: "
    "check before creating it again."
)


class ElementJob(runner.JobKind):
    """A creation on Kling as a job of the runner: what it sends, what it does with the
    result."""

    name = "element"
    model = Element
    provider_model = KLING_ELEMENTS

    def awaiting_submit(self) -> Q:
        return Q(creation=Creation.QUEUED)

    def followed(self) -> Q:
        return Q(creation=Creation.RUNNING, provider_id__isnull=False)

    def timings(self) -> Timings:
        return Timings(
            expected_run=settings.EXPECTED_RUN_SECONDS,
            poll_first=settings.POLL_MIN_SECONDS,
            poll_factor=settings.POLL_FACTOR,
            poll_cap=settings.POLL_MAX_SECONDS,
            give_up=GIVE_UP_SECONDS,
            submit_retry_base=SUBMIT_RETRY_BASE_SECONDS,
            submit_retry_cap=SUBMIT_RETRY_CAP_SECONDS,
            max_submit_attempts=MAX_SUBMIT_ATTEMPTS,
            submit_retry_window=None,
            max_poll_errors=MAX_POLL_ERRORS,
            poll_error_base=POLL_ERROR_BASE_SECONDS,
            poll_error_cap=POLL_ERROR_CAP_SECONDS,
            stale_after=settings.STALE_AFTER_SECONDS,
            submit_lease=_submit_lease().total_seconds(),
            reconcile_lost_submits=False,
            give_up_unfinished=GIVE_UP_SECONDS,
        )

    def payload(self, job: Element) -> dict[str, Any]:
        try:
            return _body(job)
        except (OSError, ReferenceImage.DoesNotExist) as exc:
            raise runner.InputUnreadable(_UNREADABLE_MESSAGE) from exc

    def start_following(self, job_id: int, fields: dict[str, Any]) -> bool:
        return bool(
            Element.objects.filter(
                pk=job_id, creation=Creation.QUEUED, provider_id__isnull=True
            ).update(creation=Creation.RUNNING, updated_at=timezone.now(), **fields)
        )

    def touch(self) -> dict[str, Any]:
        return {"updated_at": timezone.now()}

    def on_success(self, job: Element, prediction: Prediction, *, via: str) -> None:
        _completed(job, prediction.outputs, via)

    def on_failure(self, job_id: int, failure: Failure) -> bool:
        return _fail(job_id, _message(failure))


ELEMENT_CREATION = ElementJob()
_UNREADABLE_MESSAGE = "Its pictures could not be read from storage. Create it again."


def _message(failure: Failure) -> str:
    """What the person reads, by cause."""
    if failure.reason == Reason.PREDICTION and failure.prediction is not None:
        prediction = failure.prediction
        code = f" (code {prediction.error_code})" if prediction.error_code else ""
        reason = prediction.error or f"the prediction ended as '{prediction.status}'"
        return f"Kling could not create the element{code}: {reason}"
    if failure.reason == Reason.GAVE_UP:
        return _GAVE_UP_MESSAGE
    if failure.reason == Reason.LOST_SUBMIT:
        return _LOST_SUBMIT_MESSAGE
    if failure.reason == Reason.INPUT:
        return _UNREADABLE_MESSAGE
    exc = failure.error
    if exc is None:
        return failure.message
    if failure.followed:
        return f"WaveSpeed could not say how the creation went: {exc.message}"
    sent = " It may have reached Kling: check before creating it again." if exc.maybe_sent else ""
    return f"WaveSpeed did not create it: {exc.message}.{sent}"
