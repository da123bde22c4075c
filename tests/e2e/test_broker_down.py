"""The broker down when someone generates: the form still answers with the queued run (not a
500 that invites paying twice), and the sweeper sends it once the broker is back."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from generations.models import Generation, Status
from spend.models import EntryKind, LedgerEntry
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FORM = {
    "prompt": "a lighthouse while the broker is down",
    "aspect_ratio": "16:9",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
}


def test_a_run_made_while_the_broker_is_down_is_queued_and_sent_later(
    client, user, sim, start_worker, redis_server, celery_broker, caplog
) -> None:
    redis = redis_server(start=False)  # a port where nothing listens, yet
    celery_broker(redis.url)
    client.force_login(user)

    started = time.monotonic()
    response = client.post(reverse("generations:generate"), FORM)
    answered = time.monotonic() - started
    assert response.status_code == 302, response.content.decode()[:2000]
    assert answered < 10, f"the form took {answered:.1f} s with the broker down"
    # The submit really met the dead broker, and was let go with a warning.
    (failed,) = [r for r in caplog.records if r.getMessage().startswith("Could not queue")]
    assert "submit_due" in failed.getMessage()
    assert isinstance(failed.exc_info[1], OperationalError), failed.exc_info

    generation = Generation.objects.get()
    assert generation.status == Status.QUEUED
    entries = LedgerEntry.objects.filter(generation=generation)
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.HOLD, generation.quoted_cost)]
    page = client.get(response["Location"]).content.decode()
    shown = page.split(f'id="run-{generation.uuid}"', 1)[1].split("</article>", 1)[0]
    assert 'data-status="queued"' in shown

    # The broker comes back; nothing queued the submit, so the sweeper must.
    redis.start()
    start_worker(REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url)
    wait_for(
        lambda: Generation.objects.get(pk=generation.pk).status in (Status.DONE, Status.FAILED),
        timeout=30,
        what="the queued run to finish",
    )
    generation.refresh_from_db()
    assert generation.status == Status.DONE, generation.error_message
    assert len(sim.submits()) == 1
    print(f"the form answered in {answered:.2f} s with the broker down")
