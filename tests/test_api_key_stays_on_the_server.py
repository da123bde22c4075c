"""The WaveSpeed API key appears in no page, partial, log line or error message."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from generations import services
from generations.models import Generation
from generations.services.submission import GenerationParams

pytestmark = pytest.mark.django_db

KEY = "ws-live-SECRET-0123456789abcdef"


def test_the_key_never_leaves_the_server(client, user, sim, pipeline, settings, caplog) -> None:
    settings.WAVESPEED_API_KEY = KEY
    caplog.set_level(logging.DEBUG)
    # One that works, one the provider refuses (401), one with a provider error while polling.
    done = services.generation_create(owner=user, params=GenerationParams(prompt="fine"))
    pipeline.run_until(lambda: Generation.objects.get(pk=done.pk).is_final)
    sim.configure(rejected_keys=[KEY])
    refused = services.generation_create(owner=user, params=GenerationParams(prompt="refused"))
    pipeline.run_until(lambda: Generation.objects.get(pk=refused.pk).is_final)
    sim.configure(rejected_keys=[])
    sim.fault("http", endpoint="result", status=500, count=2)
    flaky = services.generation_create(owner=user, params=GenerationParams(prompt="flaky"))
    pipeline.run_until(lambda: Generation.objects.get(pk=flaky.pk).is_final)

    client.force_login(user)
    image = done.images.get()
    pages = [
        reverse("generations:generate"),
        reverse("generations:recent"),
        reverse("gallery:gallery"),
        reverse("gallery:image_detail", args=[image.uuid]),
        *(reverse("generations:generation_detail", args=[g.uuid]) for g in (done, refused, flaky)),
    ]
    for url in pages:
        for headers in ({}, {"HX-Request": "true"}):
            assert KEY not in client.get(url, headers=headers).content.decode()
    for generation in Generation.objects.all():
        assert KEY not in generation.error_message
        assert KEY not in str(generation.request_payload)
    assert Generation.objects.get(pk=refused.pk).error_kind == "auth"
    assert caplog.records, "the pipeline logged nothing: this test would prove nothing"
    assert all(KEY not in record.getMessage() for record in caplog.records)
    # The simulator saw it, so it was really sent, only ever in the header.
    assert all(request["has_authorization"] for request in sim.requests("/api/v3/"))
