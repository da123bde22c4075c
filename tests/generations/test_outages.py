"""Provider outages that must cost nothing: the pipeline step by step against the simulator.

Each test is named after the defect of issue 10 it covers; tests/e2e/test_outages.py runs the
long outages through a real worker.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from generations import services
from generations.models import ErrorKind, Generation, Status
from generations.services.saving import generation_retry_saving, remove_stale_downloads
from generations.services.submission import GenerationParams
from spend.models import LedgerEntry

pytestmark = pytest.mark.django_db


def create(user, **params) -> Generation:
    return services.generation_create(
        owner=user, params=GenerationParams(**{"prompt": "a harbour at dawn", **params})
    )


def finish(pipeline, generation: Generation, timeout: float = 20) -> Generation:
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final, timeout=timeout)
    generation.refresh_from_db()
    return generation


def run_until_status(pipeline, generation: Generation, status: str) -> Generation:
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).status == status)
    generation.refresh_from_db()
    return generation


def kinds(generation: Generation) -> list[str]:
    return sorted(LedgerEntry.objects.filter(generation=generation).values_list("kind", flat=True))


# --- Defect 2: a CDN outage during saving ---------------------------------------------------
def test_transient_download_errors_keep_a_paid_generation_saving(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="output", status=503, count=7)
    generation = create(user, num_images=1)
    generation = run_until_status(pipeline, generation, Status.SAVING)

    for _ in range(7):  # far more tries than the old limit of five
        pipeline.run_next()
        generation.refresh_from_db()
        if (
            generation.status != Status.SAVING
            or pipeline.queued[0].name != "save_generation_outputs"
        ):
            break
        assert generation.error_kind == ErrorKind.DOWNLOAD
        assert generation.error_message.startswith(
            "Saving: WaveSpeed's files are unreachable, retrying"
        )

    generation = finish(pipeline, generation)
    assert generation.status == Status.DONE, generation.error_message
    assert generation.images.count() == 1
    assert kinds(generation) == ["charge", "hold", "release"]  # charged once


def test_the_save_backoff_grows_to_hours_and_waits_for_the_sweeper_past_ten_minutes(
    user, sim, pipeline
) -> None:
    sim.fault("drop_connection", endpoint="output", count=20)
    generation = create(user)
    generation = run_until_status(pipeline, generation, Status.SAVING)
    Generation.objects.filter(pk=generation.pk).update(save_attempts=11)
    pipeline.run_next()  # the 12th try fails: 3 s × 2^11 is past the one-hour cap

    generation.refresh_from_db()
    assert generation.status == Status.SAVING
    wait = (generation.next_step_at - timezone.now()).total_seconds()
    assert 0.75 * 3600 < wait <= 1.25 * 3600
    assert "next try in " in generation.error_message
    assert any(unit in generation.error_message for unit in (" min;", " h;"))
    # Nothing sits in the broker for an hour: the sweeper queues the save when it is due.
    assert "save_generation_outputs" not in pipeline.names()


def test_a_gone_answer_is_read_twice_before_the_save_fails(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="output", status=404, count=1)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.DONE  # one 404, then the file was there

    sim.fault("http", endpoint="output", status=410, count=2)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == ErrorKind.DOWNLOAD
    assert "expired or was refused" in generation.error_message
    assert generation.save_attempts == 2


def test_a_save_gives_up_on_passing_errors_only_when_the_links_have_expired(
    user, sim, pipeline
) -> None:
    sim.fault("http", endpoint="output", status=502, count=3)
    generation = create(user)
    generation = run_until_status(pipeline, generation, Status.SAVING)
    Generation.objects.filter(pk=generation.pk).update(
        completed_at=timezone.now() - timedelta(days=7, seconds=1)
    )
    generation = finish(pipeline, generation)
    assert generation.status == Status.FAILED
    assert "stayed unreachable until their links expired" in generation.error_message


def test_staff_retry_saving_brings_back_a_generation_whose_downloads_failed(
    user, sim, pipeline
) -> None:
    sim.fault("http", endpoint="output", status=403, count=2)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    charged = kinds(generation)

    assert generation_retry_saving(generation_id=generation.pk)
    generation = finish(pipeline, generation)

    assert generation.status == Status.DONE
    assert generation.images.count() == 1
    assert kinds(generation) == charged  # no second charge, no new hold


def test_retry_saving_refuses_what_it_cannot_save(user, sim, pipeline) -> None:
    sim.fault("fail_prediction")
    failed_on_provider = finish(pipeline, create(user))
    assert failed_on_provider.error_kind == ErrorKind.PREDICTION
    assert not generation_retry_saving(generation_id=failed_on_provider.pk)

    sim.fault("http", endpoint="output", status=404, count=2)
    expired = finish(pipeline, create(user))
    Generation.objects.filter(pk=expired.pk).update(completed_at=timezone.now() - timedelta(days=8))
    assert not generation_retry_saving(generation_id=expired.pk)
    assert Generation.objects.get(pk=expired.pk).status == Status.FAILED


# --- Defect 3: a provider outage during submitting ------------------------------------------
def test_a_refused_connection_is_retried_for_the_whole_window(user, pipeline, settings) -> None:
    settings.WAVESPEED_BASE_URL = "http://127.0.0.1:9"  # nothing listens: connection refused
    settings.WAVESPEED_API_KEY = "test-key"
    generation = create(user)
    for _ in range(10):
        pipeline.run_next()
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert generation.submit_attempts == 10
    assert generation.error_kind == ErrorKind.NETWORK
    assert generation.error_message.startswith("Waiting for WaveSpeed")
    assert kinds(generation) == ["hold"]

    # Half an hour after the first failure, it is given up and the hold released.
    Generation.objects.filter(pk=generation.pk).update(
        submit_retry_since=timezone.now() - timedelta(minutes=31)
    )
    pipeline.run_next()
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert "did not take the request for 31 minutes" in generation.error_message
    assert kinds(generation) == ["hold", "release"]


# --- Defect 7: a history that echoes a normalised input -------------------------------------
def test_a_lost_answer_is_found_in_a_history_that_omits_defaults(user, sim, pipeline) -> None:
    sim.configure(history_inputs="normalised")
    sim.fault("drop_connection", endpoint="submit")  # created, but the answer is lost
    generation = create(user, aspect_ratio="auto", resolution="1k", num_images=1)
    pipeline.run_next()
    assert pipeline.names() == ["reconcile_job"]

    generation = finish(pipeline, generation)

    assert generation.status == Status.DONE
    assert len(sim.submits()) == 1  # adopted, never sent again
    [prediction] = sim.predictions()
    assert generation.provider_id == prediction["id"]


def test_a_history_item_with_our_prompt_but_other_settings_is_never_resent(
    user, sim, pipeline
) -> None:
    sim.fault("drop_connection", endpoint="submit")
    generation = create(user, resolution="2k")
    pipeline.run_next()
    # The provider echoes something we cannot match exactly (it changed a field).
    [prediction] = sim.predictions()
    Generation.objects.filter(pk=generation.pk).update(
        request_payload={**generation.request_payload, "resolution": "4k"}
    )
    pipeline.run_next()  # reconcile

    generation.refresh_from_db()
    assert generation.status == Status.NEEDS_ATTENTION
    assert "with this prompt but other settings" in generation.error_message
    assert "never reached" not in generation.error_message
    assert len(sim.submits()) == 1
    assert prediction["id"] not in Generation.objects.values_list("provider_id", flat=True)


def test_a_history_without_inputs_parks_the_generation_without_resending(
    user, sim, pipeline
) -> None:
    sim.configure(history_inputs="none")
    sim.fault("drop_connection", endpoint="submit")
    generation = create(user)
    pipeline.run_next()
    pipeline.run_next()
    generation.refresh_from_db()
    assert generation.status == Status.NEEDS_ATTENTION
    assert "does not show the inputs" in generation.error_message
    assert len(sim.submits()) == 1
    assert kinds(generation) == ["hold"]  # kept until a person decides


def test_a_clear_absence_sends_again_and_says_what_the_history_showed(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=500)  # the simulator's 500 creates nothing
    generation = create(user)
    pipeline.run_next()
    pipeline.run_next()  # reconcile: every item has an input, none is ours
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert "history shows that the earlier request did not arrive" in generation.error_message
    assert finish(pipeline, generation).status == Status.DONE
    assert len(sim.submits()) == 2


# --- Defect 8: a 404 on a poll --------------------------------------------------------------
def test_a_single_404_on_a_poll_is_read_again_before_failing(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="result", status=404, count=1)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.DONE
    assert generation.error_kind == ""

    sim.fault("http", endpoint="result", status=404, count=2)
    generation = finish(pipeline, create(user))
    assert generation.status == Status.FAILED
    assert generation.error_kind == ErrorKind.NOT_FOUND


# --- Defect 8: orphans of a killed save -----------------------------------------------------
def test_files_a_killed_save_left_behind_are_deleted_when_it_resumes(user, sim, pipeline) -> None:
    generation = create(user)
    generation = run_until_status(pipeline, generation, Status.SAVING)
    # What a worker killed between writing the files and creating their rows leaves: files
    # under the names it recorded first.
    names = ["originals/ab/orphan-original.png", "thumbnails/ab/orphan-thumb.webp"]
    for name in names:
        assert default_storage.save(name, ContentFile(b"partial")) == name
    Generation.objects.filter(pk=generation.pk).update(pending_files=names)

    generation = finish(pipeline, generation)

    assert generation.status == Status.DONE
    assert generation.pending_files == []
    assert not any(default_storage.exists(name) for name in names)
    image = generation.images.get()
    assert default_storage.exists(image.file.name)
    assert all(default_storage.exists(t.file.name) for t in image.thumbnails.all())


def test_the_temporary_download_of_a_killed_save_is_deleted_when_it_resumes(
    user, sim, pipeline
) -> None:
    generation = create(user)
    generation = run_until_status(pipeline, generation, Status.SAVING)
    folder = Path(django_settings.VAR_DIR) / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    left = folder / f"download-g{generation.pk}-killed.part"  # as save_output names them
    other = folder / f"download-g{generation.pk}0-alive.part"  # another generation's
    left.write_bytes(b"half a png")
    other.write_bytes(b"someone else's")
    try:
        generation = finish(pipeline, generation)
        assert generation.status == Status.DONE
        assert not left.exists()
        assert other.exists()
    finally:
        other.unlink(missing_ok=True)


def test_stale_temporary_downloads_are_removed() -> None:
    folder = Path(django_settings.VAR_DIR) / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "download-old.part", folder / "download-fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    try:
        assert remove_stale_downloads() >= 1
        assert not old.exists()
        assert fresh.exists()
    finally:
        fresh.unlink(missing_ok=True)
