"""What the first step of a save costs to check an output, against the full decode and
thumbnails of the second step (docs/measured.md, "Visible before its thumbnails").

    .venv/bin/python bench/verify_cost.py [--repeat 5]

CPU time (best of N) of `imaging.images.verify_image` (header, pixel cap, Pillow's verify())
and of `process_image` on bench/image_work.py's inputs, and whether each notices the same file
cut in half.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from image_work import ensure_input  # noqa: E402  (bench/ is on sys.path)

from imaging.images import NotAnImage, process_image, verify_image  # noqa: E402

CASES = ("1k-png", "2k-png", "4k-png", "4k-jpeg")


def best_of(fn, data: bytes, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn(io.BytesIO(data))
        best = min(best, time.process_time() - started)
    return best * 1000


def notices_truncation(fn, data: bytes) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(io.BytesIO(data[: len(data) // 2]))
    except NotAnImage:
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("case      verify ms  process ms  verify sees a cut  process sees a cut")
    for case in CASES:
        data = ensure_input(case).read_bytes()
        print(
            f"{case:9} {best_of(verify_image, data, args.repeat):9.1f} "
            f"{best_of(process_image, data, args.repeat):11.1f}  "
            f"{notices_truncation(verify_image, data)!s:17}  "
            f"{notices_truncation(process_image, data)!s}"
        )


if __name__ == "__main__":
    main()
