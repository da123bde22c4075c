"""BlurHash placeholders: computed when an output is saved, and backfilled for older images."""

from __future__ import annotations

import io

import blurhash
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image, ImageStat

from generations import services
from generations.models import Generation, OutputImage
from generations.services.submission import GenerationParams
from imaging.images import process_image
from imaging.placeholders import (
    components_for,
    placeholder_from_file,
    placeholder_from_image,
)
from tests.factories import make_image

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def blurhash_length(x_components: int, y_components: int) -> int:
    """The length of a BlurHash with these components (size flag, max AC, DC, then 2 per AC)."""
    return 1 + 1 + 4 + 2 * (x_components * y_components - 1)


def encoded(im: Image.Image, fmt: str = "PNG", **options) -> io.BytesIO:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    buffer.seek(0)
    return buffer


def mean(im: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(im.convert("RGB")).mean)


def decoded(hash_: str, width: int = 32, height: int = 32) -> Image.Image:
    return blurhash.decode(hash_, width, height)


def assert_valid(hash_: str, width: int, height: int) -> None:
    assert blurhash.is_valid_blurhash(hash_)
    assert len(hash_) == blurhash_length(*components_for(width, height))
    decoded(hash_)  # decodes without error


@pytest.mark.parametrize(
    ("size", "components"),
    [((1360, 768), (4, 3)), ((768, 1360), (3, 4)), ((1024, 1024), (4, 4)), ((1552, 656), (4, 3))],
)
def test_components_follow_the_aspect_ratio(size, components) -> None:
    assert components_for(*size) == components


def test_a_processed_image_carries_a_placeholder_of_its_colours() -> None:
    red = process_image(encoded(Image.new("RGB", (1360, 768), RED)))
    blue = process_image(encoded(Image.new("RGB", (1360, 768), BLUE)))
    assert_valid(red.placeholder, 1360, 768)
    assert len(red.placeholder) == 28  # 4 x 3 components
    r, g, b = mean(decoded(red.placeholder))
    assert r > 180 and g < 60 and b < 60
    r, g, b = mean(decoded(blue.placeholder))
    assert b > 180 and r < 60 and g < 60


def test_the_placeholder_is_of_the_upright_image() -> None:
    # Left half black, right half white, stored turned: displayed black on top, white below.
    im = Image.new("RGB", (1200, 800), "black")
    im.paste((255, 255, 255), (600, 0, 1200, 800))
    exif = Image.Exif()
    exif[0x0112] = 6  # display after rotating 90° clockwise
    result = process_image(encoded(im, "JPEG", exif=exif))
    assert len(result.placeholder) == blurhash_length(3, 4)  # upright it is portrait
    preview = decoded(result.placeholder, 24, 36).convert("L")
    top = mean(preview.crop((0, 0, 24, 12)))[0]
    bottom = mean(preview.crop((0, 24, 24, 36)))[0]
    assert top < 80 < 180 < bottom


def test_transparent_pixels_count_as_white() -> None:
    hash_ = placeholder_from_image(Image.new("RGBA", (300, 200), (0, 0, 0, 0)))
    assert min(mean(decoded(hash_))) > 240


def test_placeholder_from_file_reads_a_stored_webp_thumbnail() -> None:
    thumb = encoded(Image.new("RGB", (256, 144), RED), "WEBP")
    assert_valid(placeholder_from_file(thumb), 256, 144)
    assert mean(decoded(placeholder_from_file(thumb)))[0] > 180


@pytest.mark.django_db
def test_a_saved_output_stores_its_placeholder(user, sim, pipeline) -> None:
    generation = services.generation_create(
        owner=user,
        params=GenerationParams(prompt="a harbour at dawn", aspect_ratio="16:9", num_images=2),
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    # The placeholder is made with the thumbnails, after the originals are shown.
    assert set(OutputImage.objects.filter(generation=generation).values_list("placeholder")) == {
        ("",)
    }
    assert pipeline.make_thumbnails() == 2

    images = list(OutputImage.objects.filter(generation=generation).order_by("index"))
    assert len(images) == 2
    for image in images:
        assert_valid(image.placeholder, image.width, image.height)
        # It is the hash of this very image: the one its own thumbnail gives.
        thumb = image.thumbnails.get(size=256)
        with default_storage.open(thumb.file.name) as fp, Image.open(fp) as small:
            expected = mean(small)
        got = mean(decoded(image.placeholder))
        assert all(abs(a - b) < 25 for a, b in zip(got, expected, strict=True))


def _with_real_thumbnail(image: OutputImage, colour: tuple[int, int, int]) -> OutputImage:
    thumb = image.thumbnails.get(size=256)
    thumb.file = default_storage.save(
        "thumbnails/test/real.webp",
        ContentFile(encoded(Image.new("RGB", (64, 48), colour), "WEBP").getvalue()),
    )
    thumb.save(update_fields=["file"])
    return image


@pytest.mark.django_db
def test_backfill_fills_missing_placeholders_and_can_run_again(user) -> None:
    red = _with_real_thumbnail(make_image(user), RED)
    blue = _with_real_thumbnail(make_image(user), BLUE)
    broken = make_image(user)  # the factory's thumbnails are not decodable images
    kept = _with_real_thumbnail(make_image(user), RED)
    OutputImage.objects.filter(pk=kept.pk).update(placeholder="LKO2?U%2Tw=w]~RBVZRi};RPxuwH")
    out, err = io.StringIO(), io.StringIO()

    call_command("backfill_placeholders", batch=1, stdout=out, stderr=err)

    for image, colour in ((red, 0), (blue, 2)):
        image.refresh_from_db()
        assert_valid(image.placeholder, 64, 48)
        assert mean(decoded(image.placeholder))[colour] > 180
    broken.refresh_from_db()
    assert broken.placeholder == ""
    assert str(broken.uuid) in err.getvalue()
    kept.refresh_from_db()
    assert kept.placeholder == "LKO2?U%2Tw=w]~RBVZRi};RPxuwH"
    assert "for 2 images; 1 skipped" in out.getvalue()

    again = io.StringIO()
    call_command("backfill_placeholders", stdout=again, stderr=io.StringIO())
    assert "for 0 images; 1 skipped" in again.getvalue()


@pytest.mark.django_db
def test_backfill_reports_an_image_without_thumbnail(user) -> None:
    image = make_image(user)
    image.thumbnails.all().delete()
    err = io.StringIO()
    call_command("backfill_placeholders", stdout=io.StringIO(), stderr=err)
    assert f"Image {image.uuid}: no 256 px thumbnail" in err.getvalue()
