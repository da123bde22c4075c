from __future__ import annotations

import hashlib
import io
import math
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageStat

from imaging.images import (
    THUMBNAIL_SIZES,
    ImageTooLarge,
    NotAnImage,
    ProcessedImage,
    fit_within,
    process_image,
    sha256_file,
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def save(tmp_path: Path, name: str, im: Image.Image, fmt: str, **options) -> Path:
    path = tmp_path / name
    im.save(path, fmt, **options)
    return path


def process(path: Path, **kwargs) -> ProcessedImage:
    with open(path, "rb") as fp:
        return process_image(fp, **kwargs)


def decoded(thumb) -> Image.Image:
    im = Image.open(io.BytesIO(thumb.data))
    im.load()
    return im


def two_halves(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    im = Image.new(mode, (width, height), RED)
    im.paste(BLUE, (width // 2, 0, width, height))
    return im


def assert_thumbnails(result: ProcessedImage, width: int, height: int) -> None:
    """Both sizes, WebP, longest side capped (never upscaled), aspect kept to ±1 px."""
    assert [t.size for t in result.thumbnails] == list(THUMBNAIL_SIZES)
    for thumb in result.thumbnails:
        im = decoded(thumb)
        assert im.format == "WEBP"
        assert im.size == (thumb.width, thumb.height)
        assert max(thumb.width, thumb.height) == min(thumb.size, max(width, height))
        if width >= height:
            assert abs(thumb.height - height * thumb.width / width) <= 1
        else:
            assert abs(thumb.width - width * thumb.height / height) <= 1


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_it_reads_an_rgb_png(tmp_path):
    path = save(tmp_path, "out.png", two_halves(1200, 800), "PNG")

    result = process(path)

    assert (result.format, result.content_type) == ("PNG", "image/png")
    assert (result.width, result.height) == (1200, 800)
    assert_thumbnails(result, 1200, 800)
    assert [(t.width, t.height) for t in result.thumbnails] == [(256, 171), (512, 341), (1024, 683)]
    assert all(decoded(t).mode == "RGB" for t in result.thumbnails)


def test_it_keeps_transparency_of_an_rgba_png(tmp_path):
    im = Image.new("RGBA", (800, 600), (0, 128, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 400, 600))  # left half fully transparent
    path = save(tmp_path, "alpha.png", im, "PNG")

    result = process(path)

    assert_thumbnails(result, 800, 600)
    for thumb in result.thumbnails:
        im = decoded(thumb)
        assert im.mode == "RGBA"
        assert im.getpixel((2, 2))[3] == 0
        assert im.getpixel((im.width - 3, 2))[3] == 255


def test_it_reads_a_jpeg(tmp_path):
    path = save(tmp_path, "photo.jpg", two_halves(3000, 2000), "JPEG", quality=90)

    result = process(path)

    assert (result.format, result.content_type) == ("JPEG", "image/jpeg")
    assert (result.width, result.height) == (3000, 2000)
    assert_thumbnails(result, 3000, 2000)
    # Decoded at a reduced scale, yet the colours are where they belong.
    big = decoded(result.thumbnails[-1]).convert("RGB")
    assert _close(big.getpixel((10, 10)), RED)
    assert _close(big.getpixel((big.width - 10, 10)), BLUE)


def test_it_turns_thumbnails_upright_by_exif_orientation_but_reports_the_stored_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: display after rotating 90° clockwise
    path = save(tmp_path, "turned.jpg", two_halves(1200, 800), "JPEG", exif=exif)

    result = process(path)

    assert (result.width, result.height) == (1200, 800)  # the bytes as stored
    assert [(t.width, t.height) for t in result.thumbnails] == [(171, 256), (341, 512), (683, 1024)]
    for thumb in result.thumbnails:
        im = decoded(thumb).convert("RGB")
        # The stored left (red) half is on top once turned clockwise.
        assert _close(im.getpixel((im.width // 2, 5)), RED)
        assert _close(im.getpixel((im.width // 2, im.height - 5)), BLUE)
        assert "exif" not in im.info  # metadata is not carried over


@pytest.mark.parametrize(
    ("stored", "fmt", "orientation"),
    [
        ((1360, 768), "PNG", 1),  # 1k 16:9: the first step resizes, then 512 and 256 from it
        ((2496, 1664), "PNG", 1),  # 2k 3:2: 1024 x 683, 512 x 341, 256 x 171
        ((4992, 3328), "JPEG", 1),  # 4k 3:2 through the JPEG draft
        ((3072, 5440), "JPEG", 8),  # 4k 16:9 stored on its side
        ((6272, 2688), "JPEG", 1),  # 4k 21:9, the widest
    ],
)
def test_each_thumbnail_is_exactly_the_upright_original_fitted_to_its_size(
    tmp_path, stored, fmt, orientation
):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(tmp_path, f"out.{fmt.lower()}", two_halves(*stored), fmt, exif=exif)
    upright = stored if orientation == 1 else stored[::-1]

    result = process(path)

    # Each is made from the next larger one, yet none drifts from the original's proportions.
    assert [(t.width, t.height) for t in result.thumbnails] == [
        fit_within(*upright, size) for size in THUMBNAIL_SIZES
    ]
    assert [decoded(t).size for t in result.thumbnails] == [
        fit_within(*upright, size) for size in THUMBNAIL_SIZES
    ]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_thumbnails_stay_as_sharp_as_a_lanczos_resize_of_the_whole_image(tmp_path, fmt):
    """Against an unencoded LANCZOS resize of the full image; a box or bilinear cascade, or a
    cheaper first step, scores 38-40 dB at 256 px."""
    scene = _discs(2400, 1600)
    path = save(tmp_path, f"scene.{fmt.lower()}", scene, fmt, quality=95)

    result = process(path)

    floors = {256: 40.0, 512: 42.0, 1024: 45.0}
    for thumb in result.thumbnails:
        reference = scene.resize((thumb.width, thumb.height), Image.Resampling.LANCZOS)
        assert _psnr(decoded(thumb), reference) >= floors[thumb.size], thumb.size


def _discs(width: int, height: int) -> Image.Image:
    """Hard-edged grey discs on a radial gradient: edges a soft resize would blur."""
    im = Image.radial_gradient("L").resize((width, height))
    draw = ImageDraw.Draw(im)
    rng = random.Random(1)
    for _ in range(25):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(60, 240)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randrange(256))
    return im.convert("RGB")


def _psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    mse = ImageStat.Stat(diff).sum2[0] / (a.width * a.height)
    return 10 * math.log10(255**2 / mse)


def test_thumbnails_keep_an_rgb_colour_profile_only(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = save(tmp_path, "p3.png", Image.new("RGB", (600, 400)), "PNG", icc_profile=srgb)
    cmyk = save(
        tmp_path,
        "print.jpg",
        Image.new("CMYK", (600, 400)),
        "JPEG",
        icc_profile=b"\0" * 16 + b"CMYK" + b"\0" * 108,  # a CMYK profile's header
    )

    assert all(decoded(t).info.get("icc_profile") == srgb for t in process(rgb).thumbnails)
    assert not any(decoded(t).info.get("icc_profile") for t in process(cmyk).thumbnails)


def test_it_reads_a_webp(tmp_path):
    path = save(tmp_path, "out.webp", two_halves(1024, 1024), "WEBP", quality=90)

    result = process(path)

    assert (result.format, result.content_type) == ("WEBP", "image/webp")
    assert (result.width, result.height) == (1024, 1024)
    assert_thumbnails(result, 1024, 1024)


def test_it_converts_a_cmyk_jpeg(tmp_path):
    path = save(tmp_path, "print.jpg", Image.new("CMYK", (1000, 700), (0, 255, 255, 0)), "JPEG")

    result = process(path)

    assert result.format == "JPEG"
    assert_thumbnails(result, 1000, 700)
    im = decoded(result.thumbnails[0])
    assert im.mode == "RGB"
    assert _close(im.getpixel((5, 5)), (255, 0, 0))


def test_it_converts_a_palette_png(tmp_path):
    im = two_halves(900, 600).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    path = save(tmp_path, "palette.png", im, "PNG")

    result = process(path)

    assert_thumbnails(result, 900, 600)
    assert decoded(result.thumbnails[0]).mode == "RGB"


def test_it_keeps_the_transparent_colour_of_a_palette_png(tmp_path):
    im = two_halves(900, 600).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    transparent = im.getpixel((0, 0))  # the red half's index
    path = save(tmp_path, "palette.png", im, "PNG", transparency=transparent)

    result = process(path)

    thumb = decoded(result.thumbnails[1])
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((5, 5))[3] == 0
    assert thumb.getpixel((thumb.width - 5, 5))[3] == 255


def test_it_scales_a_16_bit_greyscale_png_instead_of_clipping_it(tmp_path):
    path = save(tmp_path, "deep.png", Image.new("I;16", (700, 500), 32768), "PNG")

    result = process(path)

    assert_thumbnails(result, 700, 500)
    grey = decoded(result.thumbnails[0]).convert("L").getpixel((10, 10))
    assert 120 <= grey <= 136


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_it_thumbnails_greyscale_modes(tmp_path, mode):
    path = save(tmp_path, "grey.png", Image.new(mode, (640, 480), 1), "PNG")

    result = process(path)

    assert_thumbnails(result, 640, 480)


def test_it_trusts_the_bytes_not_the_name(tmp_path):
    path = save(tmp_path, "looks-like.jpg", Image.new("RGB", (100, 80)), "PNG")

    assert process(path).format == "PNG"


def test_it_never_upscales_a_small_image(tmp_path):
    path = save(tmp_path, "small.png", Image.new("RGB", (300, 200)), "PNG")

    result = process(path)

    assert [(t.width, t.height) for t in result.thumbnails] == [(256, 171), (300, 200), (300, 200)]


def test_a_very_thin_image_keeps_at_least_one_pixel(tmp_path):
    path = save(tmp_path, "thin.png", Image.new("RGB", (4000, 3)), "PNG")

    result = process(path)

    assert [(t.width, t.height) for t in result.thumbnails] == [(256, 1), (512, 1), (1024, 1)]


def test_it_reads_from_the_start_whatever_the_position(tmp_path):
    path = save(tmp_path, "out.png", Image.new("RGB", (64, 64)), "PNG")
    with open(path, "rb") as fp:
        digest = sha256_file(fp)  # leaves fp at the end
        result = process_image(fp)

    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (result.width, result.height) == (64, 64)


def test_it_refuses_a_text_file_named_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image at all\n" * 20)

    with pytest.raises(NotAnImage, match="not a PNG, JPEG or WebP image"):
        process(path)


def test_it_refuses_a_gif(tmp_path):
    path = save(tmp_path, "anim.gif", Image.new("RGB", (100, 100)), "GIF")

    with pytest.raises(NotAnImage) as caught:
        process(path)
    assert not isinstance(caught.value, ImageTooLarge)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_it_refuses_a_truncated_image(tmp_path, fmt):
    data = io.BytesIO()
    Image.effect_noise((800, 600), 40).convert("RGB").save(data, fmt)
    path = tmp_path / "cut"
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])

    with pytest.raises(NotAnImage):
        process(path)


def test_it_refuses_a_decompression_bomb_before_decoding_it(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(50_000, 50_000))  # 2.5 G pixels in a few hundred bytes

    with pytest.raises(ImageTooLarge, match="too large"):
        process(path)


def test_it_refuses_more_pixels_than_max_pixels(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png_header(7_000, 7_000))  # 49 M: under Pillow's limit, over ours

    with pytest.raises(ImageTooLarge):
        process(path)
    small = save(tmp_path, "small.png", Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(ImageTooLarge):
        process(small, max_pixels=9_999)


def test_pillows_bomb_warning_is_an_error_even_under_a_higher_cap(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png_header(10_000, 10_000))  # 100 M: Pillow only warns

    with pytest.raises(ImageTooLarge):
        process(path, max_pixels=500_000_000)


def test_the_largest_provider_output_is_within_the_default_cap(tmp_path):
    path = tmp_path / "largest.png"
    path.write_bytes(png_header(6272, 2688))

    # Allowed through the size check; the crafted pixel data then fails to decode.
    with pytest.raises(NotAnImage) as caught:
        process(path)
    assert not isinstance(caught.value, ImageTooLarge)


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((4096, 4096), 512, (512, 512)),
        ((5440, 3072), 512, (512, 289)),
        ((3072, 5440), 256, (145, 256)),
        ((6272, 2688), 512, (512, 219)),
        ((300, 200), 512, (300, 200)),
        ((10_000, 1), 512, (512, 1)),
    ],
)
def test_fit_within(size, box, expected):
    assert fit_within(*size, box) == expected


def _close(actual, expected, tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual[:3], expected, strict=True))
