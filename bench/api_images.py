"""How fast `GET /api/v1/images` answers at 100,000 images (PostgreSQL), as a script calls it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/darkroom_bench \
        .venv/bin/python bench/api_images.py

Seeds the database as bench/gallery.py does (`manage.py seed_gallery`) if its data is not
there, makes a personal access token for the seeded `bench` person (read scope), then, in this
process, with django.test.Client sending the token, times the server side of GETs of a page of
48 images: the first page, one 50,000 images deep (a keyset cursor), a filtered page and a
search. Prints requests per second (one client, one after the other), p50/p95/max and the CPU
p50, and the SQL queries of each page (the same at any depth). Never passes or fails on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "false")
# One client asking as fast as it can: far over the per-token limit, which is not measured here
# (its counter still runs on every request).
os.environ.setdefault("DARKROOM_API_REQUESTS_PER_MINUTE", "100000000")
os.environ["ALLOWED_HOSTS"] = ",".join(
    filter(None, [os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1"), "testserver"])
)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.services import token_create  # noqa: E402
from bench.gallery import DEEP, FILTER, SEARCH, ensure_seeded  # noqa: E402
from config.cursors import encode_cursor  # noqa: E402
from config.heap import freeze_startup_heap  # noqa: E402
from gallery.management.commands.seed_gallery import BENCH_USERNAME  # noqa: E402
from gallery.selectors import Filters, gallery_images  # noqa: E402

URL = "/api/v1/images"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed GETs per page (2 or more)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed GETs per page first")
    parser.add_argument("--images", type=int, default=100_000, help="images to seed if none")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/api_images.py measures PostgreSQL only: set DATABASE_URL.", file=sys.stderr)
        return 2
    ensure_seeded(args.images)
    freeze_startup_heap()
    bench = get_user_model().objects.get(username=BENCH_USERNAME)
    secret = token_create(user=bench, name=f"bench {time.time():.0f}", scopes=["read"]).secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    visible = gallery_images(user=bench, filters=Filters())
    row = visible.values_list("created_at", "pk")[DEEP - 1 : DEEP].first()
    if row is None:
        raise SystemExit(f"bench sees fewer than {DEEP} images: reseed.")
    cases = {
        "first page": f"{URL}?limit=48",
        f"{DEEP:,} deep": f"{URL}?limit=48&cursor={encode_cursor(*row)}",
        "filtered": f"{URL}?limit=48&{FILTER}",
        f"search {SEARCH!r}": f"{URL}?limit=48&q={SEARCH}",
    }
    print(f"GET {URL} (a page of 48) as `bench`, {args.runs} timed GETs each, one client")
    print(
        f"  {'page':<18} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'cpu p50':>8} {'queries':>8} {'items':>6}"
    )
    for name, url in cases.items():
        for _ in range(args.warmup):
            client.get(url)
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        items = len(response.json()["items"])
        walls, cpus = [], []
        began = time.perf_counter()
        for _ in range(args.runs):
            started, cpu = time.perf_counter(), time.thread_time()
            client.get(url)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.thread_time() - cpu) * 1000)
        rate = args.runs / (time.perf_counter() - began)
        print(
            f"  {name:<18} {rate:7.0f} {statistics.median(walls):8.1f} "
            f"{percentile(walls, 95):8.1f} {max(walls):8.1f} {statistics.median(cpus):8.1f} "
            f"{len(statements):8d} {items:6d}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
