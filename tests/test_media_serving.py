"""How a stored file leaves, once a view has checked the viewer's rights: streamed by Django,
handed to nginx through X-Accel-Redirect, or redirected to a signed S3 URL. Never public."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse

from config import media
from generations.models import Generation, Status

PREFIX = "/_protected_media/"
BODY = b"\x89PNG not really, but bytes all the same"
IMMUTABLE = "private, max-age=31536000, immutable"


@pytest.fixture
def stored() -> str:
    return default_storage.save("originals/ab/abcdef.png", ContentFile(BODY))


# --- Development: Django streams the file -----------------------------------------------------


def test_without_a_prefix_django_streams_the_file(settings, stored: str) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    response = media.file_response(stored, "image/png")
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == BODY
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="abcdef.png"'
    assert response["Cache-Control"] == IMMUTABLE
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response.has_header("X-Accel-Redirect")


def test_a_streamed_download_is_an_attachment(settings, stored: str) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    response = media.file_response(stored, "image/png", download=True, filename="mine.png")
    assert b"".join(response.streaming_content) == BODY
    assert response["Content-Disposition"] == 'attachment; filename="mine.png"'


# --- Behind nginx: X-Accel-Redirect ----------------------------------------------------------


def test_with_a_prefix_nginx_is_told_which_file_to_send(settings, stored: str) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    response = media.file_response(stored, "image/png")
    assert not response.streaming
    assert response.content == b""
    assert response["X-Accel-Redirect"] == "/_protected_media/originals/ab/abcdef.png"
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="abcdef.png"'
    assert response["Cache-Control"] == IMMUTABLE
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_accelerated_download_is_an_attachment_with_its_name(settings, stored: str) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    response = media.file_response(stored, "image/jpeg", download=True, filename="darkroom-1é.jpg")
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''darkroom-1%C3%A9.jpg"


def test_the_redirect_path_is_url_quoted(settings) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    response = media.file_response("originals/a b/c+d%é?.png", "image/png")
    assert response["X-Accel-Redirect"] == "/_protected_media/originals/a%20b/c%2Bd%25%C3%A9%3F.png"


@pytest.mark.parametrize(
    "name",
    [
        "../secret.png",
        "originals/../../secret.png",
        "originals/..",
        "/etc/passwd",
        "originals//ab.png",
        "./originals/ab.png",
        "originals/ab/",
        "originals\\..\\..\\secret.png",
        "originals/ab\0.png",
        "",
    ],
)
@pytest.mark.parametrize("prefix", ["", PREFIX])
def test_a_name_that_is_not_a_plain_relative_path_is_refused(
    settings, tmp_path, name: str, prefix: str
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = prefix
    # Something to reach, one folder above MEDIA_ROOT (tests/conftest.py: tmp_path / "media").
    (tmp_path / "secret.png").write_bytes(b"secret")
    with pytest.raises(SuspiciousFileOperation):
        media.file_response(name, "image/png")


def test_other_storages_are_streamed_even_with_a_prefix(settings) -> None:
    # X-Accel-Redirect only makes sense for files nginx can see on its disk.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    name = default_storage.save("originals/cd/in-memory.png", ContentFile(BODY))
    response = media.file_response(name, "image/png")
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == BODY
    assert not response.has_header("X-Accel-Redirect")


# --- S3: a short-lived signed URL -------------------------------------------------------------


@pytest.fixture
def s3_storage(settings, monkeypatch) -> None:
    """django-storages' S3 backend exactly as base.py builds it from the AWS_ variables, with
    made-up credentials. Signing a URL is local computation; any attempt to reach the network
    fails the test (tests/e2e/test_s3_storage.py follows the URLs on a real S3 server)."""
    pytest.importorskip("storages.backends.s3")
    from config.settings.base import s3_media_storage

    def no_network(*args, **kwargs):
        raise AssertionError("signing an S3 URL must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    for name, value in {
        "AWS_STORAGE_BUCKET_NAME": "darkroom-media",
        "AWS_S3_ENDPOINT_URL": "https://s3.example.test",
        "AWS_S3_REGION_NAME": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "test-only-secret-key",
    }.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": s3_media_storage()}


def test_s3_media_is_a_redirect_to_a_short_lived_signed_url(settings, s3_storage) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX  # ignored: nginx cannot see S3's files
    response = media.file_response(
        "originals/ab/abcdef.png", "image/png", download=True, filename="darkroom-1.png"
    )
    assert response.status_code == 302
    assert not response.has_header("X-Accel-Redirect")
    assert response["Cache-Control"] == "private, no-store"
    url = urlsplit(response["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert url.scheme == "https" and url.hostname.endswith("s3.example.test")
    assert url.path.endswith("/originals/ab/abcdef.png")
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # not version 2: see base.py
    assert query["X-Amz-Credential"].startswith("AKIAEXAMPLEEXAMPLE00/")
    assert query["X-Amz-Expires"] == str(media.SIGNED_URL_SECONDS)
    assert media.SIGNED_URL_SECONDS <= 15 * 60
    assert query["X-Amz-Signature"]
    assert query["response-content-type"] == "image/png"
    assert query["response-content-disposition"] == 'attachment; filename="darkroom-1.png"'


def test_s3_media_to_view_is_inline(s3_storage) -> None:
    response = media.file_response("thumbnails/ab/abcdef.webp", "image/webp")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-disposition"] == ['inline; filename="abcdef.webp"']
    assert query["response-content-type"] == ["image/webp"]


# --- Through the real views -------------------------------------------------------------------


@pytest.fixture
def done_generation(db, user, sim, pipeline) -> Generation:
    from generations import services
    from generations.services.submission import GenerationParams

    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="a quiet forest", num_images=1)
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    pipeline.make_thumbnails()
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    return generation


@pytest.mark.django_db
def test_the_owner_gets_the_original_through_nginx(
    client, settings, user, done_generation: Generation
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    image = done_generation.images.get()
    client.force_login(user)
    url = reverse("gallery:image_original", args=[image.uuid])

    response = client.get(url, {"download": "1"})
    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == PREFIX + image.file.name
    # What nginx's alias resolves it to is the stored file.
    assert (settings.MEDIA_ROOT / image.file.name).is_file()
    assert response["Content-Type"] == image.content_type
    assert response["Content-Disposition"] == f'attachment; filename="{image.download_name}"'
    # Files keep their own header (config/middleware.py makes pages no-store, not files).
    assert response["Cache-Control"] == IMMUTABLE

    thumbnail = image.thumbnails.get(size=256)
    response = client.get(reverse("gallery:image_thumbnail", args=[image.uuid, 256]))
    assert response["X-Accel-Redirect"] == PREFIX + thumbnail.file.name
    assert response["Content-Type"] == "image/webp"


@pytest.mark.django_db
def test_an_outsider_and_a_stranger_get_no_redirect(
    client, settings, outsider, done_generation: Generation
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = PREFIX
    image = done_generation.images.get()
    urls = [
        reverse("gallery:image_original", args=[image.uuid]),
        reverse("gallery:image_thumbnail", args=[image.uuid, 256]),
    ]
    for url in urls:
        anonymous = client.get(url)
        assert anonymous.status_code == 302
        assert not anonymous.has_header("X-Accel-Redirect")
    client.force_login(outsider)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404
        assert not response.has_header("X-Accel-Redirect")
