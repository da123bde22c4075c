"""How long saving one provider output takes, and how much memory it needs.

    .venv/bin/python bench/saving.py [--repeat N] [--sizes 1k,2k,4k,5k]

For each output size and format, each approach runs in a fresh subprocess (so its memory
high-water mark is its own), a few times; the table shows the median, its ratio to Pillow's
plain decode (the floor: docs/measured.md), and the peak RSS above the process's resting RSS.
Inputs are generated once, photo-like (gradients, soft blobs and grain), and cached under
bench/out/saving/. Prints figures; never passes or fails on time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops

from imaging.images import (
    THUMBNAIL_SIZES,
    WEBP_METHOD,
    WEBP_QUALITY,
    fit_within,
    process_image,
)

OUT = Path(__file__).resolve().parent / "out" / "saving"
SIZES = {"1k": (1024, 1024), "2k": (2048, 2048), "4k": (4096, 4096), "5k": (5440, 3072)}
FORMATS = ("PNG", "JPEG")
JPEG_QUALITY = 92
GRAIN_SIGMA = 4  # gives a ~28 MB 4k PNG, as the provider's are
APPROACHES = ("decode", "naive", "process", "process+store")


# Inputs ------------------------------------------------------------------------------------


def input_path(key: str, fmt: str) -> Path:
    width, height = SIZES[key]
    return OUT / f"{width}x{height}.{fmt.lower()}"


def ensure_inputs(keys: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for key in keys:
        paths = {fmt: input_path(key, fmt) for fmt in FORMATS}
        if all(path.exists() for path in paths.values()):
            continue
        print(f"generating {key} inputs (once, cached in {OUT}) ...", file=sys.stderr)
        im = photo_like(*SIZES[key])
        for fmt, path in paths.items():
            partial = path.with_suffix(".part")
            options = {"quality": JPEG_QUALITY} if fmt == "JPEG" else {}
            im.save(partial, fmt, **options)
            partial.replace(path)


def photo_like(width: int, height: int) -> Image.Image:
    """Smooth gradients and blobs with film grain: compresses like a photo, not a flat fill."""
    gradients = [
        Image.linear_gradient("L"),
        Image.radial_gradient("L"),
        Image.linear_gradient("L").rotate(90),
    ]
    channels = []
    for gradient in gradients:
        base = gradient.resize((width, height), Image.Resampling.BICUBIC)
        blobs = Image.effect_noise((max(8, width // 128), max(8, height // 128)), 60)
        blobs = blobs.resize((width, height), Image.Resampling.BICUBIC)
        base = ImageChops.add(base, blobs, scale=2)
        grain = Image.effect_noise((width, height), GRAIN_SIGMA)  # centred on 128
        channels.append(ImageChops.add(base, grain, offset=-128))
    return Image.merge("RGB", channels)


# The approaches ----------------------------------------------------------------------------


def decode(path: Path, _storage: Path) -> None:
    with Image.open(path) as im:
        im.load()


def naive(path: Path, _storage: Path) -> None:
    """What a first version would do: open again and LANCZOS from full size, per size."""
    for size in THUMBNAIL_SIZES:
        with Image.open(path) as im:
            im.load()
            thumb = im.resize(fit_within(im.width, im.height, size), Image.Resampling.LANCZOS)
            thumb.save(BytesIO(), "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)


def process(path: Path, _storage: Path) -> None:
    with open(path, "rb") as fp:
        process_image(fp)


def process_and_store(path: Path, storage: Path) -> None:
    """process_image, then what FileSystemStorage does: copy the original, write the thumbs."""
    folder = Path(tempfile.mkdtemp(dir=storage))
    with open(path, "rb") as fp:
        processed = process_image(fp)
        fp.seek(0)
        with open(folder / path.name, "wb") as out:
            shutil.copyfileobj(fp, out, 64 * 1024)  # Django's File.chunks() size
    for thumb in processed.thumbnails:
        (folder / f"thumb-{thumb.size}.webp").write_bytes(thumb.data)


RUNNERS: dict[str, Callable[[Path, Path], None]] = {
    "decode": decode,
    "naive": naive,
    "process": process,
    "process+store": process_and_store,
}


def memory_mb() -> tuple[float, float]:
    """(current RSS, its high-water mark) of this process, in MiB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent across
    fork + exec, so a child would report the parent's peak.
    """
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024  # kB
    return fields["VmRSS"], fields["VmHWM"]


def reset_high_water_mark() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # Linux >= 4.0: VmHWM := VmRSS
    except OSError:
        pass  # the import-time peak stays in; the figures are then upper bounds


def worker(approach: str, path: Path, repeat: int) -> dict[str, float]:
    """Runs in the subprocess: one warm-up, then `repeat` timed runs."""
    run = RUNNERS[approach]
    with tempfile.TemporaryDirectory(dir=OUT) as storage:
        reset_high_water_mark()
        resting, _ = memory_mb()
        run(path, Path(storage))
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run(path, Path(storage))
            times.append((time.perf_counter() - start) * 1000)
        _, peak = memory_mb()
    return {
        "ms": statistics.median(times),
        "min_ms": min(times),
        "peak_mb": max(0.0, peak - resting),
    }


def measure(approach: str, path: Path, repeat: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", approach, str(path), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


# WebP settings ------------------------------------------------------------------------------


def webp_methods(path: Path, repeat: int) -> list[tuple[int, float, int]]:
    """Encode time and bytes of both thumbnails at each WebP method, quality fixed."""
    with Image.open(path) as im:
        im.load()
        big = im.resize(fit_within(im.width, im.height, max(THUMBNAIL_SIZES)), reducing_gap=2.0)
    thumbs = [big.resize(fit_within(im.width, im.height, size)) for size in THUMBNAIL_SIZES]
    rows = []
    for method in (0, 2, 4, 6):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            sizes = []
            for thumb in thumbs:
                out = BytesIO()
                thumb.save(out, "WEBP", quality=WEBP_QUALITY, method=method)
                sizes.append(out.tell())
            times.append((time.perf_counter() - start) * 1000)
        rows.append((method, statistics.median(times), sum(sizes)))
    return rows


# Main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, help="timed runs per case (default by size)")
    parser.add_argument("--sizes", default=",".join(SIZES), help="e.g. 1k,4k")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        approach, path, repeat = args.worker
        print(json.dumps(worker(approach, Path(path), int(repeat))))
        return

    keys = args.sizes.split(",")
    ensure_inputs(keys)
    print(
        f"Saving one output: thumbnails {THUMBNAIL_SIZES} px WebP q{WEBP_QUALITY} "
        f"method {WEBP_METHOD}; median and fastest ms, the median's ratio to Pillow's decode,\n"
        "peak RSS increase. Other load on the machine shows as a median far above the fastest.\n"
    )
    print(
        f"| {'image':<18} | {'file MB':>7} | {'approach':<13} | {'ms':>6} | {'min ms':>6} | "
        f"{'x decode':>8} | {'peak +MB':>8} |"
    )
    print(f"|{'-' * 20}|{'-' * 9}|{'-' * 15}|{'-' * 8}|{'-' * 8}|{'-' * 10}|{'-' * 10}|")
    for key in keys:
        width, height = SIZES[key]
        repeat = args.repeat or max(5, min(15, 60_000_000 // (width * height)))
        for fmt in FORMATS:
            path = input_path(key, fmt)
            label = f"{width}x{height} {fmt}"
            mb = f"{path.stat().st_size / 1e6:.1f}"
            floor = None
            for approach in APPROACHES:
                result = measure(approach, path, repeat)
                floor = floor or result["ms"]
                print(
                    f"| {label:<18} | {mb:>7} | {approach:<13} | {result['ms']:>6.0f} | "
                    f"{result['min_ms']:>6.0f} | {result['ms'] / floor:>8.2f} | "
                    f"{result['peak_mb']:>8.0f} |",
                    flush=True,
                )
                label = mb = ""

    source = input_path("4k" if "4k" in keys else keys[-1], "PNG")
    print(f"\nWebP q{WEBP_QUALITY}, both thumbnails of {source.name}, by method:\n")
    print("| method | encode ms | bytes |")
    print("|--------|-----------|-------|")
    for method, ms, size in webp_methods(source, repeat=7):
        print(f"| {method:>6} | {ms:>9.1f} | {size:>5} |")


if __name__ == "__main__":
    main()
