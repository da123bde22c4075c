"""A generation through the form, a real worker, and a local receiver that gets the signed
"generation.finished" notification and verifies it with the documented snippet."""

from __future__ import annotations

import json

import pytest

from hooks.models import Delivery, DeliveryStatus, Endpoint, Event
from tests.e2e.test_studio import submit_through_the_form
from tests.hooks.receiver import running_receiver
from tests.hooks.test_sending import documented_verify
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_worker_delivers_a_signed_generation_finished(client, user, sim, start_worker) -> None:
    with running_receiver() as receiver:
        # A receiver on this machine: staff allow the endpoint private addresses (the admin).
        endpoint = Endpoint.objects.create(
            person=user,
            url=receiver.url,
            events=[Event.GENERATION_FINISHED, Event.GENERATION_FAILED],
            allow_private=True,
        )
        start_worker()
        client.force_login(user)
        generation = submit_through_the_form(client, num_images=1, prompt="a signed lighthouse")

        wait_for(lambda: receiver.received, timeout=90, what="the notification")
        [got] = receiver.received
        assert got.headers["Darkroom-Event"] == "generation.finished"
        assert documented_verify()(endpoint.secret, got.body, got.headers["Darkroom-Signature"])
        body = json.loads(got.body)
        assert body["type"] == "generation.finished"
        assert body["data"]["generation"]["id"] == str(generation.uuid)
        assert body["data"]["generation"]["prompt"] == "a signed lighthouse"
        assert body["data"]["generation"]["images"] == 1
        wait_for(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(),
            timeout=15,
            what="the delivery recorded",
        )
        delivery = Delivery.objects.get()
        assert str(delivery.uuid) == got.headers["Darkroom-Event-Id"] == body["id"]
        assert (delivery.attempts, delivery.response_code) == (1, 200)
