"""A script's whole path through the API with a real worker: a create retried with the same
Idempotency-Key (one generation, one hold), polled to done, the original downloaded byte for
byte as WaveSpeed served it, and the signed "generation.finished" notification received and
verified."""

from __future__ import annotations

import json

import httpx
import pytest
from django.test import Client

from accounts.services import token_create
from generations.models import Generation
from hooks.models import Endpoint, Event
from spend.models import LedgerEntry
from tests.hooks.receiver import running_receiver
from tests.hooks.test_sending import documented_verify
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

V1 = "/api/v1"


def test_a_script_creates_twice_polls_downloads_and_hears_it_signed(
    user, sim, start_worker
) -> None:
    secret = token_create(user=user, name="script", scopes=["read", "generate"]).secret
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    with running_receiver() as receiver:
        endpoint = Endpoint.objects.create(
            person=user, url=receiver.url, events=[Event.GENERATION_FINISHED], allow_private=True
        )
        start_worker()

        # A client that timed out sends the same request again, with the same key.
        request = {"prompt": "a lighthouse for a script", "num_images": 1, "resolution": "1k"}
        created = [
            api.post(
                f"{V1}/generations",
                request,
                content_type="application/json",
                headers={"Idempotency-Key": "sheet-row-1"},
            )
            for _ in range(2)
        ]
        assert [r.status_code for r in created] == [201, 200]
        made = created[0].json()
        assert created[1].json()["uuid"] == made["uuid"]
        assert Generation.objects.count() == 1
        assert LedgerEntry.objects.filter(generation__uuid=made["uuid"]).count() == 1

        def done() -> bool:
            state = api.get(f"{V1}/generations/{made['uuid']}").json()["state"]
            assert state != "failed"
            return state == "done"

        wait_for(done, timeout=90, what="the generation done, polled through the API")
        finished = api.get(f"{V1}/generations/{made['uuid']}").json()
        [output] = finished["outputs"]
        response = api.get(f"{V1}/images/{output['uuid']}/original")
        assert response.status_code == 200
        downloaded = b"".join(response.streaming_content)
        [served_url] = Generation.objects.get().output_urls
        assert downloaded == httpx.get(served_url, timeout=10).content
        assert len(sim.submits()) == 1

        wait_for(lambda: receiver.received, timeout=30, what="the notification")
        [got] = receiver.received
        assert documented_verify()(endpoint.secret, got.body, got.headers["Darkroom-Signature"])
        body = json.loads(got.body)
        assert body["type"] == "generation.finished"
        assert body["data"]["generation"]["id"] == made["uuid"]
