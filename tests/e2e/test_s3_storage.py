"""Media on a real S3 API: moto's S3 server over HTTP (tests/s3_server.py), configured exactly as
settings/base.py configures S3 from the AWS_ variables, in this process (the views) and in a real
Celery worker (saving, thumbnails, reference uploads to WaveSpeed, the trash purge).

Every byte is compared with what the bucket holds, read with a boto3 client of the test's own."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config import media
from config.settings.base import s3_media_storage
from gallery.tasks import purge_trash
from generations.models import Generation, OutputImage, Status, Thumbnail
from imaging.images import THUMBNAIL_SIZES
from references.models import ReferenceImage
from tests.conftest import free_port
from tests.factories import image_bytes, make_image
from tests.generations.reference_images import encoded, gradient
from tests.processes import wait_for
from tests.s3_server import S3Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    server = S3Server(free_port(), tmp_path_factory.mktemp("s3") / "s3-server.log").start()
    yield server
    server.stop()


@dataclass
class Bucket:
    name: str
    server: S3Server

    @property
    def environment(self) -> dict[str, str]:
        return self.server.environment(self.name)

    def object_keys(self) -> set[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def unsigned_url(self, key: str) -> str:
        return f"{self.server.endpoint_url}/{self.name}/{quote(key)}"


@pytest.fixture
def bucket(s3_server: S3Server, settings, monkeypatch) -> Bucket:
    """A new bucket, and this process's default storage in it as base.py builds it from the
    environment (the worker gets the same variables)."""
    bucket = Bucket(f"darkroom-{uuid.uuid4().hex[:12]}", s3_server)
    s3_server.client().create_bucket(Bucket=bucket.name)
    for name, value in bucket.environment.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": s3_media_storage()}
    return bucket


def fetch(url: str) -> httpx.Response:
    """What a browser following the redirect gets: no cookies, no credentials of ours."""
    return httpx.get(url, timeout=10)


def signed_redirect(client, url: str, **query: str) -> str:
    response = client.get(url, query)
    assert response.status_code == 302, response.content[:500]
    assert {d.strip() for d in response["Cache-Control"].split(",")} == {"private", "no-store"}
    location = response["Location"]
    assert "X-Amz-Signature=" in location
    return location


def local_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db(transaction=True)
def test_a_generation_with_a_reference_lives_and_dies_in_the_bucket(
    client, settings, user, sim, start_worker, bucket: Bucket
) -> None:
    start_worker(DARKROOM_TEST_S3="1", **bucket.environment)
    client.force_login(user)

    # A reference upload is kept in the bucket, as it will be sent.
    photo = encoded(gradient((640, 480)), "JPEG", quality=90)
    response = client.post(
        reverse("generations:reference_upload"),
        {"reference_files": [SimpleUploadedFile("beach.jpg", photo, "image/jpeg")]},
    )
    assert response.status_code == 200
    reference = ReferenceImage.objects.get(owner=user)
    assert {reference.file.name, reference.preview.name} <= bucket.object_keys()
    kept = bucket.read(reference.file.name)
    assert hashlib.sha256(kept).hexdigest() == reference.sha256
    location = signed_redirect(client, reverse("generations:reference_file", args=[reference.uuid]))
    assert fetch(location).content == kept

    response = client.post(
        reverse("generations:generate"),
        {
            "prompt": "<<<image_1>>> at dusk",
            "aspect_ratio": "1:1",
            "resolution": "1k",
            "result_type": "single",
            "num_images": 2,
            "references": [str(reference.uuid)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    generation = Generation.objects.latest("created_at")
    wait_for(lambda: Generation.objects.get(pk=generation.pk).is_final, timeout=45, what="the run")
    generation.refresh_from_db()
    assert generation.status == Status.DONE, generation.error_message

    # The worker read the reference from the bucket and sent WaveSpeed those bytes.
    [submit] = sim.submits()
    [reference_url] = submit["json"]["images"]
    assert fetch(reference_url).content == kept

    # Originals and every thumbnail are objects in the bucket, and nothing went to a local disk.
    # The thumbnails come after the run is done (a task of their own), read from the bucket.
    wait_for(
        lambda: not generation.images.exclude(renditions="ready").exists(),
        timeout=45,
        what="the thumbnails",
    )
    images = list(generation.images.order_by("index"))
    assert len(images) == 2
    thumbnails = list(Thumbnail.objects.filter(image__in=images))
    assert len(thumbnails) == 2 * len(THUMBNAIL_SIZES)
    names = {i.file.name for i in images} | {t.file.name for t in thumbnails}
    assert names <= bucket.object_keys()
    assert local_files(settings) == []
    # Stored private by the worker too: nothing it saved is readable unsigned.
    assert {fetch(bucket.unsigned_url(name)).status_code for name in names} == {403}
    originals = {image.pk: bucket.read(image.file.name) for image in images}
    for image in images:
        assert hashlib.sha256(originals[image.pk]).hexdigest() == image.sha256
        assert len(originals[image.pk]) == image.bytes

    # Served: a redirect to a signed URL that answers with the object, as asked.
    for image in images:
        location = signed_redirect(
            client, reverse("gallery:image_original", args=[image.uuid]), download="1"
        )
        answer = fetch(location)
        assert answer.status_code == 200
        assert answer.content == originals[image.pk]
        assert answer.headers["content-type"] == image.content_type
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="{image.download_name}"'
        )
    thumbnail = next(t for t in thumbnails if t.size == 256)
    location = signed_redirect(
        client, reverse("gallery:image_thumbnail", args=[thumbnail.image.uuid, 256])
    )
    answer = fetch(location)
    assert answer.content == bucket.read(thumbnail.file.name)
    assert answer.headers["content-type"] == "image/webp"

    # The ZIP streams each original from its object.
    response = client.post(reverse("gallery:bulk_zip"), {"images": [str(i.uuid) for i in images]})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for image in images:
        assert archive.read(image.download_name) == originals[image.pk]

    # Trashed, then purged by the worker: the objects go, the reference stays.
    response = client.post(reverse("gallery:bulk_trash"), {"images": [str(i.uuid) for i in images]})
    assert response.status_code == 302
    OutputImage.objects.filter(pk__in=[i.pk for i in images]).update(
        deleted_at=timezone.now() - timedelta(days=settings.DARKROOM_TRASH_DAYS, minutes=1)
    )
    purge_trash.delay()
    wait_for(lambda: not names & bucket.object_keys(), timeout=30, what="the purge")
    assert not OutputImage.objects.filter(pk__in=[i.pk for i in images]).exists()
    assert {reference.file.name, reference.preview.name} <= bucket.object_keys()


@pytest.mark.django_db
def test_media_in_the_bucket_is_private_and_its_links_expire(
    client, user, bucket: Bucket, monkeypatch
) -> None:
    image = make_image(user)
    key = image.file.name
    assert key in bucket.object_keys()
    original = bucket.read(key)
    assert original == image_bytes()

    # Nobody reads an object without a signature.
    refused = fetch(bucket.unsigned_url(key))
    assert refused.status_code == 403
    assert refused.content != original

    client.force_login(user)
    url = reverse("gallery:image_original", args=[image.uuid])
    location = signed_redirect(client, url)
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(media.SIGNED_URL_SECONDS)]
    assert media.SIGNED_URL_SECONDS <= 15 * 60
    assert fetch(location).content == original

    # The signature covers what S3 is asked to answer with.
    tampered = location.replace(
        "response-content-type=image%2Fpng", "response-content-type=text%2Fhtml"
    )
    assert tampered != location
    answer = fetch(tampered)
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content

    # And it stops working once its time is up.
    monkeypatch.setattr(media, "SIGNED_URL_SECONDS", 3)
    short = signed_redirect(client, url)
    signed_at = time.time()  # X-Amz-Date is this, to the second below
    assert fetch(short).content == original
    time.sleep(max(0.0, signed_at + 4.2 - time.time()))
    expired = fetch(short)
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content
