"""The generation pipeline, step by step, against the simulator over real HTTP.

Tasks are recorded by the `pipeline` fixture and run here in order; tests/e2e runs the same
steps through a real broker and worker.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generations import services
from generations.jobs import GENERATION
from generations.models import Generation, OutputImage, Renditions, Status
from generations.services.submission import GenerationParams
from spend.models import LedgerEntry
from wavespeed import runner

pytestmark = pytest.mark.django_db


def create(user, **params) -> Generation:
    return services.generation_create(
        owner=user, params=GenerationParams(**{"prompt": "a harbour at dawn", **params})
    )


def finish(pipeline, generation: Generation, timeout: float = 15) -> Generation:
    def final() -> bool:
        return Generation.objects.get(pk=generation.pk).is_final

    pipeline.run_until(final, timeout=timeout)
    generation.refresh_from_db()
    return generation


def test_a_generation_goes_from_queued_to_done_with_stored_images(user, sim, pipeline) -> None:
    generation = create(user, aspect_ratio="16:9", resolution="1k", num_images=2)
    assert generation.status == Status.QUEUED
    assert generation.request_payload == {
        "prompt": "a harbour at dawn",
        "aspect_ratio": "16:9",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 2,
    }
    assert pipeline.names() == ["submit_due"]

    generation = finish(pipeline, generation)

    assert generation.status == Status.DONE
    assert generation.provider_id
    assert generation.cost == Decimal("0.056")
    assert generation.inference_ms and generation.inference_ms > 0
    images = list(generation.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    for image in images:
        assert (image.width, image.height) == (1360, 768)
        assert image.format == "PNG"
        with default_storage.open(image.file.name) as fp, Image.open(fp) as decoded:
            assert decoded.size == (1360, 768)
        # Done and shown before its thumbnails: they are a task of their own, queued now.
        assert image.renditions == Renditions.PENDING
        assert not image.thumbnails.exists() and image.placeholder == ""
    assert [t.args for t in pipeline.queued if t.name == "make_image_renditions"] == [
        (images[0].pk,),
        (images[1].pk,),
    ]

    assert pipeline.make_thumbnails() == 2
    for image in images:
        image.refresh_from_db()
        assert image.renditions == Renditions.READY
        assert image.placeholder  # the BlurHash comes with them
        assert image.renditions_pending_files == []
        sizes = sorted((t.size, max(t.width, t.height)) for t in image.thumbnails.all())
        assert sizes == [(256, 256), (512, 512), (1024, 1024)]
    [submit] = sim.submits()
    assert submit["json"] == generation.request_payload


def test_the_original_is_kept_byte_for_byte(user, sim, pipeline) -> None:
    import hashlib

    import httpx

    generation = finish(pipeline, create(user))
    image = generation.images.get()
    served = httpx.get(generation.output_urls[0]).content
    with default_storage.open(image.file.name) as fp:
        stored = fp.read()
    assert stored == served
    assert image.sha256 == hashlib.sha256(served).hexdigest()
    assert image.bytes == len(served)


def test_jpeg_outputs_are_read_as_jpeg_whatever_the_url(user, sim, pipeline) -> None:
    sim.configure(output_format="jpeg")
    generation = finish(pipeline, create(user, aspect_ratio="1:1"))
    image = generation.images.get()
    assert (image.format, image.content_type) == ("JPEG", "image/jpeg")
    assert (image.width, image.height) == (1024, 1024)


def test_a_failed_prediction_shows_its_error_and_costs_nothing(user, sim, pipeline) -> None:
    sim.fault("fail_prediction", code=1200, error="The prompt was flagged by moderation")
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == "prediction"
    assert generation.error_code == 1200
    assert "flagged by moderation" in generation.error_message
    assert generation.cost == 0
    assert generation.request_payload["prompt"] == "a harbour at dawn"


def test_a_rejected_key_fails_with_a_message_that_says_so(user, sim, pipeline, settings) -> None:
    sim.configure(rejected_keys=[settings.WAVESPEED_API_KEY])
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == "auth"
    assert "rejected the API key" in generation.error_message
    assert settings.WAVESPEED_API_KEY not in generation.error_message


def test_no_balance_fails_with_a_message_that_says_so(user, sim, pipeline) -> None:
    sim.configure(balance=0)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == "balance"
    assert "no balance" in generation.error_message


def test_429_on_submit_is_retried_after_retry_after(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=429, retry_after=3, count=2)
    generation = create(user)
    pipeline.run_next()
    retry = pipeline.queued[0]
    assert retry.name == "submit_job"
    assert retry.countdown >= 3
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert "Waiting for WaveSpeed" in generation.error_message
    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert generation.submit_attempts == 3
    assert len(sim.submits()) == 3  # two refused, one accepted


def test_a_submit_refused_past_the_retry_window_fails_with_the_providers_message(
    user, sim, pipeline, settings
) -> None:
    settings.SUBMIT_RETRY_WINDOW_SECONDS = 0  # the second refusal is past the window
    sim.fault("http", endpoint="submit", status=429, count=10, message="Too many images per minute")
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == "rate_limit"
    assert "Too many images per minute" in generation.error_message
    assert "nothing was charged" in generation.error_message
    assert generation.submit_attempts == 2


def test_submits_refused_within_the_retry_window_keep_trying_and_keep_the_hold(
    user, sim, pipeline
) -> None:
    sim.fault("http", endpoint="submit", status=503, count=8)
    generation = create(user)
    for _ in range(8):
        pipeline.run_next()
        generation.refresh_from_db()
        assert generation.status == Status.QUEUED
        assert generation.error_message.startswith("Waiting for WaveSpeed")
        assert LedgerEntry.objects.filter(generation=generation, kind="hold").exists()
        assert not LedgerEntry.objects.filter(generation=generation, kind="release").exists()
    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert len(sim.submits()) == 9  # 8 refused (nothing created), then one accepted
    assert generation.submit_retry_since is None


def test_a_5xx_on_submit_is_checked_in_the_history_before_sending_again(
    user, sim, pipeline
) -> None:
    # The simulator's 500 creates nothing: the history shows the request never arrived.
    sim.fault("http", endpoint="submit", status=500)
    generation = create(user)
    pipeline.run_next()
    assert pipeline.names() == ["reconcile_job"]
    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert len(sim.submits()) == 2
    assert len(sim.requests("/api/v3/predictions")) >= 1


def test_a_lost_submit_answer_is_found_in_the_history_and_not_sent_again(
    user, sim, pipeline, settings
) -> None:
    settings.WAVESPEED_SUBMIT_TIMEOUT = 0.3
    sim.fault("slow", endpoint="submit", seconds=1.0)
    generation = create(user)
    pipeline.run_next()
    assert pipeline.names() == ["reconcile_job"]
    time.sleep(0.8)
    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert len(sim.submits()) == 1
    [prediction_id] = [p["id"] for p in sim.predictions()]
    assert generation.provider_id == prediction_id


def test_5xx_while_polling_is_retried(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="result", status=502, count=2)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.DONE
    assert generation.poll_errors == 0


def test_an_expired_output_url_fails_clearly_and_keeps_the_generation(user, sim, pipeline) -> None:
    sim.fault("expire_outputs")
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == "download"
    assert "expired" in generation.error_message
    assert generation.cost == Decimal("0.028")  # the provider did the work
    assert Generation.objects.filter(pk=generation.pk).exists()


def test_nsfw_flags_are_kept_per_image(user, sim, pipeline) -> None:
    sim.fault("nsfw")
    generation = finish(pipeline, create(user))
    assert generation.images.get().nsfw is True


def test_running_a_submit_twice_sends_once(user, sim, pipeline) -> None:
    generation = create(user)
    runner.submit(GENERATION, generation.pk)
    runner.submit(GENERATION, generation.pk)
    assert len(sim.submits()) == 1


def test_two_chains_of_polls_collapse_into_one(user, sim, pipeline) -> None:
    generation = create(user)
    pipeline.run_next()  # submit
    follow = pipeline.queued[0]
    assert follow.name == "follow_job"
    runner.follow(GENERATION, generation.pk, follow.args[2])
    polls = len(sim.requests("/result"))
    runner.follow(GENERATION, generation.pk, follow.args[2])
    assert len(sim.requests("/result")) == polls


def test_saving_twice_stores_each_output_once(user, sim, pipeline) -> None:
    generation = create(user, num_images=2)
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).status == Status.SAVING)
    services.generation_save_outputs(generation_id=generation.pk)
    services.generation_save_outputs(generation_id=generation.pk)
    assert OutputImage.objects.filter(generation=generation).count() == 2
    generation.refresh_from_db()
    assert generation.status == Status.DONE


def test_the_sweeper_resumes_a_generation_whose_task_was_lost(
    user, sim, pipeline, settings
) -> None:
    settings.STALE_AFTER_SECONDS = 0
    generation = create(user)
    pipeline.run_next()  # submitted; its first poll is queued...
    pipeline.queued.clear()  # ...and lost with its worker.
    Generation.objects.filter(pk=generation.pk).update(next_step_at=generation.created_at)
    counts = runner.sweep()
    assert counts["generation_follow"] == 1
    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert len(sim.submits()) == 1


def test_a_series_is_billed_per_image_delivered(user, sim, pipeline) -> None:
    generation = finish(pipeline, create(user, result_type="series", num_images=1))
    assert "num_images" not in generation.request_payload
    delivered = generation.images.count()
    assert delivered > 1
    assert generation.cost == Decimal("0.028") * delivered


def test_a_generation_waiting_behind_the_accounts_limit_is_followed_to_the_end(
    user, sim, pipeline
) -> None:
    # A new account runs two tasks at a time; the rest wait in `created`.
    sim.configure(concurrency=1, latency=0.6)
    first, second = create(user, prompt="first"), create(user, prompt="second")
    pipeline.run_next()
    pipeline.run_next()
    statuses: set[str] = set()

    def both_final() -> bool:
        statuses.add(Generation.objects.get(pk=second.pk).status)
        return all(Generation.objects.get(pk=g.pk).is_final for g in (first, second))

    pipeline.run_until(both_final, timeout=20)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.DONE, Status.DONE)
    assert Status.SUBMITTED in statuses  # it waited, still `created` at the provider
    assert second.processing_at > first.processing_at


def test_the_poll_schedule_backs_off_up_to_its_cap(settings) -> None:
    from wavespeed.timing import poll_delay

    settings.POLL_MIN_SECONDS, settings.POLL_FACTOR, settings.POLL_MAX_SECONDS = 1, 1.5, 15
    delays = [poll_delay(n) for n in range(1, 12)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.2 <= delays[1] <= 1.8
    assert all(d <= 15 * 1.2 for d in delays)
    assert delays[-1] >= 15 * 0.8


def test_a_poll_that_times_out_is_retried(user, sim, pipeline, settings) -> None:
    settings.WAVESPEED_READ_TIMEOUT = 0.3
    sim.fault("slow", endpoint="result", seconds=1.0)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.DONE


def test_a_prediction_that_disappears_fails_clearly(user, sim, pipeline) -> None:
    generation = create(user)
    pipeline.run_next()
    generation.refresh_from_db()
    sim.delete_prediction(generation.provider_id)
    generation = finish(pipeline, generation)
    assert generation.status == Status.FAILED
    assert generation.error_kind == "not_found"
    assert "Could not read the prediction" in generation.error_message


def test_polls_come_closer_while_the_provider_is_working(settings) -> None:
    from wavespeed.timing import processing_poll_cap

    settings.POLL_MAX_SECONDS, settings.POLL_PROCESSING_MIN_SECONDS = 15, 2
    assert processing_poll_cap(0) <= 2 * 1.2
    assert 6 * 0.8 <= processing_poll_cap(30) <= 6 * 1.2
    assert processing_poll_cap(600) <= 15 * 1.2


def test_a_first_save_of_one_image_is_a_few_statements(user, sim, pipeline) -> None:
    """The claim returns the row, a first claim does not look for images saved before, and
    the last image's row and the move to done share one transaction (with no heartbeat
    between them)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    generation = create(user, num_images=1)
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).status == Status.SAVING)
    with CaptureQueriesContext(connection) as queries:
        services.generation_save_outputs(generation_id=generation.pk)
    statements = [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert statements == ["UPDATE", "UPDATE", "INSERT", "UPDATE"], statements
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    assert generation.pending_files == []
    assert generation.save_claimed_at is None
    assert generation.images.count() == 1
