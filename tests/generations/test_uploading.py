"""References reach WaveSpeed as its docs say: uploaded once per content, sent as `images`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations import services
from generations.models import Generation, GenerationReference, Status
from generations.references import reference_create
from generations.services.submission import GenerationParams
from references.models import ReferenceImage
from spend.models import LedgerEntry
from wavespeed.models import ProviderUpload

from .reference_images import encoded, gradient, png

pytestmark = pytest.mark.django_db

UPLOAD_PATH = "/api/v3/media/upload/binary"


def uploads(sim) -> list[dict]:
    return sim.posts(UPLOAD_PATH)


def references(user, count: int) -> list[ReferenceImage]:
    colours = ["teal", "orange", "navy", "olive", "maroon"]
    return [
        reference_create(owner=user, data=png((640, 480), colours[i]), name=f"ref-{i}.png")
        for i in range(count)
    ]


def create(user, refs: list[ReferenceImage], **params) -> Generation:
    return services.generation_create(
        owner=user,
        params=GenerationParams(
            prompt="<<<image_1>>> beside <<<image_2>>>",
            references=tuple(r.pk for r in refs),
            **params,
        ),
    )


def finish(pipeline, generation: Generation) -> Generation:
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    return generation


def test_references_are_uploaded_and_sent_as_images_in_order(user, sim, pipeline) -> None:
    first, second = references(user, 2)
    generation = create(user, [second, first])
    assert [link.reference for link in generation.reference_links.all()] == [second, first]
    assert "images" not in generation.request_payload  # resolved at submit time

    generation = finish(pipeline, generation)

    assert generation.status == Status.DONE
    urls = [ProviderUpload.objects.get(sha256=r.sha256).download_url for r in (second, first)]
    [submit] = sim.submits()
    assert submit["json"] == {
        "prompt": "<<<image_1>>> beside <<<image_2>>>",
        "images": urls,
        "aspect_ratio": "auto",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 1,
    }
    # What was sent is what the row says was sent (the history reconcile compares it).
    assert generation.request_payload == submit["json"]
    assert len(uploads(sim)) == 2
    # The upload carries the stored, normalised bytes under a name that is not the person's.
    assert all(r["has_authorization"] for r in uploads(sim))


def test_a_second_generation_with_the_same_reference_uploads_nothing(user, sim, pipeline) -> None:
    [reference] = references(user, 1)
    finish(pipeline, create(user, [reference]))
    assert len(uploads(sim)) == 1

    again = finish(pipeline, create(user, [reference]))

    assert again.status == Status.DONE
    assert len(uploads(sim)) == 1
    first_images, second_images = (s["json"]["images"] for s in sim.submits())
    assert first_images == second_images


def test_the_same_picture_from_another_person_is_not_uploaded_again(
    user, outsider, sim, pipeline
) -> None:
    data = encoded(gradient(), "PNG")
    mine = reference_create(owner=user, data=data, name="a.png")
    theirs = reference_create(owner=outsider, data=data, name="b.png")
    finish(pipeline, create(user, [mine]))
    finish(pipeline, create(outsider, [theirs]))
    assert len(uploads(sim)) == 1


def test_an_upload_older_than_the_reuse_window_is_uploaded_again(
    user, sim, pipeline, settings
) -> None:
    settings.WAVESPEED_UPLOAD_REUSE_DAYS = 6.0
    [reference] = references(user, 1)
    finish(pipeline, create(user, [reference]))
    old_url = ProviderUpload.objects.get().download_url
    ProviderUpload.objects.update(uploaded_at=timezone.now() - timedelta(days=6, minutes=1))

    generation = finish(pipeline, create(user, [reference]))

    assert generation.status == Status.DONE
    assert len(uploads(sim)) == 2
    row = ProviderUpload.objects.get()  # refreshed, not duplicated
    assert row.download_url != old_url
    assert timezone.now() - row.uploaded_at < timedelta(minutes=1)
    assert sim.submits()[-1]["json"]["images"] == [row.download_url]


def test_an_upload_inside_the_window_is_reused(user, sim, pipeline) -> None:
    [reference] = references(user, 1)
    finish(pipeline, create(user, [reference]))
    ProviderUpload.objects.update(uploaded_at=timezone.now() - timedelta(days=5, hours=23))
    finish(pipeline, create(user, [reference]))
    assert len(uploads(sim)) == 1


def test_a_transient_upload_fault_is_retried_then_succeeds(user, sim, pipeline) -> None:
    [reference] = references(user, 1)
    generation = create(user, [reference])
    sim.fault("http", endpoint="upload", status=503)

    pipeline.run_next()  # the submit: its upload fails

    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert generation.submit_claimed_at is None
    assert "Waiting for WaveSpeed" in generation.error_message
    assert sim.submits() == []  # nothing was submitted without its reference
    assert pipeline.names() == ["submit_job"]

    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE
    assert [r["status"] for r in uploads(sim)] == [503, 200]
    assert len(sim.submits()) == 1


def test_a_permanent_upload_refusal_fails_the_generation_and_frees_its_hold(
    user, sim, pipeline
) -> None:
    [reference] = references(user, 1)
    generation = create(user, [reference])
    sim.fault("http", endpoint="upload", status=400, message="Invalid parameter 'file'")

    generation = finish(pipeline, generation)

    assert generation.status == Status.FAILED
    assert generation.error_message.startswith(
        "A reference image could not be uploaded to WaveSpeed:"
    )
    assert "Invalid parameter 'file'" in generation.error_message
    assert sim.submits() == []
    kinds = list(LedgerEntry.objects.filter(generation=generation).values_list("kind", flat=True))
    assert sorted(kinds) == ["hold", "release"]


def test_an_upload_that_keeps_failing_gives_up_once_the_retry_window_is_over(
    user, sim, pipeline, settings
) -> None:
    settings.SUBMIT_RETRY_WINDOW_SECONDS = 0  # the second failure is past the window
    [reference] = references(user, 1)
    generation = create(user, [reference])
    sim.fault("http", endpoint="upload", status=503, count=5)

    generation = finish(pipeline, generation)

    assert generation.status == Status.FAILED
    assert "did not take the request for 0 minutes (2 tries)" in generation.error_message
    assert sim.submits() == []


def test_a_generation_cannot_use_another_persons_reference(user, outsider) -> None:
    [theirs] = references(outsider, 1)
    with pytest.raises(ValueError, match="references its owner may see"):
        create(user, [theirs])
    assert not Generation.objects.exists()
    assert not GenerationReference.objects.exists()
