"""The admin: why a generation failed, and settling one that needs attention."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from generations.models import ErrorKind, Generation, ResultVia, Status

pytestmark = pytest.mark.django_db


def make(user, **fields) -> Generation:
    return Generation.objects.create(
        owner=user,
        prompt="a tower",
        price_per_image=Decimal("0.028"),
        quoted_cost=Decimal("0.028"),
        **fields,
    )


def test_the_admin_list_shows_why_a_generation_failed(client, staff, user) -> None:
    make(
        user,
        status=Status.FAILED,
        error_kind=ErrorKind.AUTH,
        error_message="WaveSpeed rejected the API key (401: Invalid API key)",
    )
    client.force_login(staff)
    html = client.get(reverse("admin:generations_generation_changelist")).content.decode()
    assert "API key rejected" in html
    assert "WaveSpeed rejected the API key" in html


def test_the_admin_shows_and_filters_how_each_result_arrived(client, staff, user) -> None:
    by_webhook = make(user, status=Status.DONE, result_via=ResultVia.WEBHOOK, provider_id="hooked")
    make(user, status=Status.DONE, result_via=ResultVia.POLL, poll_count=3, provider_id="polled")
    client.force_login(staff)
    url = reverse("admin:generations_generation_changelist")
    html = client.get(url).content.decode()
    assert "column-result_via" in html and ">Webhook<" in html and ">Poll<" in html
    filtered = client.get(url, {"result_via__exact": "webhook"}).content.decode()
    assert "hooked" in filtered and "polled" not in filtered
    detail = client.get(
        reverse("admin:generations_generation_change", args=[by_webhook.pk])
    ).content.decode()
    assert "Result via" in detail and "Webhook" in detail


def test_entering_the_prediction_id_of_a_lost_submit_resumes_it(
    client, staff, user, sim, pipeline
) -> None:
    from wavespeed.client import WaveSpeedClient
    from wavespeed.specs import KLING_IMAGE_O3

    prediction = WaveSpeedClient(base_url=sim.base_url, api_key="k").submit(
        KLING_IMAGE_O3, {"prompt": "a tower"}
    )
    generation = make(user, status=Status.NEEDS_ATTENTION, error_message="lost")
    client.force_login(staff)
    url = reverse("admin:generations_generation_change", args=[generation.pk])
    inline = {f"images-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS")}
    response = client.post(url, {"provider_id": prediction.id, **inline})
    assert response.status_code == 302
    generation.refresh_from_db()
    assert (generation.status, generation.provider_id) == (Status.SUBMITTED, prediction.id)
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE


def test_the_prediction_id_is_not_editable_otherwise(client, staff, user) -> None:
    generation = make(user, status=Status.PROCESSING, provider_id="abc")
    client.force_login(staff)
    url = reverse("admin:generations_generation_change", args=[generation.pk])
    html = client.get(url).content.decode()
    assert 'name="provider_id"' not in html


def test_mark_failed_only_touches_generations_that_need_attention(client, staff, user) -> None:
    waiting = make(user, status=Status.NEEDS_ATTENTION, error_message="lost")
    running = make(user, status=Status.PROCESSING)
    client.force_login(staff)
    client.post(
        reverse("admin:generations_generation_changelist"),
        {"action": "mark_failed", "_selected_action": [waiting.pk, running.pk]},
    )
    waiting.refresh_from_db()
    running.refresh_from_db()
    assert waiting.status == Status.FAILED
    assert "Marked as failed by root" in waiting.error_message
    assert running.status == Status.PROCESSING


def test_an_ordinary_person_cannot_open_the_admin(client, user) -> None:
    client.force_login(user)
    response = client.get(reverse("admin:generations_generation_changelist"))
    assert response.status_code == 302
