"""A run as the studio shows it: the phase in words, placeholders, failures in a person's words."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generations.models import ErrorKind, Generation, Status
from generations.runs import clock, run_of
from tests.factories import make_image

pytestmark = pytest.mark.django_db


def make_generation(owner, **fields) -> Generation:
    fields.setdefault("prompt", "a red kite")
    return Generation.objects.create(
        owner=owner,
        request_payload={"prompt": fields["prompt"]},
        price_per_image=Decimal("0.028"),
        quoted_cost=Decimal("0.028"),
        **fields,
    )


def test_the_clock_reads_like_a_stopwatch() -> None:
    assert [clock(s) for s in (0, 7, 65, 3723)] == ["0:00", "0:07", "1:05", "1:02:03"]


def test_a_queued_run_is_being_sent_with_a_placeholder_per_image(user) -> None:
    run = run_of(make_generation(user, num_images=4, aspect_ratio="16:9"))
    assert (run.state, run.phase, run.placeholders, run.ratio_class) == (
        "active",
        "Sending to WaveSpeed",
        4,
        "r-16-9",
    )


def test_a_queued_run_says_why_it_waits(user) -> None:
    message = "Waiting for WaveSpeed, which is not taking requests right now (HTTP 503)."
    run = run_of(make_generation(user, error_message=message))
    assert (run.phase, run.detail) == ("Waiting for WaveSpeed", message)


def test_a_run_left_in_the_providers_queue_waits_behind_the_account_limit(user, settings) -> None:
    settings.WAVESPEED_TASKS_AT_ONCE = 2
    now = timezone.now()
    generation = make_generation(user, status=Status.SUBMITTED, submitted_at=now, poll_count=1)
    assert run_of(generation, now=now + timedelta(seconds=2)).phase == "Queued at WaveSpeed"
    waiting = run_of(generation, now=now + timedelta(seconds=30))
    assert waiting.phase == "Waiting for WaveSpeed (your account runs 2 at a time)"
    # The card changes when the words do, so the poll answers with the new card.
    assert waiting.token != run_of(generation, now=now + timedelta(seconds=2)).token


def test_a_run_not_asked_about_since_its_submit_is_not_said_to_wait(user, settings) -> None:
    # Its webhook is awaited, or its first poll waits for most of a typical run: nothing says
    # it sits behind the account's limit, so the card does not claim it.
    now = timezone.now()
    generation = make_generation(user, status=Status.SUBMITTED, submitted_at=now, num_images=2)
    assert run_of(generation, now=now + timedelta(seconds=2)).phase == "Queued at WaveSpeed"
    later = run_of(generation, now=now + timedelta(seconds=30))
    assert later.phase == "At WaveSpeed: 2 images"
    assert later.token != run_of(generation, now=now).token


def test_a_processing_run_paints_and_counts_its_time(user) -> None:
    generation = make_generation(user, status=Status.PROCESSING, num_images=4)
    run = run_of(generation, now=generation.created_at + timedelta(seconds=7))
    assert (run.phase, run.clock) == ("Painting 4 images", "0:07")


def test_a_series_says_up_to_nine(user) -> None:
    generation = make_generation(user, status=Status.PROCESSING, result_type="series")
    run = run_of(generation)
    assert run.phase == "Painting a series of up to 9 images"
    assert run.series_open and run.placeholders == 3


def test_saved_images_replace_their_placeholders(user) -> None:
    image = make_image(user, size=(1360, 768), aspect_ratio="16:9", num_images=3)
    generation = image.generation
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.SAVING, output_urls=["a", "b", "c"]
    )
    generation.refresh_from_db()
    run = run_of(generation)
    assert (run.phase, len(run.images), run.placeholders) == ("Saving 1 of 3", 1, 2)


def test_an_auto_ratio_takes_the_shape_of_the_first_image(user) -> None:
    image = make_image(user, size=(1552, 656))  # the generation's aspect ratio is "auto"
    assert run_of(image.generation).ratio_class == "r-21-9"


def test_a_done_run_counts_its_images_and_leaves_trashed_ones_out(user) -> None:
    image = make_image(user)
    run = run_of(image.generation)
    assert (run.state, run.phase, run.placeholders) == ("done", "1 image", 0)
    image.deleted_at = timezone.now()
    image.save()
    generation = Generation.objects.get(pk=image.generation_id)
    assert run_of(generation).images == []


@pytest.mark.parametrize(
    ("kind", "title", "charged"),
    [
        (ErrorKind.PREDICTION, "The model could not make these images.", False),
        (ErrorKind.BALANCE, "The WaveSpeed account is out of credit.", False),
        (ErrorKind.DOWNLOAD, "The images were made but could not be downloaded.", True),
    ],
)
def test_a_failed_run_says_what_happened_and_what_to_do(user, kind, title, charged) -> None:
    generation = make_generation(
        user, status=Status.FAILED, error_kind=kind, error_message="raw provider text"
    )
    run = run_of(generation)
    assert run.state == "failed"
    assert run.failure.title == title
    assert run.failure.detail == "raw provider text"
    assert run.failure.retry
    assert ("Nothing was charged" in run.failure.advice) is not charged


def test_a_run_that_needs_attention_offers_no_retry(user) -> None:
    generation = make_generation(user, status=Status.NEEDS_ATTENTION, error_message="lost")
    run = run_of(generation)
    assert run.state == "failed"
    assert not run.failure.retry
    assert "Nothing is sent twice" in run.failure.advice
