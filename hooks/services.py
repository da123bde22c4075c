"""The writes: emitting an event, each delivery's attempts, and managing endpoints.

    event_emit(kind=Event.GENERATION_FINISHED, project_id=..., person_id=..., data={...},
               text="…", path="/generations/…/")

is the one call the other apps make. After their commit it creates one Delivery per matching
active endpoint and queues it; a task per delivery makes one attempt (`delivery_attempt`),
claiming the row with a conditional UPDATE so it is sent at most once at a time, and schedules
the next after a failure: 10 s doubling to an hour, for a day. The sweeper queues again any due
delivery whose task was lost. An endpoint that has failed every attempt for a day is paused and
its owners are mailed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import Action
from audit.services import record
from projects.models import Project, Role

from . import sending
from .models import Delivery, DeliveryStatus, Endpoint, Event, Format, new_secret

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)  # a delivery's retries, and an endpoint's failing, before pause
CLAIM_LEASE = timedelta(minutes=2)  # longer than one attempt's timeouts
SWEEP_BATCH = 200


# --- events ---------------------------------------------------------------------------------
def event_emit(
    *,
    kind: str,
    project_id: int | None = None,
    person_id: int | None = None,
    data: dict[str, Any],
    text: str,
    path: str = "",
    image_path: str = "",
) -> None:
    """After the caller's commit, deliver `kind` to the active endpoints that chose it: the
    project's (when `project_id`), else the person's. `data` is the event's JSON; `text`,
    `path` (a page of Darkroom) and `image_path` (a public image, a share link's) make the
    Slack message. Never raises into the caller: a lost notification must not fail a run."""
    transaction.on_commit(
        lambda: _emit_now(
            kind=kind,
            project_id=project_id,
            person_id=person_id,
            data=data,
            text=text,
            path=path,
            image_path=image_path,
        ),
        robust=True,
    )


def receivers(
    *, kind: str, project_id: int | None, person_id: int | None, fields: tuple[str, ...] = ()
) -> list[Endpoint]:
    """The endpoints an event of `kind` goes to: the project's (when `project_id`), else the
    person's, not paused, that chose `kind`. `fields`: read only those (and the events)."""
    if not project_id and not person_id:
        return []
    owner = Q(project_id=project_id) if project_id else Q(person_id=person_id)
    endpoints = Endpoint.objects.filter(owner, paused_at__isnull=True)
    if fields:
        endpoints = endpoints.only(*fields, "events")
    return [endpoint for endpoint in endpoints if endpoint.wants(kind)]


def listening(*, kind: str, project_id: int | None, person_id: int | None) -> bool:
    """Whether an event of `kind` would reach an endpoint (receivers, as `event_emit` delivers
    it): lets a caller skip building an event nobody receives (most runs' ends). One small
    SELECT."""
    return bool(receivers(kind=kind, project_id=project_id, person_id=person_id, fields=("pk",)))


def _emit_now(
    *,
    kind: str,
    project_id: int | None,
    person_id: int | None,
    data: dict[str, Any],
    text: str,
    path: str,
    image_path: str,
) -> list[int]:
    return [
        _delivery_create(e, kind=kind, data=data, text=text, path=path, image_path=image_path)
        for e in receivers(kind=kind, project_id=project_id, person_id=person_id)
    ]


def _delivery_create(
    endpoint: Endpoint,
    *,
    kind: str,
    data: dict[str, Any],
    text: str,
    path: str,
    image_path: str,
) -> int:
    now = timezone.now()
    delivery = Delivery(endpoint=endpoint, event=kind, created_at=now, next_attempt_at=now)
    payload: dict[str, Any] = {
        "id": str(delivery.uuid),
        "type": kind,
        "created": now.isoformat(),
        "data": {**data, "url": absolute(path) if path else None},
    }
    if endpoint.format == Format.SLACK:
        payload = slack_message(
            text=text,
            url=absolute(path) if path else "",
            image_url=(absolute(image_path) if image_path else ""),
        )
    delivery.payload = payload
    delivery.save(force_insert=True)
    _queue(delivery.pk)
    return delivery.pk


def absolute(path: str) -> str:
    """A link people and Slack can open: DARKROOM_PUBLIC_URL and the path (the path alone
    when the site's address is not configured)."""
    return settings.DARKROOM_PUBLIC_URL.rstrip("/") + path


def slack_message(*, text: str, url: str, image_url: str) -> dict[str, Any]:
    """A message for a Slack incoming webhook (or Mattermost, Discord's /slack): the text, a
    link, and a thumbnail only when the image is public (a share link's)."""
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": text + (f"\n<{url}|Open in Darkroom>" if url else "")},
    }
    if image_url:
        section["accessory"] = {"type": "image", "image_url": image_url, "alt_text": text[:150]}
    return {"text": text + (f" {url}" if url else ""), "blocks": [section]}


def _queue(delivery_id: int) -> None:
    from .tasks import deliver

    try:
        deliver.delay(delivery_id)
    except Exception:  # a broker that is down: the sweeper sends it when it is due
        log.warning("hooks: could not queue delivery %s; the sweeper will", delivery_id)


# --- one attempt ------------------------------------------------------------------------------
def retry_wait(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 10 s, 20 s, 40 s … at most an hour."""
    wait: timedelta = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    return wait


def delivery_attempt(*, delivery_id: int) -> bool:
    """Send a due, pending delivery once; True if this call sent it. Safe to run twice: a
    second call finds the row claimed or no longer due and does nothing."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return False
    Delivery.objects.filter(pk=delivery_id, first_attempt_at__isnull=True).update(
        first_attempt_at=now
    )
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event != Event.TEST:
        _finish(delivery, status=DeliveryStatus.FAILED, error="Not sent: the endpoint is paused.")
        return True
    body = sending.body_of(delivery.payload)
    outcome = sending.send(
        url=endpoint.url,
        body=body,
        headers=sending.signed_headers(
            secret=endpoint.secret, event_id=str(delivery.uuid), event=delivery.event, body=body
        ),
        allow_private=endpoint.allow_private or settings.DARKROOM_HOOKS_ALLOW_PRIVATE,
    )
    fields = {"response_code": outcome.status_code, "duration_ms": outcome.duration_ms}
    if outcome.ok:
        _finish(delivery, status=DeliveryStatus.SUCCEEDED, error="", **fields)
        Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return True
    started = delivery.first_attempt_at or now
    if outcome.permanent or now + retry_wait(delivery.attempts) > started + GIVE_UP_AFTER:
        _finish(delivery, status=DeliveryStatus.FAILED, error=outcome.error, **fields)
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            claimed_at=None,
            next_attempt_at=now + retry_wait(delivery.attempts),
            error=outcome.error,
            **fields,
        )
    if delivery.event != Event.TEST:
        _note_failure(endpoint.pk, now=now)
    return True


def _finish(delivery: Delivery, *, status: str, error: str, **fields: Any) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, claimed_at=None, next_attempt_at=None, error=error, **fields
    )


def _note_failure(endpoint_id: int, *, now: Any) -> None:
    """Remember since when the endpoint fails; after a day of nothing but failures, pause it
    (once: a conditional UPDATE) and tell its owners."""
    Endpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(failing_since=now)
    paused = Endpoint.objects.filter(
        pk=endpoint_id, paused_at__isnull=True, failing_since__lte=now - GIVE_UP_AFTER
    ).update(
        paused_at=now,
        paused_reason="Every delivery failed for a day: paused until an owner resumes it.",
    )
    if paused:
        transaction.on_commit(lambda: endpoint_paused_mail(endpoint_id=endpoint_id), robust=True)


def endpoint_paused_mail(*, endpoint_id: int) -> int:
    endpoint = Endpoint.objects.select_related("project", "person").filter(pk=endpoint_id).first()
    if endpoint is None:
        return 0
    recipients = owners_emails(endpoint)
    if not recipients:
        return 0
    context = {"endpoint": endpoint, "url": absolute(endpoint_path(endpoint))}
    subject = " ".join(render_to_string("hooks/mail/paused_subject.txt", context).split())
    return send_mail(subject, render_to_string("hooks/mail/paused.txt", context), None, recipients)


def owners_emails(endpoint: Endpoint) -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if endpoint.person_id is not None:
        users = users.filter(pk=endpoint.person_id)
    elif endpoint.project_id is not None:
        users = users.filter(
            memberships__project_id=endpoint.project_id, memberships__role=Role.OWNER
        )
    else:  # the model holds exactly one owner (a check constraint): never here
        return []
    return sorted(set(users.values_list("email", flat=True)))


def endpoint_path(endpoint: Endpoint) -> str:
    from django.urls import reverse

    return reverse("hooks:detail", args=[endpoint.uuid])


def deliveries_sweep() -> int:
    """Queue the pending deliveries that are due and not being sent (their task was lost: a
    broker restart, a worker killed mid-send). Returns how many."""
    now = timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        _queue(pk)
    return len(due)


# --- what owners do ---------------------------------------------------------------------------
@transaction.atomic
def endpoint_create(
    *,
    by: User,
    project: Project | None,
    url: str,
    description: str,
    events: list[str],
    format: str,
) -> Endpoint:
    endpoint = Endpoint.objects.create(
        project=project,
        person=None if project else by,
        url=url,
        description=description,
        events=events,
        format=format,
        created_by=by,
    )
    record(
        Action.ENDPOINT_CREATED,
        actor=by,
        target=endpoint,
        project=project,
        after={"host": endpoint.host, "events": ", ".join(events), "format": format},
    )
    return endpoint


def endpoint_update(
    *, endpoint: Endpoint, url: str, description: str, events: list[str], format: str
) -> None:
    if url != endpoint.url:
        endpoint.failing_since = None  # a new receiver: its own day before a pause
    endpoint.url, endpoint.description = url, description
    endpoint.events, endpoint.format = events, format
    endpoint.save(update_fields=["url", "description", "events", "format", "failing_since"])


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, by: AbstractBaseUser) -> None:
    record(Action.ENDPOINT_DELETED, actor=by, target=endpoint, project=endpoint.project)
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: Endpoint) -> None:
    """A new secret at once: deliveries signed from now on use it."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])


def endpoint_resume(*, endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=None, paused_reason="", failing_since=None
    )


def endpoint_test(*, endpoint: Endpoint, by: AbstractBaseUser) -> int:
    """Send a test event now (to a paused endpoint too: it is how an owner checks a fix)."""
    text = f"Test notification from Darkroom, sent by {by.get_username()}."
    return _delivery_create(
        endpoint,
        kind=Event.TEST,
        data={"sent_by": by.get_username()},
        text=text,
        path=endpoint_path(endpoint),
        image_path="",
    )


def delivery_resend(*, delivery: Delivery) -> None:
    """Send it again, with the same event id and body, as soon as a worker takes it; retries
    start over. A delivery being sent right now is left to finish."""
    now = timezone.now()
    updated = (
        Delivery.objects.filter(pk=delivery.pk, claimed_at__isnull=True)
        .exclude(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            first_attempt_at=None,
            error="",
        )
    )
    if updated:
        transaction.on_commit(lambda: _queue(delivery.pk))
