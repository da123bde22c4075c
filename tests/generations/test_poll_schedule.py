"""Without webhooks, the first poll of a generation waits for most of the time runs of its shape
have lately taken, so a 10 s run is looked at two or three times instead of five or six."""

from __future__ import annotations

from datetime import timedelta

import pytest

from generations import jobs
from generations.models import Generation
from generations.services import generation_create
from generations.services.submission import GenerationParams
from tests.factories import make_image
from wavespeed import webhooks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_typical_times():
    jobs._typical.clear()
    yield
    jobs._typical.clear()


def finished_runs(user, count: int, seconds: float, **shape) -> None:
    for _ in range(count):
        generation = make_image(user, **shape).generation
        Generation.objects.filter(pk=generation.pk).update(
            submitted_at=generation.created_at,
            completed_at=generation.created_at + timedelta(seconds=seconds),
        )


def first_poll_after(user, pipeline, **shape) -> float:
    pipeline.queued.clear()  # an earlier generation's polls
    generation = generation_create(owner=user, params=GenerationParams(prompt="a harbour", **shape))
    pipeline.run_next()  # the submit; the first poll is now due
    generation.refresh_from_db()
    assert generation.submitted_at
    return (generation.next_step_at - generation.submitted_at).total_seconds()


def test_the_first_poll_waits_for_most_of_a_typical_run(user, sim, pipeline) -> None:
    finished_runs(user, 6, seconds=10.0, resolution="1k", num_images=1)
    assert 7.0 <= first_poll_after(user, pipeline, resolution="1k", num_images=1) <= 9.0


def test_without_enough_history_or_for_another_shape_it_polls_soon(user, sim, pipeline) -> None:
    finished_runs(user, 4, seconds=10.0, resolution="1k", num_images=1)  # fewer than five
    assert first_poll_after(user, pipeline, resolution="1k", num_images=1) < 2.0
    finished_runs(user, 6, seconds=30.0, resolution="4k", num_images=4)
    jobs._typical.clear()
    assert first_poll_after(user, pipeline, resolution="1k", num_images=1) < 2.0


def test_with_webhooks_the_fallback_poll_keeps_its_own_wait(user, sim, pipeline, settings) -> None:
    settings.DARKROOM_PUBLIC_URL = "https://darkroom.example.com"
    settings.WAVESPEED_WEBHOOK_SECRET = "whsec_test"
    webhooks.forget_secret()
    finished_runs(user, 6, seconds=10.0, resolution="1k", num_images=1)
    expected = settings.EXPECTED_RUN_SECONDS + settings.WEBHOOK_GRACE_SECONDS
    assert first_poll_after(user, pipeline, resolution="1k", num_images=1) == pytest.approx(
        expected, abs=1.0
    )
