"""CPU per image of the image work of a save, by approach, and what each does to quality.

    .venv/bin/python bench/image_work.py [--repeat N] [--cases 1k-png,4k-jpeg] [--variants ...]

The image work is what `imaging.images.process_image` does once an output is downloaded:
open and check it (format, decompression-bomb cap, decoded to the end), make the WebP
thumbnails of THUMBNAIL_SIZES upright by the EXIF orientation, and the BlurHash placeholder.
Each variant below does all of it; they differ in how (see VARIANTS). `before` is a frozen
copy of the pipeline this bench was written against; `current` is `process_image` itself.

Inputs are photo-like (gradients, soft blobs, film grain, plus hard-edged shapes and text, so
that resampling differences show), generated once and cached under bench/out/image_work/.

For each case it prints the CPU time of this process per image (`time.process_time`, so
pyvips' threads count too): the median and the fastest of `--repeat` runs, the variants
interleaved run by run so that other load on the machine falls on all of them alike. Then
quality, per thumbnail size: PSNR in dB of the decoded WebP against a reference (a full
decode LANCZOS-resized straight to the size, unencoded), and sharpness: the mean edge
strength (FIND_EDGES) as a percentage of the reference's. `before` and `after` also get a
stage breakdown (decode with the header checks, resize, WebP, BlurHash). Never passes or
fails on time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat
from saving import photo_like  # bench/ is on sys.path

from imaging import images
from imaging.images import THUMBNAIL_SIZES, WEBP_QUALITY, fit_within, process_image
from imaging.placeholders import placeholder_from_image

if TYPE_CHECKING:
    import pyvips

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one process per core: threads bring nothing

OUT = Path(__file__).resolve().parent / "out" / "image_work"
CASES: dict[str, tuple[tuple[int, int], str]] = {
    "1k-png": ((1024, 1024), "PNG"),
    "1k-jpeg": ((1024, 1024), "JPEG"),
    "1k-16:9-png": ((1360, 768), "PNG"),
    "2k-png": ((2048, 2048), "PNG"),
    "4k-png": ((4096, 4096), "PNG"),
    "4k-jpeg": ((4096, 4096), "JPEG"),
    "16:9-4k-png": ((5440, 3072), "PNG"),
}
DEFAULT_CASES = "1k-png,1k-16:9-png,2k-png,4k-png,4k-jpeg"
JPEG_QUALITY = 92
LANCZOS = Image.Resampling.LANCZOS
BICUBIC = Image.Resampling.BICUBIC
BOX = Image.Resampling.BOX


# Inputs ------------------------------------------------------------------------------------


def input_path(case: str) -> Path:
    (width, height), fmt = CASES[case]
    return OUT / f"{width}x{height}.{fmt.lower()}"  # one file per size and format


def ensure_input(case: str) -> Path:
    path = input_path(case)
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} (once, cached in {OUT}) ...", file=sys.stderr)
        (width, height), fmt = CASES[case]
        partial = path.with_suffix(".part")
        options = {"quality": JPEG_QUALITY} if fmt == "JPEG" else {}
        with_edges(photo_like(width, height)).save(partial, fmt, **options)
        partial.replace(path)
    return path


def with_edges(im: Image.Image) -> Image.Image:
    """Hard-edged shapes, thin lines and text on top: where a soft resize would show."""
    rng = random.Random(13)
    draw = ImageDraw.Draw(im)
    width, height = im.size
    unit = max(width, height) / 1024
    for _ in range(40):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(10, 90) * unit
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=colour, outline=(0, 0, 0))
    for _ in range(60):
        points = [(rng.uniform(0, width), rng.uniform(0, height)) for _ in range(2)]
        draw.line(points, fill=(250, 250, 240), width=max(1, round(unit)))
    font = ImageFont.load_default(size=round(28 * unit))
    for row in range(8):
        draw.text((40 * unit, (60 + row * 110) * unit), "Darkroom 0123456789 abc", font=font)
    return im


# The variants --------------------------------------------------------------------------------


@dataclass
class Result:
    thumbnails: list[tuple[int, bytes]]  # (size, WebP)
    placeholder: str
    stages: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage
    pixels: dict[int, Callable[[], Image.Image]] = field(default_factory=dict)  # before WebP


@dataclass(frozen=True)
class Pillow:
    """The Pillow pipeline, one knob at a time. The defaults are `before`."""

    first_filter: Image.Resampling = LANCZOS  # the big thumbnail from the (drafted) decode
    reducing_gap: float | None = 2.0  # box reduce() first, down to this times the target
    cascade_filter: Image.Resampling = LANCZOS  # 512 from 1024, 256 from 512
    webp_method: int = 2
    webp_quality: int = WEBP_QUALITY
    big_webp_method: int | None = None  # for the largest size only, when set
    draft: bool = True  # JPEG: decode at 1/2, 1/4 or 1/8 scale

    def __call__(self, path: Path) -> Result:
        stages: dict[str, float] = dict.fromkeys(("decode", "resize", "webp", "blurhash"), 0.0)
        clock = time.process_time
        t0 = clock()
        with open(path, "rb") as fp, images.open_image(fp, max_pixels=40_000_000) as im:
            width, height = im.size
            largest = max(THUMBNAIL_SIZES)
            target = fit_within(width, height, largest)
            box = None
            if self.draft:
                gap = self.reducing_gap or 1.0
                drafted = im.draft(None, (int(target[0] * gap), int(target[1] * gap)))
                box = drafted[1] if drafted else None
            im.load()
            orientation = images._orientation(im)
            source = images._for_resizing(im)
            icc_profile = images._rgb_profile(im) if source.mode in ("RGB", "RGBA") else None
            t1 = clock()
            stages["decode"] += t1 - t0
            resized = source.resize(target, self.first_filter, box, self.reducing_gap)
            del source
        stages["resize"] += clock() - t1
        thumbnails = []
        pixels: dict[int, Callable[[], Image.Image]] = {}
        placeholder = ""
        for size in sorted(THUMBNAIL_SIZES, reverse=True):
            t = clock()
            thumb_size = fit_within(width, height, size)
            if resized.size != thumb_size:
                resized = resized.resize(thumb_size, self.cascade_filter)
            upright = resized
            if orientation in images._TRANSPOSE_FOR_ORIENTATION:
                upright = resized.transpose(images._TRANSPOSE_FOR_ORIENTATION[orientation])
            t2 = clock()
            stages["resize"] += t2 - t
            if size == min(THUMBNAIL_SIZES):
                placeholder = placeholder_from_image(upright)
            t3 = clock()
            stages["blurhash"] += t3 - t2
            out = BytesIO()
            upright.save(
                out,
                "WEBP",
                quality=self.webp_quality,
                method=self.webp_method
                if size != largest or self.big_webp_method is None
                else self.big_webp_method,
                icc_profile=icc_profile or None,
            )
            thumbnails.append((size, out.getvalue()))
            stages["webp"] += clock() - t3
            pixels[size] = lambda upright=upright: upright
        return Result(thumbnails, placeholder, stages, pixels)


def current(path: Path) -> Result:
    with open(path, "rb") as fp:
        processed = process_image(fp)
    return Result([(t.size, t.data) for t in processed.thumbnails], processed.placeholder)


@dataclass(frozen=True)
class Vips:
    """pyvips (libvips from pyvips-binary): shrink-on-load for the big size, then cascade."""

    big_effort: int = 2  # WebP method of the largest size (2 for the others)

    def __call__(self, path: Path) -> Result:
        return _vips(path, self.big_effort)


def _vips(path: Path, big_effort: int) -> Result:
    import pyvips

    header = pyvips.Image.new_from_file(str(path), fail_on="error")  # parses the header only
    if header.width * header.height > 40_000_000:
        raise images.ImageTooLarge("too large")
    largest = max(THUMBNAIL_SIZES)
    # Auto-rotates by the EXIF orientation; the embedded profile is kept, not converted.
    big = pyvips.Image.thumbnail(
        f"{path}[fail_on=error]", largest, height=largest, size=pyvips.Size.DOWN
    ).copy_memory()
    thumbnails = []
    pixels: dict[int, Callable[[], Image.Image]] = {}
    placeholder = ""
    current_image = big
    for size in sorted(THUMBNAIL_SIZES, reverse=True):
        if max(current_image.width, current_image.height) > size:
            current_image = current_image.thumbnail_image(size, height=size).copy_memory()
        effort = big_effort if size == largest else 2
        data = current_image.webpsave_buffer(Q=WEBP_QUALITY, effort=effort, keep="icc")
        thumbnails.append((size, data))
        pixels[size] = lambda v=current_image: _from_vips(v)
        if size == min(THUMBNAIL_SIZES):
            placeholder = placeholder_from_image(_from_vips(current_image))
    return Result(thumbnails, placeholder, pixels=pixels)


def _from_vips(v: pyvips.Image) -> Image.Image:
    mode = {3: "RGB", 4: "RGBA", 1: "L", 2: "LA"}[v.bands]
    return Image.frombytes(mode, (v.width, v.height), v.write_to_memory())


VARIANTS: dict[str, Callable[[Path], Result]] = {
    # today: one decode, JPEG draft, reduce() then LANCZOS (gap 2), 512 from 1024 and 256 from
    # 512 with LANCZOS, WebP method 2, BlurHash from the 256.
    "before": Pillow(),
    "no draft": Pillow(draft=False),
    "1st BICUBIC": Pillow(first_filter=BICUBIC),
    "cascade BICUBIC": Pillow(cascade_filter=BICUBIC),
    "all BICUBIC": Pillow(first_filter=BICUBIC, cascade_filter=BICUBIC),
    "cascade BOX": Pillow(cascade_filter=BOX),
    "gap 1 (box only)": Pillow(reducing_gap=1.0),
    "gap 3": Pillow(reducing_gap=3.0),
    "webp m0": Pillow(webp_method=0),
    "webp m1": Pillow(webp_method=1),
    "webp m4": Pillow(webp_method=4),
    "webp m0 q75": Pillow(webp_method=0, webp_quality=75),
    "webp m1 q77": Pillow(webp_method=1, webp_quality=77),
    "webp m0 for 1024": Pillow(big_webp_method=0),
    "BICUBIC + m0": Pillow(first_filter=BICUBIC, cascade_filter=BICUBIC, webp_method=0),
    # what imaging/images.py does now: BICUBIC for the first step, WebP method 0 for the 1024
    "after": Pillow(first_filter=BICUBIC, big_webp_method=0),
    "pyvips": Vips(),
    "pyvips m0 for 1024": Vips(big_effort=0),
    # process_image itself, whatever it does today: should match `after`
    "current": current,
}
DEFAULT_VARIANTS = ",".join(VARIANTS)


# Quality ----------------------------------------------------------------------------------


def references(path: Path) -> dict[int, Image.Image]:
    """Each size from a full decode, LANCZOS straight from full size: the ideal, unencoded."""
    with Image.open(path) as im:
        im.load()
        rgb = im.convert("RGB")
    return {s: rgb.resize(fit_within(*rgb.size, s), LANCZOS) for s in THUMBNAIL_SIZES}


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mse = sum(ImageStat.Stat(diff).sum2) / (3 * a.width * a.height)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def edge_strength(im: Image.Image) -> float:
    return sum(ImageStat.Stat(im.convert("L").filter(ImageFilter.FIND_EDGES)).mean)


def quality(
    result: Result, refs: dict[int, Image.Image]
) -> dict[int, tuple[float, float, float, int]]:
    """Per size: PSNR against the reference of the resized pixels (NaN when the variant does
    not expose them) and of the decoded WebP, sharpness of the pixels in % of the
    reference's, WebP bytes. A size that differs from the reference's is an error."""
    out = {}
    for size, data in result.thumbnails:
        with Image.open(BytesIO(data)) as im:
            im.load()
            ref = refs[size]
            if im.size != ref.size:
                raise SystemExit(f"{size}: {im.size}, expected {ref.size}")
            pixels = result.pixels[size]() if size in result.pixels else None
            out[size] = (
                psnr(pixels, ref) if pixels else math.nan,
                psnr(im, ref),
                100 * edge_strength(pixels or im) / edge_strength(ref),
                len(data),
            )
    return out


# Main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, help="timed runs per variant (default by size)")
    parser.add_argument(
        "--cases", default=DEFAULT_CASES, help=f"of {', '.join(CASES)} (default {DEFAULT_CASES})"
    )
    parser.add_argument(
        "--variants", default=DEFAULT_VARIANTS, help=f"of {', '.join(VARIANTS)} (default all)"
    )
    parser.add_argument("--save", action="store_true", help="write each variant's thumbnails")
    args = parser.parse_args()
    names = [name for name in args.variants.split(",") if name in VARIANTS]
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError):
        if any(name.startswith("pyvips") for name in names):
            print("pyvips is not installed (pip install pyvips pyvips-binary): skipped\n")
            names = [name for name in names if not name.startswith("pyvips")]

    print(
        f"Image work per output: thumbnails {THUMBNAIL_SIZES} px WebP q{WEBP_QUALITY} and a "
        "BlurHash; CPU ms of this process, median and fastest.\nQuality per size against a "
        "full-decode LANCZOS resize: PSNR dB of the resized pixels / of the decoded WebP,\n"
        "sharpness (edge strength of the pixels, % of the reference's), WebP KB.\n"
    )
    for case in args.cases.split(","):
        path = ensure_input(case)
        (width, height), _ = CASES[case]
        repeat = args.repeat or max(5, min(25, 40_000_000 // (width * height)))
        for name in names:  # warm up: imports, lazy plugin loading, libvips start-up
            VARIANTS[name](path)
        times: dict[str, list[float]] = {name: [] for name in names}
        stages: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        results: dict[str, Result] = {}
        for _ in range(repeat):
            for name in names:
                start = time.process_time()
                result = VARIANTS[name](path)
                times[name].append((time.process_time() - start) * 1000)
                stages[name].append(result.stages)
                results[name] = result
        refs = references(path)
        mb = path.stat().st_size / 1e6
        print(f"### {case}: {path.name}, {mb:.1f} MB, {repeat} runs\n")
        sizes = sorted(THUMBNAIL_SIZES, reverse=True)
        head = " | ".join(f"{s}: dB px / WebP, sharp %, KB" for s in sizes)
        print(f"| variant | ms CPU | min | x before | {head} |")
        print("|---|---:|---:|---:|" + "---|" * len(sizes))
        base = statistics.median(times[names[0]])
        for name in names:
            ms = statistics.median(times[name])
            q = quality(results[name], refs)
            cells = " | ".join(
                f"{q[s][0]:.1f} / {q[s][1]:.1f}, {q[s][2]:.0f}, {q[s][3] / 1000:.0f}"
                if s in q
                else "-"
                for s in sizes
            )
            print(f"| {name} | {ms:.1f} | {min(times[name]):.1f} | {ms / base:.2f} | {cells} |")
            if args.save:
                for size, data in results[name].thumbnails:
                    slug = "".join(c if c.isalnum() else "_" for c in f"{case}-{name}")
                    (OUT / f"{slug}-{size}.webp").write_bytes(data)
        if {"after", "current"} <= results.keys() and (
            sorted(results["after"].thumbnails) != sorted(results["current"].thumbnails)
        ):
            print("\n**`after` no longer matches process_image: update it**")
        for name in ("before", "after"):
            if name in names:
                runs = stages[name]
                parts = ", ".join(
                    f"{stage} {statistics.median(r[stage] for r in runs) * 1000:.1f}"
                    for stage in runs[0]
                )
                print(f"\n`{name}` by stage, ms CPU: {parts}")
        print(flush=True)


if __name__ == "__main__":
    main()
