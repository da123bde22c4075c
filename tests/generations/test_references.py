"""Checking and normalising reference images, and keeping them once per person and content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from PIL import Image

from generations.references import reference_create
from references.cleaning import (
    MAX_PIXELS,
    MAX_REFERENCE_BYTES,
    MAX_UPLOAD_BYTES,
    ReferenceRejected,
    normalise,
)
from references.models import ReferenceImage
from references.services import reference_store

from .reference_images import (
    GPS_IFD,
    ORIENTATION,
    decompression_bomb,
    encoded,
    gradient,
    heic,
    noise,
    photo_with_gps_and_orientation,
    png,
)


def check(data: bytes, name: str = "holiday.png"):
    return normalise(io.BytesIO(data), name=name)


def refused(data: bytes, name: str) -> str:
    with pytest.raises(ReferenceRejected) as caught:
        check(data, name)
    message = str(caught.value)
    assert f"“{name}”" in message  # every refusal names the file
    return message


def test_a_text_file_renamed_png_is_refused() -> None:
    message = refused(b"this is not an image at all\n" * 40, "cat.png")
    assert "not a JPEG, PNG, WebP or HEIC image" in message


def test_another_real_image_format_is_refused_too() -> None:
    gif = encoded(Image.new("RGB", (640, 480), "red"), "GIF")
    assert "not a JPEG, PNG, WebP or HEIC image" in refused(gif, "anim.gif")


def test_a_truncated_image_is_refused() -> None:
    data = encoded(noise((640, 480)), "PNG")
    assert "damaged or incomplete" in refused(data[: len(data) // 2], "cut.png")


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = decompression_bomb()
    assert len(bomb) < 100_000
    message = refused(bomb, "bomb.png")
    assert f"at most {MAX_PIXELS // 1_000_000} megapixels" in message


def test_a_file_over_the_providers_upload_limit_is_refused() -> None:
    data = encoded(noise((3000, 2500)), "PNG", compress_level=0)
    assert len(data) > MAX_UPLOAD_BYTES
    message = refused(data, "huge.png")
    assert "at most 20 MB" in message


def test_an_image_still_over_10_mb_once_prepared_is_refused() -> None:
    # Transparent noise stays PNG and does not compress: under 20 MB in, over 10 MB out.
    data = encoded(noise((2000, 1700), "RGBA"), "PNG", compress_level=1)
    assert MAX_REFERENCE_BYTES < len(data) < MAX_UPLOAD_BYTES
    assert "at most 10 MB per reference" in refused(data, "glass.png")


@pytest.mark.parametrize("size", [(299, 600), (600, 299), (120, 120)])
def test_an_image_under_300_px_on_a_side_is_refused(size: tuple[int, int]) -> None:
    message = refused(png(size), "small.png")
    assert "at least 300 px" in message
    assert f"{size[0]} × {size[1]} px" in message


@pytest.mark.parametrize("size", [(1000, 300), (300, 751)])
def test_an_image_longer_than_2_5_to_1_is_refused(size: tuple[int, int]) -> None:
    assert "1:2.5 to 2.5:1" in refused(png(size), "banner.png")


@pytest.mark.parametrize("size", [(750, 300), (300, 750), (300, 300)])
def test_the_limits_themselves_are_accepted(size: tuple[int, int]) -> None:
    assert (check(png(size)).width, check(png(size)).height) == size


def test_exif_orientation_is_applied_and_gps_and_all_metadata_are_gone() -> None:
    data = photo_with_gps_and_orientation((600, 400))
    with Image.open(io.BytesIO(data)) as original:  # the test file really carries them
        assert original.getexif()[ORIENTATION] == 6
        assert original.getexif().get_ifd(GPS_IFD)[1] == "N"
        assert original.size == (600, 400)

    result = check(data, "IMG_0001.jpg")

    assert (result.width, result.height) == (400, 600)  # upright
    assert result.format == "JPEG"
    assert b"Exif" not in result.data
    assert b"PhoneMaker" not in result.data
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.size == (400, 600)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        assert "icc_profile" not in stored.info
    # Turned clockwise, not anticlockwise: the black left half is now on top.
    with Image.open(io.BytesIO(result.data)) as done:
        grey = done.convert("L")
        assert grey.getpixel((200, 20)) < 30
        assert grey.getpixel((200, 580)) > 225


def test_png_metadata_is_dropped_too() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "52.37N 4.89E")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    data = encoded(gradient(), "PNG", pnginfo=info, exif=exif.tobytes())
    result = check(data)
    assert b"52.37N" not in result.data
    assert b"PhoneMaker" not in result.data


def test_a_transparent_png_stays_png_with_its_alpha() -> None:
    image = Image.new("RGBA", (400, 400), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (100, 100, 300, 300))
    result = check(encoded(image, "PNG"))
    assert (result.format, result.content_type) == ("PNG", "image/png")
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0))[3] == 0
        assert stored.getpixel((200, 200)) == (0, 0, 255, 255)


def test_an_opaque_png_or_webp_is_sent_as_jpeg() -> None:
    opaque_rgba = Image.new("RGBA", (400, 400), (10, 200, 30, 255))
    assert check(encoded(opaque_rgba, "PNG")).format == "JPEG"
    assert check(encoded(gradient(), "WEBP"), "x.webp").format == "JPEG"


def test_a_transparent_webp_becomes_png() -> None:
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    assert check(encoded(image, "WEBP", lossless=True), "x.webp").format == "PNG"


def test_heic_is_accepted_and_sent_as_jpeg() -> None:
    result = check(heic((640, 480)), "IMG_0002.HEIC")
    assert (result.format, result.width, result.height) == ("JPEG", 640, 480)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == "JPEG"


def test_a_cmyk_jpeg_is_converted_to_rgb() -> None:
    data = encoded(Image.new("CMYK", (400, 400), (0, 255, 255, 0)), "JPEG")
    result = check(data)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.mode == "RGB"


@pytest.mark.django_db
def test_the_same_picture_is_kept_once_per_person(user, outsider) -> None:
    data = photo_with_gps_and_orientation()
    first = reference_create(owner=user, data=data, name="holiday-at-home.jpg")
    again = reference_create(owner=user, data=data, name="renamed.jpg")
    theirs = reference_create(owner=outsider, data=data, name="holiday-at-home.jpg")
    assert again.pk == first.pk
    assert theirs.pk != first.pk and theirs.sha256 == first.sha256
    assert ReferenceImage.objects.count() == 2
    with default_storage.open(first.file.name) as fp:
        stored = fp.read()
    assert len(stored) == first.bytes
    assert first.file.name.startswith("references/")
    assert "holiday" not in first.file.name  # the person's file name is not the stored name
    assert (first.width, first.height, first.content_type) == (400, 600, "image/jpeg")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["half a pair \ud800.png", "a nul \x00.png"])
def test_a_reference_the_database_refuses_leaves_no_file(user, name) -> None:
    if "\x00" in name and connection.vendor != "postgresql":
        pytest.skip("SQLite keeps a NUL in a text; PostgreSQL refuses it")
    image = check(png(color="olive"))
    media = Path(settings.MEDIA_ROOT)
    before = {p for p in media.rglob("*") if p.is_file()}
    # Not a race over the same picture (an IntegrityError): the files were dropped only then.
    with pytest.raises((DatabaseError, ValueError)):
        reference_store(owner=user, image=image, name=name)
    assert {p for p in media.rglob("*") if p.is_file()} == before
    assert not ReferenceImage.objects.exists()
