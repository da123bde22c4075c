"""The job runner's kinds: each is sent with the webhook URL, ended by a webhook delivery as by a
poll, and swept by the one beat entry. The runner's own behaviour (claims, reconcile, backoff,
404 confirm, give-up, sweep) is tested through generations (tests/generations) and, for what
differs by kind, in each kind's tests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from elements.models import Creation, Element
from generations.models import EnhancementStatus, PromptEnhancement
from generations.services.enhancing import enhancement_create
from spend.models import EntryKind, LedgerEntry
from tests.elements.test_create_on_kling import create_on_kling
from tests.generations.test_webhooks import deliver, final_body, result_polls
from wavespeed import runner, webhooks

pytestmark = pytest.mark.django_db

SECRET = "whsec_tests-secret"
PUBLIC = "https://darkroom.example.com"


@pytest.fixture(autouse=True)
def _webhooks_on(settings):
    settings.WAVESPEED_WEBHOOK_SECRET = SECRET
    settings.DARKROOM_PUBLIC_URL = PUBLIC
    settings.WEBHOOK_GRACE_SECONDS = 7
    webhooks.forget_secret()
    yield
    webhooks.forget_secret()


def test_every_kind_is_registered_once_under_its_own_name() -> None:
    names = [kind.name for kind in runner.kinds()]
    assert sorted(names) == ["element", "enhancement", "generation"]
    assert {kind.model for kind in runner.kinds()} == {
        Element,
        PromptEnhancement,
        runner.kind_named("generation").model,
    }


def test_an_enhancer_use_is_ended_by_its_webhook(client, user, sim, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text="a kite", style="default")
    pipeline.run_next()  # submit_job

    [submit] = sim.posts("/api/v3/wavespeed-ai/prompt-optimizer")
    assert submit["query"] == {"webhook": f"{PUBLIC}/hooks/wavespeed/"}
    [fallback] = pipeline.queued
    assert fallback.name == "follow_job" and fallback.countdown == 2 + 7  # expected run + grace
    enhancement.refresh_from_db()
    body = final_body(sim, enhancement.provider_id)
    polls = result_polls(sim)

    response = deliver(client, body)
    assert response.status_code == 200 and response.content == b"applied"

    enhancement.refresh_from_db()
    assert enhancement.status == EnhancementStatus.DONE and enhancement.suggestion
    assert enhancement.result_via == "webhook"
    charges = LedgerEntry.objects.filter(enhancement=enhancement, kind=EntryKind.CHARGE)
    assert charges.count() == 1
    pipeline.run_next()  # the fallback poll finds its claim gone
    assert result_polls(sim) == polls and pipeline.queued == []


def test_an_element_creation_is_ended_by_its_webhook(client, user, sim, pipeline) -> None:
    client.force_login(user)
    create_on_kling(client)
    pipeline.run_next()  # submit_job (uploads the views, then submits)

    [submit] = sim.posts("/api/v3/kwaivgi/kling-elements")
    assert submit["query"] == {"webhook": f"{PUBLIC}/hooks/wavespeed/"}
    element = Element.objects.get()
    assert element.creation == Creation.RUNNING

    response = deliver(client, final_body(sim, element.provider_id))
    assert response.status_code == 200 and response.content == b"applied"

    element.refresh_from_db()
    assert element.creation == Creation.DONE and element.kling_element_id
    assert element.result_via == "webhook" and element.cost == element.price
    # A second delivery of that end (another webhook-id) changes nothing.
    again = deliver(client, final_body(sim, element.provider_id), webhook_id="msg_2")
    assert again.status_code == 202 and again.content == b"ignored"


def test_a_delivery_for_a_prediction_no_job_holds_is_left_alone(client, sim) -> None:
    body = b'{"id": "nobody-holds-this", "model": "kwaivgi/kling-elements", "status": "completed"}'
    response = deliver(client, body)
    assert response.status_code == 202 and response.content == b"unknown"


def test_the_receiver_answers_at_its_one_address() -> None:
    assert reverse("wavespeed:webhook") == "/hooks/wavespeed/"
