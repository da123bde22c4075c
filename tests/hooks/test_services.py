"""Events become deliveries; each delivery's attempts, retries, pause and resend."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from gallery.services.sharing import share_create
from generations import state
from generations.models import Generation, Status
from generations.services.submission import GenerationParams
from hooks import services
from hooks.models import Delivery, DeliveryStatus, Endpoint, Event, Format
from spend.models import Budget
from tests.factories import make_image, make_project
from tests.hooks.test_sending import documented_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(user):
    user.email = "ada@example.com"
    user.save(update_fields=["email"])
    return user


def endpoint_for(*, url: str, project=None, person=None, events=None, **fields) -> Endpoint:
    return Endpoint.objects.create(
        project=project,
        person=person,
        url=url,
        events=events if events is not None else [e for e in Event.values if e != Event.TEST],
        **fields,
    )


def due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --- events -----------------------------------------------------------------------------------
def test_an_event_goes_to_the_matching_active_endpoints_after_the_commit(
    ada, queued, django_capture_on_commit_callbacks
) -> None:
    harbour = make_project(ada)
    chosen = endpoint_for(url="https://a.example.com/", project=harbour)
    endpoint_for(url="https://b.example.com/", project=harbour, events=[Event.BUDGET_80])
    endpoint_for(url="https://c.example.com/", project=harbour, paused_at=timezone.now())
    endpoint_for(url="https://d.example.com/", person=ada)  # ada's own: not the project's
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.event_emit(
            kind=Event.GENERATION_FINISHED,
            project_id=harbour.pk,
            person_id=ada.pk,
            data={"x": 1},
            text="done",
            path="/generations/x/",
        )
    assert not Delivery.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    [delivery] = Delivery.objects.all()
    assert delivery.endpoint == chosen and queued == [delivery.pk]
    assert delivery.payload["id"] == str(delivery.uuid)
    assert delivery.payload["type"] == "generation.finished"
    assert delivery.payload["data"]["x"] == 1


@pytest.mark.parametrize("kind", [Event.GENERATION_FINISHED, Event.BUDGET_80])
def test_listening_says_what_an_emit_delivers(
    ada, outsider, queued, django_capture_on_commit_callbacks, kind
) -> None:
    # The project's endpoints (one paused, one for another event), ada's own, nobody's.
    harbour, quiet = make_project(ada), make_project(ada, "Quiet")
    endpoint_for(url="https://a.example.com/", project=harbour, events=[Event.BUDGET_80])
    endpoint_for(url="https://b.example.com/", project=quiet, paused_at=timezone.now())
    endpoint_for(url="https://c.example.com/", person=ada, events=[Event.GENERATION_FINISHED])
    for project_id, person_id in [
        (harbour.pk, ada.pk),
        (quiet.pk, ada.pk),
        (None, ada.pk),
        (None, outsider.pk),
        (None, None),
    ]:
        before = Delivery.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            services.event_emit(
                kind=kind, project_id=project_id, person_id=person_id, data={}, text="t"
            )
        delivered = Delivery.objects.count() > before
        said = services.listening(kind=kind, project_id=project_id, person_id=person_id)
        assert said == delivered, (project_id, person_id)


def test_a_failed_generation_emits_generation_failed(
    ada, queued, pipeline, django_capture_on_commit_callbacks
) -> None:
    from generations import services as generation_services

    endpoint = endpoint_for(url="https://a.example.com/", person=ada)
    with django_capture_on_commit_callbacks(execute=True):
        generation = generation_services.generation_create(
            owner=ada, params=GenerationParams(prompt="a storm", num_images=1), project=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert state.fail(generation.pk, kind="provider", message="It broke.")
    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    assert delivery.event == Event.GENERATION_FAILED
    data = delivery.payload["data"]
    assert data["generation"]["id"] == str(generation.uuid)
    assert data["generation"]["error"] == "It broke."
    assert data["url"].endswith(f"/generations/{generation.uuid}/")


def test_a_finished_generation_emits_generation_finished_once(
    ada, queued, django_capture_on_commit_callbacks
) -> None:
    harbour = make_project(ada)
    endpoint = endpoint_for(url="https://a.example.com/", project=harbour)
    image = make_image(ada, project=harbour)
    Generation.objects.filter(pk=image.generation_id).update(status=Status.SAVING)
    with django_capture_on_commit_callbacks(execute=True):
        assert state.move(image.generation_id, Status.DONE, source=Status.SAVING)
        assert not state.move(image.generation_id, Status.DONE, source=Status.SAVING)
    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    assert delivery.event == Event.GENERATION_FINISHED
    assert delivery.payload["data"]["generation"]["images"] == 1
    assert delivery.payload["data"]["generation"]["project"]["name"] == "Harbour"


def test_sharing_an_image_posts_a_slack_message_with_its_public_thumbnail(
    ada, queued, settings, django_capture_on_commit_callbacks
) -> None:
    settings.DARKROOM_PUBLIC_URL = "https://darkroom.example.com"
    harbour = make_project(ada)
    endpoint_for(url="https://hooks.slack.com/x", project=harbour, format=Format.SLACK)
    image = make_image(ada, project=harbour, prompt="a red kite")
    with django_capture_on_commit_callbacks(execute=True):
        link = share_create(user=ada, image=image, expires_in_days=None, show_prompt=True)
    [delivery] = Delivery.objects.all()
    assert delivery.event == Event.IMAGE_SHARED
    message = delivery.payload
    assert "a red kite" in message["text"]
    [block] = message["blocks"]
    assert f"https://darkroom.example.com/s/{link.token}/" in block["text"]["text"]
    assert block["accessory"]["image_url"] == f"https://darkroom.example.com/s/{link.token}/image/"


def test_a_finished_generation_in_slack_format_has_a_link_and_no_private_image(
    ada, queued, settings, django_capture_on_commit_callbacks
) -> None:
    settings.DARKROOM_PUBLIC_URL = "https://darkroom.example.com"
    endpoint_for(url="https://hooks.slack.com/x", person=ada, format=Format.SLACK)
    image = make_image(ada, prompt="a red kite")
    Generation.objects.filter(pk=image.generation_id).update(status=Status.SAVING)
    with django_capture_on_commit_callbacks(execute=True):
        state.move(image.generation_id, Status.DONE, source=Status.SAVING)
    [block] = Delivery.objects.get().payload["blocks"]
    assert "https://darkroom.example.com/generations/" in block["text"]["text"]
    assert "accessory" not in block


def test_a_submit_taking_a_project_budget_past_80_percent_emits_budget_80(
    ada, queued, pipeline, django_capture_on_commit_callbacks
) -> None:
    from generations import services as generation_services

    harbour = make_project(ada)
    endpoint = endpoint_for(url="https://a.example.com/", project=harbour)
    Budget.objects.create(project=harbour, monthly_limit=Decimal("0.280"))  # ten 1k images
    with django_capture_on_commit_callbacks(execute=True):
        generation_services.generation_create(
            owner=ada, params=GenerationParams(prompt="p", num_images=9), project=harbour
        )
    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    assert delivery.event == Event.BUDGET_80
    budget = delivery.payload["data"]["budget"]
    assert budget["threshold_percent"] == 80 and budget["used"] == "0.252"
    assert budget["project"] == str(harbour.uuid)


# --- attempts -----------------------------------------------------------------------------------
def make_delivery(endpoint: Endpoint) -> Delivery:
    [pk] = services._emit_now(
        kind=Event.GENERATION_FINISHED,
        project_id=endpoint.project_id,
        person_id=endpoint.person_id,
        data={"n": 1},
        text="t",
        path="/p/",
        image_path="",
    )
    return Delivery.objects.get(pk=pk)


def test_a_delivery_is_sent_signed_and_recorded(ada, queued, receiver) -> None:
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    assert services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_code) == (1, 200)
    assert delivery.duration_ms is not None and delivery.next_attempt_at is None
    [got] = receiver.received
    assert json.loads(got.body) == delivery.payload
    assert got.headers["Darkroom-Event-Id"] == str(delivery.uuid)
    assert documented_verify()(endpoint.secret, got.body, got.headers["Darkroom-Signature"])
    assert not services.delivery_attempt(delivery_id=delivery.pk)  # sent: never again
    assert len(receiver.received) == 1


def test_failures_are_retried_with_a_doubling_wait(ada, queued, receiver) -> None:
    receiver.status = 500
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    waits = []
    for _ in range(3):
        before = timezone.now()
        assert services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING and delivery.response_code == 500
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))
        assert not services.delivery_attempt(delivery_id=delivery.pk)  # not due yet
        due(delivery)
    assert waits == [10, 20, 40]
    assert delivery.attempts == 3 and "HTTP 500" in delivery.error
    assert services.retry_wait(30) == timedelta(hours=1)
    receiver.status = 200
    assert services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 4
    assert len({r.headers["Darkroom-Event-Id"] for r in receiver.received}) == 1


def test_retries_stop_a_day_after_the_first_attempt(ada, queued, receiver) -> None:
    receiver.status = 500
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(
        first_attempt_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=55)
    )
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None


def test_a_claimed_delivery_is_not_sent_twice_at_once(ada, queued, receiver) -> None:
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now())
    assert not services.delivery_attempt(delivery_id=delivery.pk)
    assert receiver.received == []
    # A claim older than the lease is a dead worker's: taken over.
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - services.CLAIM_LEASE - timedelta(seconds=1)
    )
    assert services.delivery_attempt(delivery_id=delivery.pk)
    assert len(receiver.received) == 1


def test_a_private_address_fails_at_once_without_sending(ada, queued, receiver) -> None:
    endpoint = endpoint_for(url=receiver.url.replace("http:", "https:"), person=ada)
    delivery = make_delivery(endpoint)
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "private address" in delivery.error
    assert receiver.received == []


def test_a_day_of_failures_pauses_the_endpoint_and_mails_its_owners(
    ada, queued, receiver, django_capture_on_commit_callbacks
) -> None:
    receiver.status = 500
    harbour = make_project(ada)
    endpoint = endpoint_for(url=receiver.url, project=harbour, allow_private=True)
    first = make_delivery(endpoint)
    services.delivery_attempt(delivery_id=first.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.paused_at is None
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=25)
    )
    second = make_delivery(endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_attempt(delivery_id=second.pk)
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None and "a day" in endpoint.paused_reason
    [message] = mail.outbox
    assert message.to == ["ada@example.com"] and "paused" in message.subject
    assert f"/notifications/{endpoint.uuid}/" in message.body
    # Paused: no new deliveries, and the pending one is not sent.
    assert (
        services._emit_now(
            kind=Event.GENERATION_FINISHED,
            project_id=harbour.pk,
            person_id=None,
            data={},
            text="",
            path="",
            image_path="",
        )
        == []
    )
    due(first)
    sent = len(receiver.received)
    services.delivery_attempt(delivery_id=first.pk)
    first.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED and "paused" in first.error
    assert len(receiver.received) == sent
    # Resumed, and a success clears the failing.
    services.endpoint_resume(endpoint=endpoint)
    receiver.status = 204
    services.delivery_resend(delivery=first)
    services.delivery_attempt(delivery_id=first.pk)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_a_success_within_the_day_keeps_the_endpoint_going(ada, queued, receiver) -> None:
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=20)
    )
    services.delivery_attempt(delivery_id=make_delivery(endpoint).pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_resend_sends_the_same_event_again(
    ada, queued, receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    services.delivery_attempt(delivery_id=delivery.pk)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and queued == [delivery.pk]
    assert services.delivery_attempt(delivery_id=delivery.pk)
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["Darkroom-Event-Id"] == second.headers["Darkroom-Event-Id"]
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == DeliveryStatus.SUCCEEDED


def test_the_sweeper_queues_due_deliveries_whose_task_was_lost(ada, queued) -> None:
    endpoint = endpoint_for(url="https://a.example.com/", person=ada)
    lost = make_delivery(endpoint)
    waiting = make_delivery(endpoint)
    Delivery.objects.filter(pk=waiting.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    sending = make_delivery(endpoint)
    Delivery.objects.filter(pk=sending.pk).update(claimed_at=timezone.now())
    queued.clear()
    assert services.deliveries_sweep() == 1
    assert queued == [lost.pk]


def test_a_test_event_reaches_a_paused_endpoint(ada, queued, receiver) -> None:
    endpoint = endpoint_for(
        url=receiver.url, person=ada, allow_private=True, paused_at=timezone.now()
    )
    pk = services.endpoint_test(endpoint=endpoint, by=ada)
    services.delivery_attempt(delivery_id=pk)
    [got] = receiver.received
    assert got.headers["Darkroom-Event"] == "endpoint.test"


def test_the_task_queues_the_next_attempt_for_when_it_is_due(
    ada, queued, receiver, monkeypatch
) -> None:
    from hooks import tasks

    receiver.status = 500
    endpoint = endpoint_for(url=receiver.url, person=ada, allow_private=True)
    delivery = make_delivery(endpoint)
    scheduled = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, eta: scheduled.append((args, eta))
    )
    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert scheduled == [((delivery.pk,), delivery.next_attempt_at)]
    receiver.status = 200
    due(delivery)
    scheduled.clear()
    tasks.deliver(delivery.pk)
    assert scheduled == []  # delivered: nothing more
    tasks.deliver(delivery.pk)  # a duplicate message: nothing sent again
    assert len(receiver.received) == 2
