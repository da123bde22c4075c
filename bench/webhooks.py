"""Server time of one WaveSpeed webhook delivery: applied in the request (now) or verified,
recorded and handed to a Celery task (before).

    .venv/bin/python bench/webhooks.py [--deliveries 500] [--block 50]

Creates a fresh PostgreSQL database (darkroom_bench_hooks; dropped at the end) and uses Redis
database 13 as the broker (flushed before and after; no worker runs, the queued tasks are only
counted). Generations are made as a submit leaves them (submitted, a hold on the budget, a
provider id), then each gets one signed "completed" delivery through django.test.Client, the
modes alternating in blocks so both see the same machine load:

- `inline`: the receiver as it is: verify, record the webhook-id, claim the generation by its
  prediction (one UPDATE … RETURNING), move it to saving, settle the spend, queue the save, all
  before answering.
- `queued`: the hand-off the receiver did before: verify, record the webhook-id, one SELECT,
  queue `apply_webhook_result` after the commit, answer (the worker's task then claimed and
  applied it: not timed here).

Server time is the wall time of `client.post()`: Django's whole request handling (middleware,
view, database round trips, the publish to Redis), without a network; beside it the CPU time
this process spent (the database's and Redis's own work not included), which other load on the
machine inflates far less. Prints p50/p95 per mode and checks what each left behind. Never
passes or fails on time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _services import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    clean_env,
    flush_redis,
    psql,
)  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "darkroom_bench_hooks"
REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET = "whsec_bench-secret"
MODES = ("inline", "queued")
WARMUP = 20  # deliveries per mode before timing (connections, imports, caches)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=500, help="timed deliveries per mode")
    parser.add_argument("--block", type=int, default=50, help="deliveries per mode in a row")
    return parser.parse_args()


def queued_messages(queue: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def make_submitted(owner, count: int) -> list:
    """`count` generations as a submit leaves them: a hold placed, a provider id recorded."""
    from django.utils import timezone

    from generations import services
    from generations.models import Generation, Status
    from generations.services.submission import GenerationParams

    generations = [
        services.generation_create(
            owner=owner, params=GenerationParams(prompt=f"a lighthouse in fog, take {n}")
        )
        for n in range(count)
    ]
    now = timezone.now()
    for generation in generations:
        Generation.objects.filter(pk=generation.pk).update(
            status=Status.SUBMITTED, provider_id=f"bench-{generation.pk}", submitted_at=now
        )
    return generations


def delivery(generation, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    """A signed "completed" delivery for the generation's prediction, shaped like WaveSpeed's."""
    from wavespeed.webhooks import sign

    body = json.dumps(
        {
            "id": f"bench-{generation.pk}",
            "model": generation.model,
            "status": "completed",
            "outputs": [f"https://cdn.example.com/outputs/{generation.pk}.png"],
            "has_nsfw_contents": [False],
            "created_at": "2026-11-30T10:00:00Z",
            "timings": {"inference": 9100},
            "input": dict(generation.request_payload),
            "error": "",
        }
    ).encode()
    timestamp = str(int(time.time()))
    return body, {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v3," + sign(SECRET, webhook_id, timestamp, body),
    }


@contextlib.contextmanager
def handed_off():
    """The receiver as it was: instead of applying the end, find the job (one SELECT) and queue
    `apply_webhook_result` after the commit with the fields it reads."""
    from wavespeed import runner, timing
    from wavespeed.tasks import apply_webhook_result

    def hand_off(prediction) -> runner.Applied:
        holder = runner._holder(prediction)
        if holder is None:
            return runner.Applied.UNKNOWN
        if not holder[2]:
            return runner.Applied.IGNORED
        fields = {
            "id": prediction.id,
            "model": prediction.model,
            "status": prediction.status,
            "outputs": prediction.outputs,
            "has_nsfw_contents": prediction.has_nsfw_contents,
            "error": prediction.error,
            "code": prediction.error_code,
            "timings": {"inference": prediction.inference_ms},
        }
        timing.after_commit(apply_webhook_result, 0, holder[0].name, holder[1], fields)
        return runner.Applied.APPLIED

    original = runner._apply_delivered
    runner._apply_delivered = hand_off
    try:
        yield
    finally:
        runner._apply_delivered = original


def run(args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from generations.models import Generation, Status

    owner = get_user_model().objects.create_user("bench", password="bench-password-1")
    per_mode = args.deliveries + WARMUP
    print(f"creating {2 * per_mode} submitted generations ...", file=sys.stderr)
    pending = {mode: make_submitted(owner, per_mode) for mode in MODES}
    flush_redis(REDIS_URL)  # their submits: not part of this bench
    client = Client()
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    statuses: dict[str, set[int]] = {mode: set() for mode in MODES}

    def deliver(mode: str, generations: list, *, timed: bool) -> None:
        context = handed_off() if mode == "queued" else contextlib.nullcontext()
        with context:
            for generation in generations:
                body, headers = delivery(generation, f"msg_{mode}_{generation.pk}")
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.post(
                    "/hooks/wavespeed/", data=body, content_type="application/json", headers=headers
                )
                took, took_cpu = time.perf_counter() - started, time.process_time() - started_cpu
                statuses[mode].add(response.status_code)
                if timed:
                    times[mode].append(took * 1000)
                    cpu[mode].append(took_cpu * 1000)

    for mode in MODES:
        deliver(mode, pending[mode][:WARMUP], timed=False)
        pending[mode] = pending[mode][WARMUP:]
    while any(pending.values()):
        for mode in MODES:
            block, pending[mode] = pending[mode][: args.block], pending[mode][args.block :]
            deliver(mode, block, timed=True)
    # What each mode left: inline moved its generations; queued left them for the worker.
    moved = Generation.objects.filter(status=Status.SAVING).count()
    followed = Generation.objects.filter(status=Status.SUBMITTED).count()
    print(
        f"answers: inline {sorted(statuses['inline'])}, queued {sorted(statuses['queued'])}; "
        f"generations moved to saving: {moved} (inline's), still submitted: {followed} "
        f"(queued's); apply_webhook_result messages waiting in Redis: "
        f"{queued_messages('celery')}; saves queued: {queued_messages('images')}"
    )
    if statuses != {"inline": {200}, "queued": {200}}:
        raise RuntimeError(f"deliveries were not all accepted: {statuses}")
    return {"wall": times, "cpu": cpu}


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-bench-hooks-"))
    env = clean_env()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DARKROOM_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}",
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="testserver",  # django.test.Client's host
        DEBUG="0",  # as in production: no query log in memory
        LOG_LEVEL="WARNING",  # one INFO line per delivery would be timed too
        DARKROOM_PUBLIC_URL="https://darkroom.example.com",
        WAVESPEED_WEBHOOK_SECRET=SECRET,
        WAVESPEED_BASE_URL="http://127.0.0.1:9",  # never called: the secret is configured
    )
    (tmp / "var").mkdir()
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}"')
    try:
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=300,
        )
        if migrate.returncode:
            raise RuntimeError(f"migrate failed:\n{migrate.stderr.decode(errors='replace')}")
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        flush_redis(REDIS_URL)
        figures = run(args)
        print(f"\n{args.deliveries} signed deliveries per mode, PostgreSQL + Redis, ms")
        print(f"{'mode':<8} {'wall p50':>9} {'p95':>7} {'max':>7}   {'CPU p50':>8} {'p95':>7}")
        for mode in MODES:
            wall, cpu = figures["wall"][mode], figures["cpu"][mode]
            print(
                f"{mode:<8} {percentile(wall, 50):9.2f} {percentile(wall, 95):7.2f} "
                f"{max(wall):7.2f}   {percentile(cpu, 50):8.2f} {percentile(cpu, 95):7.2f}"
            )
        load = os.getloadavg()[0]
        print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
        return 0
    finally:
        with contextlib.suppress(Exception):  # Django may never have been set up
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            flush_redis(REDIS_URL)
        psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
