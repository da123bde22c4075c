"""How fast the gallery answers at 100,000 images, in SQL queries, and in bytes (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/darkroom_bench .venv/bin/python bench/gallery.py

Migrates the database and seeds it with `manage.py seed_gallery` if its data is not there;
then, in this process, with django.test.Client logged in as `bench` (a member of all five
seeded projects, so ~72,000 images are visible to them), times the server side of a GET
(perf_counter around `client.get`: URL resolution, middleware, session, queries, rendering) of:
the first gallery page, a page 50,000 images deep (a keyset cursor built from the 50,000th
visible row), a filtered page, a search and its second page, and the open page's poll for newer
images (nothing new); then the image page of the 10th and of the 50,000th visible image.
Prints p50/p95/max (and the p50 of this process's CPU time, which other load on the machine
inflates less), the SQL query count of each page (it must be the same whatever the depth), the
page query's own time and the EXPLAIN ANALYZE of the deep page's keyset query, and the bytes
of the first page: its HTML (raw and gzip) and the thumbnails it references. As a WSGI server
does (config/wsgi.py), it freezes the start-up heap first
(`--no-freeze` measures without). Never passes or fails on time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# As in production: no per-query debug log, and the test client's host allowed.
os.environ.setdefault("DEBUG", "false")
os.environ["ALLOWED_HOSTS"] = ",".join(
    filter(None, [os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1"), "testserver"])
)

import django

# WhiteNoise warns that collectstatic has not run: irrelevant to a page's server time.
warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from config.cursors import decode_cursor, encode_cursor  # noqa: E402
from config.heap import freeze_startup_heap  # noqa: E402
from gallery.management.commands.seed_gallery import (  # noqa: E402
    BENCH_USERNAME,
    seeded_image_count,
)
from gallery.selectors import (  # noqa: E402
    PAGE_SIZE,
    Filters,
    gallery_images,
    gallery_page,
    tile_rows,
)
from generations.models import Thumbnail  # noqa: E402

DEEP = 50_000
SEARCH = "lighthouse"
FILTER = "resolution=2k&ratio=16:9"
GOAL_P50_MS = 10.0
GOAL_P95_MS = 20.0


@dataclass
class Case:
    name: str
    url: str
    filters: Filters
    after: str | None = None
    newer: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timings_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    queries: int = 0
    imgs: int = 0
    status: int = 0
    db_ms: float = 0.0  # the page query alone, from EXPLAIN ANALYZE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed GETs per page (2 or more)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed GETs per page first")
    parser.add_argument("--images", type=int, default=100_000, help="images to seed if none")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave the start-up heap to the collector"
    )
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 (a p95 needs two timings)")

    if connection.vendor != "postgresql":
        print(
            "bench/gallery.py measures PostgreSQL only (its keyset and full-text indexes); "
            f"this database is {connection.vendor}. Set DATABASE_URL, e.g. "
            "postgres://postgres@127.0.0.1:5432/darkroom_bench.",
            file=sys.stderr,
        )
        return 2
    ensure_seeded(args.images)
    if not args.no_freeze:
        freeze_startup_heap()
    bench = get_user_model().objects.get(username=BENCH_USERNAME)
    client = Client()
    client.force_login(bench)

    cases, deep_cursor = build_cases(bench)
    for case in cases:
        measure(client, case, runs=args.runs, warmup=args.warmup)
    print_timings(cases, runs=args.runs, frozen=not args.no_freeze)
    print_queries(cases)
    image_pages = build_image_cases(bench)
    for case in image_pages:
        measure(client, case, runs=args.runs, warmup=args.warmup)
    print_image_pages(image_pages)
    print_explain(bench, deep_cursor)
    print_bytes(client, bench)
    return 0


def ensure_seeded(images: int) -> None:
    call_command("migrate", verbosity=0)  # as `make run` does; nothing when up to date
    existing = seeded_image_count()
    if existing:
        print(f"Seed data found: {existing} images.")
        return
    print(f"No seed data: seeding {images} images (manage.py seed_gallery) ...")
    started = time.perf_counter()
    call_command("seed_gallery", images=images)
    print(f"Seeded in {time.perf_counter() - started:.1f} s.")


def build_cases(bench) -> tuple[list[Case], str]:
    gallery = reverse("gallery:gallery")
    visible = gallery_images(user=bench, filters=Filters())
    # The 50,000th visible row, found once with OFFSET (setup only; the page itself never does).
    row = visible.values_list("created_at", "pk")[DEEP - 1 : DEEP].first()
    if row is None:
        raise SystemExit(f"bench sees fewer than {DEEP} images: reseed with --reset.")
    deep_cursor = encode_cursor(*row)
    searched = Filters(q=SEARCH)
    search_next = gallery_page(user=bench, filters=searched).next_cursor
    cases = [
        Case("first page", gallery, Filters()),
        Case(f"{DEEP:,} deep", f"{gallery}?after={deep_cursor}", Filters(), deep_cursor),
        Case("filtered", f"{gallery}?{FILTER}", Filters(resolution="2k", ratio="16:9")),
        Case(f"search {SEARCH!r}", f"{gallery}?q={SEARCH}", searched),
    ]
    if search_next:
        url = f"{gallery}?q={SEARCH}&after={search_next}"
        cases.append(Case("search, page 2", url, searched, search_next))
    for case in cases:
        case.db_ms = page_query_ms(bench, case)
    # The open first page asks every few seconds for newer tiles; mostly there are none.
    newest = gallery_page(user=bench, filters=Filters(), size=1).images[0].cursor
    poll = Case("poll, nothing new", f"{gallery}?newer={newest}", Filters(), newer=newest)
    poll.headers = {"HX-Request": "true"}
    poll.db_ms = page_query_ms(bench, poll)
    cases.append(poll)
    return cases, deep_cursor


def build_image_cases(bench) -> list[Case]:
    """The image page ("n / N", previous and next) of the 10th and the 50,000th visible image."""
    visible = gallery_images(user=bench, filters=Filters()).values_list("uuid", flat=True)
    cases = []
    for depth in (10, DEEP):
        uuid = visible[depth - 1 : depth].first()
        url = reverse("gallery:image_detail", args=[uuid])
        cases.append(Case(f"image page, {depth:,} deep", url, Filters()))
    return cases


def page_query_ms(bench, case: Case) -> float:
    """Execution time of the page's one query (tiles, stars, thumbnails, authors)."""
    after = decode_cursor(case.after) if case.after else None
    newer = decode_cursor(case.newer) if case.newer else None
    images = gallery_images(user=bench, filters=case.filters, after=after, newer=newer)
    query = tile_rows(images, trash=False)[: PAGE_SIZE + 1]
    query.explain(analyze=True)  # once to warm the cache, as the timed runs are
    plan = query.explain(analyze=True)
    return float(plan.rsplit("Execution Time: ", 1)[1].split()[0])


def measure(client: Client, case: Case, *, runs: int, warmup: int) -> None:
    for _ in range(warmup):
        client.get(case.url, headers=case.headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(case.url, headers=case.headers)
    case.queries = len(captured.captured_queries)
    case.status = response.status_code
    case.imgs = response.content.count(b"<img ")
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.thread_time()
        client.get(case.url, headers=case.headers)
        case.timings_ms.append((time.perf_counter() - started) * 1000)
        case.cpu_ms.append((time.thread_time() - cpu) * 1000)


def print_timings(cases: list[Case], *, runs: int, frozen: bool) -> None:
    heap = "start-up heap frozen" if frozen else "start-up heap NOT frozen"
    print(
        f"\nServer time of a GET as `bench` ({runs} timed runs each, {heap}; "
        f"goal p50 <= {GOAL_P50_MS:.0f} ms and p95 <= {GOAL_P95_MS:.0f} ms):\n"
    )
    print(
        "| page                | status | <img> | queries |  p50 ms |  p95 ms |  max ms "
        "| cpu p50 | goal | page query ms |"
    )
    print(
        "|---------------------|--------|-------|---------|---------|---------|---------"
        "|---------|------|---------------|"
    )
    for case in cases:
        p50 = statistics.median(case.timings_ms)
        p95 = statistics.quantiles(case.timings_ms, n=20, method="inclusive")[-1]
        met = p50 <= GOAL_P50_MS and p95 <= GOAL_P95_MS
        print(
            f"| {case.name:<19} | {case.status:>6} | {case.imgs:>5} | {case.queries:>7} "
            f"| {p50:>7.1f} | {p95:>7.1f} | {max(case.timings_ms):>7.1f} "
            f"| {statistics.median(case.cpu_ms):>7.1f} | {'met' if met else 'MISS':>4} "
            f"| {case.db_ms:>13.2f} |"
        )
    print(
        "(cpu p50: this process's CPU time, without PostgreSQL's; page query ms: the page's SQL "
        "query alone, from EXPLAIN ANALYZE)"
    )
    for case in cases:
        print(f"  {case.name}: {case.url}")


def print_queries(cases: list[Case]) -> None:
    counts = {case.queries for case in cases if not case.headers}
    verdict = "the same on every page" if len(counts) == 1 else f"DIFFERENT: {sorted(counts)}"
    print(f"\nSQL queries per page: {verdict}.")
    for case in cases:
        if case.headers:  # a partial: no top bar, no list of authors
            print(f"SQL queries of the {case.name!r} partial: {case.queries}.")


def print_image_pages(cases: list[Case]) -> None:
    print("\nThe image page (its place in the gallery: previous, next and the counter):\n")
    print("| page                     | status | queries |  p50 ms |  p95 ms | cpu p50 |")
    print("|--------------------------|--------|---------|---------|---------|---------|")
    for case in cases:
        p95 = statistics.quantiles(case.timings_ms, n=20, method="inclusive")[-1]
        print(
            f"| {case.name:<24} | {case.status:>6} | {case.queries:>7} "
            f"| {statistics.median(case.timings_ms):>7.1f} | {p95:>7.1f} "
            f"| {statistics.median(case.cpu_ms):>7.1f} |"
        )


def print_explain(bench, deep_cursor: str) -> None:
    cursor = decode_cursor(deep_cursor)
    images = gallery_images(user=bench, filters=Filters(), after=cursor)
    deep = tile_rows(images, trash=False)[: PAGE_SIZE + 1]
    print(f"\nEXPLAIN ANALYZE of the {DEEP:,}-deep page's keyset query:\n")
    print(deep.explain(analyze=True, buffers=True))


def print_bytes(client: Client, bench) -> None:
    html = client.get(reverse("gallery:gallery")).content
    page = gallery_page(user=bench, filters=Filters())
    by_size: dict[int, int] = {}
    tiles = [row.pk for row in page.images]
    sizes = Thumbnail.objects.filter(image_id__in=tiles).values_list("size", "bytes")
    for size, stored_bytes in sizes:
        by_size[size] = by_size.get(size, 0) + stored_bytes
    tags = html.count(b"<img ")
    print(f"\nBytes of the first gallery page ({len(page.images)} tiles, {tags} <img> tags):\n")
    print("| part                         |      bytes |")
    print("|------------------------------|------------|")
    print(f"| HTML, raw                    | {len(html):>10,} |")
    print(f"| HTML, gzip -6                | {len(gzip.compress(html, 6)):>10,} |")
    for size in sorted(by_size):
        print(f"| thumbnails, all at {size:>3} px    | {by_size[size]:>10,} |")
    total = len(gzip.compress(html, 6)) + min(by_size.values(), default=0)
    print(f"| HTML gzip + 256 px thumbnails | {total:>10,} |")
    print(
        "Thumbnail bytes are the rows' stored `Thumbnail.bytes` (the seed scales its real files' "
        "sizes by pixel area). Which size a browser fetches depends on `sizes` and the screen's "
        "pixel density."
    )


if __name__ == "__main__":
    sys.exit(main())
