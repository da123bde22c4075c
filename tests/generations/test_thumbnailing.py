"""A save's second step: thumbnails and placeholder made after the original is shown
(generations/services/thumbnailing.py), what pages and the API show before and after, a
failure, a killed or lost run, and the trash purge."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from gallery.services import trash
from generations.models import Generation, OutputImage, Renditions, Status, Thumbnail
from generations.services import image_make_renditions
from generations.services import thumbnailing as thumbnailing_module
from generations.services.submission import GenerationParams
from generations.services.sweeping import renditions_sweep, saves_sweep
from generations.tasks import make_image_renditions
from tests.factories import image_bytes, make_image
from tests.processes import purge_every_queue
from wavespeed import timing

pytestmark = pytest.mark.django_db


def token_of(user) -> str:
    from accounts.models import TokenScope
    from accounts.services import token_create

    return token_create(user=user, name="test", scopes=[TokenScope.READ]).secret


def original_url(image: OutputImage) -> str:
    return reverse("gallery:image_original", args=[image.uuid])


def thumbnail_url(image: OutputImage, size: int) -> str:
    return reverse("gallery:image_thumbnail", args=[image.uuid, size])


def stored(name: str) -> bool:
    return default_storage.exists(name)


# --- the step itself ---------------------------------------------------------------------------


def test_it_makes_the_thumbnails_and_placeholder_and_runs_once(user) -> None:
    image = make_image(user, size=(640, 360), thumbnails=False)
    assert image_make_renditions(image_id=image.pk) is True
    image.refresh_from_db()
    assert image.renditions == Renditions.READY
    assert image.placeholder and image.renditions_claimed_at is None
    thumbs = {t.size: (t.width, t.height) for t in image.thumbnails.all()}
    # Never upscaled: a 640 px original's 1024 "thumbnail" is its own size, as before.
    assert thumbs == {256: (256, 144), 512: (512, 288), 1024: (640, 360)}
    assert all(stored(t.file.name) for t in image.thumbnails.all())

    # A second copy of the task (a duplicate message, the sweeper) changes nothing.
    names = set(Thumbnail.objects.values_list("file", flat=True))
    assert image_make_renditions(image_id=image.pk) is False
    assert set(Thumbnail.objects.values_list("file", flat=True)) == names


def test_a_running_claim_is_left_alone_until_it_expires(user) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    OutputImage.objects.filter(pk=image.pk).update(renditions_claimed_at=timezone.now())
    assert image_make_renditions(image_id=image.pk) is False
    expired = timezone.now() - thumbnailing_module.RENDITIONS_LEASE - timedelta(seconds=1)
    OutputImage.objects.filter(pk=image.pk).update(renditions_claimed_at=expired)
    assert image_make_renditions(image_id=image.pk) is True


def test_a_killed_runs_files_are_deleted_when_the_next_one_claims(user) -> None:
    """A worker killed after writing thumbnails but before recording them leaves their names on
    the image (written before the first byte); the run that takes over deletes them."""
    image = make_image(user, size=(64, 48), thumbnails=False)
    strays = [
        default_storage.save("thumbnails/test/stray.webp", ContentFile(b"RIFF0000WEBP"))
        for _ in range(2)
    ]
    expired = timezone.now() - thumbnailing_module.RENDITIONS_LEASE - timedelta(seconds=1)
    OutputImage.objects.filter(pk=image.pk).update(
        renditions_claimed_at=expired, renditions_pending_files=strays
    )
    assert image_make_renditions(image_id=image.pk) is True
    assert not any(stored(name) for name in strays)
    image.refresh_from_db()
    assert image.renditions_pending_files == [] and image.thumbnails.count() == 3


def test_an_original_that_will_not_decode_is_marked_and_shown_as_it_is(
    user, client, caplog
) -> None:
    """A JPEG cut short passes the save's checks (header only) and fails to decode here: the
    image is marked, logged, never retried, and every page keeps showing its original."""
    data = image_bytes("JPEG", size=(300, 200))
    image = make_image(user, size=(300, 200), thumbnails=False)
    image.file = default_storage.save("originals/test/cut.jpg", ContentFile(data[: len(data) // 2]))
    image.format, image.content_type = "JPEG", "image/jpeg"
    image.save(update_fields=["file", "format", "content_type"])

    with caplog.at_level(logging.WARNING, logger="generations.services.thumbnailing"):
        assert image_make_renditions(image_id=image.pk) is False
    image.refresh_from_db()
    assert image.renditions == Renditions.FAILED
    assert not image.thumbnails.exists() and image.renditions_pending_files == []
    assert f"Image {image.uuid}: its thumbnails cannot be made" in caplog.text

    client.force_login(user)
    response = client.get(thumbnail_url(image, 512))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Darkroom-Thumbnail"] == "failed"
    page = client.get(reverse("gallery:gallery")).content.decode()
    assert f'src="{original_url(image)}" width="300" height="200"' in page
    # Not retried by the sweeper: only pending images are.
    OutputImage.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert renditions_sweep() == 0


def test_an_image_purged_while_its_thumbnails_are_made_leaves_no_file(user, monkeypatch) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    before = set(_files_under("thumbnails"))
    real = thumbnailing_module.process_image

    def process_then_purge(fp):  # the purge removes the row while the pixels are decoded
        processed = real(fp)
        OutputImage.objects.filter(pk=image.pk).delete()
        return processed

    monkeypatch.setattr(thumbnailing_module, "process_image", process_then_purge)
    assert image_make_renditions(image_id=image.pk) is False
    assert set(_files_under("thumbnails")) == before


def _files_under(top: str) -> list[str]:
    found = []
    directories = [top]
    while directories:
        directory = directories.pop()
        if not default_storage.exists(directory):
            continue
        subdirectories, files = default_storage.listdir(directory)
        directories.extend(f"{directory}/{d}" for d in subdirectories)
        found.extend(f"{directory}/{f}" for f in files)
    return found


# --- the trash purge ---------------------------------------------------------------------------


def test_the_purge_removes_thumbnails_made_late_and_a_killed_runs_files(user, settings) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    trash.images_trash(user=user, images=[image])
    # Made after the image went to the trash (it can be restored): the purge removes them too.
    assert image_make_renditions(image_id=image.pk) is True
    thumbs = list(Thumbnail.objects.filter(image=image).values_list("file", flat=True))
    stray = default_storage.save("thumbnails/test/stray.webp", ContentFile(b"RIFF0000WEBP"))
    OutputImage.objects.filter(pk=image.pk).update(
        renditions_pending_files=[stray],
        deleted_at=timezone.now() - timedelta(days=settings.DARKROOM_TRASH_DAYS + 1),
    )
    with django_capture_on_commit():
        assert trash.trash_purge() == 1
    assert not OutputImage.objects.filter(pk=image.pk).exists()
    assert not any(stored(name) for name in [*thumbs, stray, image.file.name])


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


# --- the sweeper -------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The thumbnail tasks the sweeper queues (recorded, not sent)."""
    purge_every_queue()
    sent: list[tuple[int, ...]] = []

    def record(task, countdown, *args):
        if task is make_image_renditions:
            sent.append(args)

    monkeypatch.setattr(timing, "after_commit", record)
    yield sent
    purge_every_queue()


def test_the_sweeper_queues_a_lost_second_step_once_the_queue_has_drained(
    user, settings, queued
) -> None:
    settings.STALE_AFTER_SECONDS = 60
    lost = make_image(user, size=(64, 48), thumbnails=False)
    fresh = make_image(user, size=(64, 48), thumbnails=False)
    running = make_image(user, size=(64, 48), thumbnails=False)
    done = make_image(user, size=(64, 48))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    OutputImage.objects.filter(pk__in=[lost.pk, running.pk, done.pk]).update(created_at=an_hour_ago)
    OutputImage.objects.filter(pk=running.pk).update(renditions_claimed_at=timezone.now())

    # While the thumbnails queue holds messages, the late one is most likely among them.
    make_image_renditions.apply_async(args=[0])
    assert timing.messages_waiting(make_image_renditions.name) == 1
    assert saves_sweep()["image_renditions"] == 0
    assert queued == []

    purge_every_queue()  # drained, and this image's task was not in it: it was lost
    assert saves_sweep()["image_renditions"] == 1
    assert queued == [(lost.pk,)]
    # The task it queued makes them; nothing is late any more.
    make_image_renditions.run(lost.pk)
    assert OutputImage.objects.get(pk=lost.pk).renditions == Renditions.READY
    # `fresh` is not late, and `running`'s worker holds a live claim.
    assert renditions_sweep() == 0
    assert queued == [(lost.pk,)]
    assert fresh.renditions == running.renditions == Renditions.PENDING


def test_the_sweeper_takes_over_a_killed_worker_s_claim(user, settings, queued) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    OutputImage.objects.filter(pk=image.pk).update(
        created_at=an_hour_ago, renditions_claimed_at=timezone.now()
    )
    assert renditions_sweep() == 0  # its worker may still be at it
    OutputImage.objects.filter(pk=image.pk).update(renditions_claimed_at=an_hour_ago)
    assert renditions_sweep() == 1
    assert queued == [(image.pk,)]


# --- what pages and the API show ---------------------------------------------------------------


def test_a_tile_shows_the_original_until_its_thumbnails_exist(user, client) -> None:
    image = make_image(user, size=(640, 360), thumbnails=False)
    client.force_login(user)

    page = client.get(reverse("gallery:gallery")).content.decode()
    # The original at its real shape (the layout does not move), no srcset, no placeholder yet.
    assert f'<img src="{original_url(image)}" width="640" height="360"' in page
    assert thumbnail_url(image, 256) not in page and "data-blurhash" not in page

    image_make_renditions(image_id=image.pk)
    image.refresh_from_db()
    page = client.get(reverse("gallery:gallery")).content.decode()
    small = thumbnail_url(image, 256)
    assert f'<img src="{small}" srcset="{small} 256w' in page
    assert f'data-blurhash="{image.placeholder}"' in page


def test_a_run_card_shows_the_original_until_its_thumbnails_exist(user, client) -> None:
    image = make_image(user, size=(640, 360), thumbnails=False)
    client.force_login(user)
    detail = reverse("generations:generation_detail", args=[image.generation.uuid])
    page = client.get(detail).content.decode()
    assert f'<img src="{original_url(image)}" width="640" height="360"' in page

    image_make_renditions(image_id=image.pk)
    page = client.get(detail).content.decode()
    assert f'<img src="{thumbnail_url(image, 512)}"' in page


@pytest.mark.parametrize("api", [False, True])
def test_a_thumbnail_address_answers_the_original_until_it_exists(
    user, outsider, client, api
) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    if api:
        headers = {"Authorization": f"Bearer {token_of(user)}"}
        url = f"/api/v1/images/{image.uuid}/thumbnails/256"
        outsider_headers = {"Authorization": f"Bearer {token_of(outsider)}"}
    else:
        client.force_login(user)
        headers, outsider_headers = {}, None
        url = thumbnail_url(image, 256)

    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Darkroom-Thumbnail"] == "pending"
    assert response["Cache-Control"] == "private, no-cache"  # the thumbnail will replace it
    assert b"".join(response.streaming_content) == default_storage.open(image.file.name).read()

    image_make_renditions(image_id=image.pk)
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "X-Darkroom-Thumbnail" not in response
    assert "immutable" in response["Cache-Control"]

    # The same access checks either way: someone else gets nothing.
    if outsider_headers is not None:
        assert client.get(url, headers=outsider_headers).status_code == 404
    else:
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_the_toast_of_a_finished_run_links_its_first_image_before_thumbnails(user, client) -> None:
    image = make_image(user, size=(64, 48), thumbnails=False)
    client.force_login(user)
    response = client.get(reverse("generations:runs_active"), {"watch": str(image.generation.uuid)})
    [run] = response.json()["runs"]
    assert run["thumb"] == thumbnail_url(image, 256)


# --- through the pipeline: done (and visible) before the thumbnails ----------------------------


def test_a_generation_is_done_and_shown_before_its_thumbnails(user, sim, pipeline, client):
    from generations import services

    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="a harbour", aspect_ratio="16:9")
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    image = generation.images.get()
    assert image.renditions == Renditions.PENDING
    client.force_login(user)
    assert f'src="{original_url(image)}" width="1360" height="768"' in (
        client.get(reverse("gallery:gallery")).content.decode()
    )
    with default_storage.open(image.file.name) as fp:
        assert fp.read(8) == b"\x89PNG\r\n\x1a\n"
    assert pipeline.make_thumbnails() == 1
    assert OutputImage.objects.get(pk=image.pk).renditions == Renditions.READY


def test_the_admin_lists_images_by_the_state_of_their_thumbnails(client, staff, user) -> None:
    failed = make_image(user, size=(64, 48), thumbnails=False)
    OutputImage.objects.filter(pk=failed.pk).update(renditions=Renditions.FAILED)
    ready = make_image(user, size=(64, 48))
    client.force_login(staff)
    url = reverse("admin:generations_outputimage_changelist")
    page = client.get(url, {"renditions__exact": "failed"}).content.decode()
    assert str(failed.uuid) in page and str(ready.uuid) not in page
    assert "Could not be made" in page
