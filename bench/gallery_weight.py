"""What a browser fetches for the first gallery page, at 1440×900 (pixel ratio 1) and on a phone
(390×844, pixel ratio 3), in bytes (PostgreSQL; the seed of bench/gallery.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/darkroom_bench make bench-gallery-weight

Starts `manage.py runserver` on a free port of 127.0.0.1 against that database, logs in as
`bench` in Debian's chromium (Playwright), and on each screen: loads /gallery/ and counts its
HTML (raw and gzip -6) and the thumbnails the first screen shows; then scrolls through the first
page's 48 tiles (the next page is not loaded) and counts every thumbnail they load. A thumbnail
counts its row's stored `Thumbnail.bytes`, found from the address the browser chose
(`currentSrc`): the seed's rows share one real file, so the bytes on the wire would be that
file's. Prints a table; never passes or fails. See bench/README.md.
"""

from __future__ import annotations

import gzip
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
import django

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from gallery.management.commands.seed_gallery import (  # noqa: E402
    BENCH_PASSWORD,
    BENCH_USERNAME,
    seeded_image_count,
)
from generations.models import Thumbnail  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SCREENS = {"1440×900, ×1": (1440, 900, 1), "390×844, ×3": (390, 844, 3)}
THUMBNAIL = re.compile(r"/images/([0-9a-f-]{36})/thumbnail/(\d+)/$")


def main() -> int:
    if connection.vendor != "postgresql" or not seeded_image_count():
        print("Needs the PostgreSQL seed of bench/gallery.py (run that first).", file=sys.stderr)
        return 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MEDIA_ROOT": str(settings.MEDIA_ROOT), "DEBUG": "true"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base)
        results = {name: weigh(base, *screen) for name, screen in SCREENS.items()}
    finally:
        server.terminate()
        server.wait(timeout=10)
    print_table(results)
    return 0


def wait_for(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def weigh(base: str, width: int, height: int, ratio: int) -> dict[str, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            base_url=base,
            viewport={"width": width, "height": height},
            device_scale_factor=ratio,
            is_mobile=width < 600,
            has_touch=width < 600,
        )
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(BENCH_USERNAME)
        page.get_by_label("Password").fill(BENCH_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        response = page.goto("/gallery/")
        html = response.body()
        page.wait_for_load_state("networkidle")
        first_screen = chosen(page, only_visible=True)
        # The first page only: no endless scroll into the second.
        page.evaluate("document.querySelector('.gallery-more')?.remove()")
        for _ in range(40):
            page.mouse.wheel(0, height)
            page.wait_for_timeout(60)
        page.wait_for_load_state("networkidle")
        whole_page = chosen(page, only_visible=False)
        browser.close()
    return {
        "html": len(html),
        "html_gzip": len(gzip.compress(html, 6)),
        "screen_count": len(first_screen),
        "screen_bytes": stored_bytes(first_screen),
        "page_count": len(whole_page),
        "page_bytes": stored_bytes(whole_page),
        "page_512": sum(1 for _, size in whole_page if size == 512),
    }


def chosen(page, *, only_visible: bool) -> list[tuple[str, int]]:
    """(image uuid, thumbnail size) of each tile's loaded thumbnail."""
    sources = page.evaluate(
        """visible => [...document.querySelectorAll('[data-gallery] [data-tile] img')]
            .filter(i => i.currentSrc && (!visible || i.getBoundingClientRect().top < innerHeight))
            .map(i => i.currentSrc)""",
        only_visible,
    )
    found = []
    for source in sources:
        match = THUMBNAIL.search(source)
        if match:
            found.append((match.group(1), int(match.group(2))))
    return found


def stored_bytes(chosen: list[tuple[str, int]]) -> int:
    wanted = set(chosen)
    rows = Thumbnail.objects.filter(image__uuid__in=[uuid for uuid, _ in wanted]).values_list(
        "image__uuid", "size", "bytes"
    )
    return sum(size_bytes for uuid, size, size_bytes in rows if (str(uuid), size) in wanted)


def print_table(results: dict[str, dict[str, int]]) -> None:
    print("\nBytes a browser fetches for the first gallery page (48 tiles):\n")
    print(
        "| screen        | HTML raw | HTML gzip | first screen: tiles, thumbnails | "
        "whole page: tiles (512 px), thumbnails | HTML gzip + whole page |"
    )
    print(
        "|---------------|----------|-----------|---------------------------------|"
        "----------------------------------------|------------------------|"
    )
    for name, r in results.items():
        print(
            f"| {name:<13} | {r['html']:>8,} | {r['html_gzip']:>9,} "
            f"| {r['screen_count']:>5} tiles, {r['screen_bytes']:>13,} "
            f"| {r['page_count']:>5} ({r['page_512']:>2}), {r['page_bytes']:>21,} "
            f"| {r['html_gzip'] + r['page_bytes']:>22,} |"
        )
    print(
        "Thumbnail bytes: the rows' stored `Thumbnail.bytes` (the seed scales its real files' "
        "sizes by pixel area), for the size each tile's `srcset`/`sizes` made the browser choose."
    )


if __name__ == "__main__":
    sys.exit(main())
