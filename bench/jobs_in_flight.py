"""Jobs in flight: many generations submitted at once to the Celery processes of one host.

    .venv/bin/python bench/jobs_in_flight.py [--count 200] [--latency 10]
        [--broker redis|filesystem] [--database postgres|sqlite] [--layout procfile|single]

Starts the WaveSpeed simulator (unlimited concurrency: a high-tier account), a fresh database,
the Celery workers (`--layout procfile`, the default: one per queue as in the Procfile, the
scheduler inside the `worker`; `--layout single`: one `celery worker --beat` on every queue),
then creates `--count` generations at once through `generation_create` (the same path as the
web form: the submit task is queued on commit through the real broker) and waits until every
one is final. Prints the wall time, per-generation latencies and their phases, result polls
per generation (from the database and from the simulator's request log), submits received,
and CPU used.

Only talks to 127.0.0.1. Everything it starts is stopped, and its database, Redis db 14 and
temporary files are cleaned up. It never fails on time: exit 0 unless something broke.
Poll settings can be tried without editing anything, e.g. `DARKROOM_POLL_FACTOR=1.2 ...`: the
DARKROOM_* variables of the calling shell reach the worker.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
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
GOAL_SECONDS = 20.0
# The queue each Procfile worker consumes (config/settings/base.py routes the tasks to them).
QUEUES = {
    "worker": "celery",
    "submitter": "submit",
    "images": "images",
    "thumbnails": "thumbnails",
}
# Another database with DARKROOM_BENCH_REDIS_URL: two benches at once must not flush each other's.
REDIS_URL = os.environ.get("DARKROOM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="generations (default 200)")
    parser.add_argument(
        "--latency", type=float, default=10.0, help="simulator seconds per prediction (10)"
    )
    parser.add_argument(
        "--queue-delay", type=float, default=0.3, help="simulator seconds in 'created' (0.3)"
    )
    parser.add_argument(
        "--broker",
        choices=["redis", "filesystem"],
        help="default: redis when 127.0.0.1:6379 answers, else filesystem",
    )
    parser.add_argument(
        "--database",
        choices=["postgres", "sqlite"],
        help="default: postgres when 127.0.0.1:5432 answers, else sqlite",
    )
    parser.add_argument(
        "--layout",
        choices=["procfile", "single"],
        default="procfile",
        help="procfile: a worker per queue, as `make run` starts them (default); single: one "
        "worker on every queue",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="slots of the `worker` (queue celery), or of the single worker (2, as the Procfile)",
    )
    parser.add_argument(
        "--submit-concurrency", type=int, default=8, help="threads of the submitter (8)"
    )
    parser.add_argument(
        "--image-concurrency", type=int, default=2, help="slots of the images worker (2)"
    )
    parser.add_argument(
        "--thumbnail-nice",
        type=int,
        default=19,
        help="niceness of the thumbnails worker (19, as the Procfile)",
    )
    parser.add_argument(
        "--image-pool",
        choices=["prefork", "threads"],
        default="prefork",
        help="pool of the images worker (prefork, as the Procfile)",
    )
    parser.add_argument(
        "--thumbnails-in-images",
        action="store_true",
        help="no thumbnails worker: the images worker consumes `images,thumbnails` (to compare "
        "with the Procfile's niced worker of their own)",
    )
    parser.add_argument(
        "--thumbnail-concurrency",
        type=int,
        default=2,
        help="processes of the thumbnails worker, started under `nice -n 19` as the Procfile "
        "does (2)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Django setting for this run only (a Python literal), e.g. "
        "--set CELERY_DB_REUSE_MAX=1000; may be repeated",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="first record this many finished generations of the measured shape that took the "
        "simulator's time (as a studio in use has them): without webhooks the first poll waits "
        "for most of a typical run (0: a new install, which polls from the start)",
    )
    parser.add_argument(
        "--webhooks",
        action="store_true",
        help="also start the web process (gunicorn) and set DARKROOM_PUBLIC_URL, so the "
        "simulator delivers each result to the app's webhook receiver; its CPU is counted "
        "with the workers'",
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="give up waiting after this (180 s)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (worker and simulator logs)"
    )
    args = parser.parse_args()
    if args.broker is None:
        args.broker = "redis" if port_open("127.0.0.1", 6379) else "filesystem"
    if args.database is None:
        args.database = "postgres" if port_open(PG_HOST, PG_PORT) else "sqlite"
    return args


# --- processes --------------------------------------------------------------------------------
def venv_bin(name: str) -> list[str]:
    candidate = Path(sys.executable).parent / name
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", name]


def wait_for_log(proc: subprocess.Popen, log: Path, pattern: str, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        match = re.search(pattern, text)
        if match:
            return match
        if proc.poll() is not None:
            raise RuntimeError(
                f"{log.name}: the process exited ({proc.returncode}):\n{text[-3000:]}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"{log.name}: not ready after {timeout:.0f} s:\n{text[-3000:]}")


def stop(proc: subprocess.Popen | None, grace: float = 15.0) -> None:
    """SIGTERM the process we started, then SIGKILL what is left of its process group."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the parent stops its own children (celery's pool)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        # a dead worker can leave its pool or beat process behind, in the same group
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=10)


def wait_for_http(url: str, timeout: float) -> None:
    """Until `url` answers at all (any status)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.1)


def process_tree(root_pid: int) -> list[int]:
    """root_pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds_one(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:13]) / CLK_TCK


def rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and its descendants (a worker and its pool)."""
    total = 0
    for pid in process_tree(root_pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def broker_bytes(broker: str, var_dir: Path) -> int | None:
    """What the broker holds: Redis's used memory, or the filesystem broker's files."""
    if broker == "redis":
        import redis

        return int(redis.Redis.from_url(REDIS_URL).info("memory")["used_memory"])
    folder = var_dir / "broker"
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and its descendants, living and reaped."""
    total = 0
    for pid in process_tree(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the ")": state is field 3, so utime..cstime (14..17) are [11:15]
        total += sum(int(value) for value in fields[11:15])
    return total / CLK_TCK


def machine_busy() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


# --- database and broker ----------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    return body["data"] if isinstance(body, dict) and "data" in body else body


# --- the run ----------------------------------------------------------------------------------
def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-jobs-in-flight-"))
    db_name = f"darkroom_bench_jif_{os.getpid()}"
    simulator = None
    workers: dict[str, subprocess.Popen] = {}
    created_db = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        # 1. the simulator
        sim_log = tmp / "simulator.log"
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--latency",
                str(args.latency),
                "--queue-delay",
                str(args.queue_delay),
                "--concurrency",
                "0",
                "--quiet",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(sim_log, "wb"),  # noqa: SIM115 - written by the child until it ends
            start_new_session=True,
        )
        sim_url = wait_for_log(simulator, sim_log, r"listening on (http://\S+)", 30).group(1)

        # 2. a fresh database and broker
        env = clean_env()
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DARKROOM_VAR_DIR=str(tmp / "var"),
            MEDIA_ROOT=str(tmp / "media"),
            WAVESPEED_BASE_URL=sim_url,
            DEBUG=os.environ.get("DEBUG", "0"),  # as in production: no query log in memory
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",  # the worker's " ready." and "succeeded in" lines are read
        )
        (tmp / "var").mkdir()
        if args.webhooks:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                web_port = probe.getsockname()[1]
            env["DARKROOM_PUBLIC_URL"] = f"http://127.0.0.1:{web_port}"
        if args.set:
            # a settings module in the temp dir: base plus the overrides, for worker and bench
            lines = ["from config.settings.base import *  # noqa: F403"]
            for item in args.set:
                name, _, value = item.partition("=")
                ast.literal_eval(value)  # a literal, nothing else
                lines.append(f"{name.strip()} = {value.strip()}")
            (tmp / "settings").mkdir()
            (tmp / "settings" / "bench_overrides.py").write_text("\n".join(lines) + "\n")
            env["DJANGO_SETTINGS_MODULE"] = "bench_overrides"
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(tmp / "settings"), str(ROOT), env.get("PYTHONPATH")])
            )
        if args.database == "postgres":
            psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{db_name}"')
            created_db = True
            env["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db_name}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
        if args.broker == "redis":
            env["REDIS_URL"] = REDIS_URL
            flush_redis(REDIS_URL)
        # filesystem: no URL at all, settings put the broker folders under DARKROOM_VAR_DIR
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=180,
        )
        if migrate.returncode:
            raise RuntimeError(f"migrate failed:\n{migrate.stderr.decode(errors='replace')}")

        # 3. the Celery workers, with the scheduler (the sweeper) inside the first
        workers = {}
        for name, command in worker_commands(args, tmp).items():
            log = tmp / f"{name}.log"
            workers[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=open(log, "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for name, worker in workers.items():
            wait_for_log(worker, tmp / f"{name}.log", r" ready\.", 90)
        if args.webhooks:
            # the web process, as the Procfile's `web` (one process, threads) receives them
            log = tmp / "web.log"
            workers["web"] = subprocess.Popen(
                [
                    *venv_bin("gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    "1",
                    "--threads",
                    "8",
                ],
                cwd=ROOT,
                env=env,
                stdout=open(log, "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            wait_for_log(workers["web"], log, r"Booting worker", 60)
            # "Booting worker" comes before the app is imported: wait for an answer, so the
            # web's start-up is not counted as the run's CPU.
            wait_for_http(f"http://127.0.0.1:{web_port}/hooks/wavespeed/", 60)

        # 4. this process: Django with the same environment, to create and watch generations
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        if args.set:
            sys.path.insert(0, str(tmp / "settings"))
        import django

        django.setup()
        result = run(args, sim_url, workers, simulator)
        print_report(args, sim_url, result)
        return 0 if not result["worker_exits"] else 1
    finally:
        with contextlib.suppress(Exception):  # Django may never have been set up
            from django.db import connections

            connections.close_all()
        for worker in workers.values():
            stop(worker)
        stop(simulator, grace=5)
        if created_db:
            try:
                psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except Exception as exc:
                print(f"warning: could not drop {db_name}: {exc}", file=sys.stderr)
        if args.broker == "redis":
            with contextlib.suppress(Exception):
                flush_redis(REDIS_URL)
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def worker_commands(args: argparse.Namespace, tmp: Path) -> dict[str, list[str]]:
    """The Celery workers to start, by name: the Procfile's (without config.keepalive, and
    with the scheduler inside the `worker` rather than a `beat` process of its own)."""
    celery = [*venv_bin("celery"), "-A", "config", "worker", "--loglevel", "INFO"]
    beat = ["--beat", "--schedule", str(tmp / "beat-schedule")]
    host = f"jobs-in-flight-{os.getpid()}@%h"
    if args.layout == "single":
        queues = ",".join(QUEUES.values())
        return {
            "worker": [
                *celery,
                *beat,
                "--queues",
                queues,
                "--concurrency",
                str(args.concurrency),
                "--hostname",
                f"worker-{host}",
            ],
        }
    commands = {
        "worker": [
            *celery,
            *beat,
            "--queues",
            QUEUES["worker"],
            "--concurrency",
            str(args.concurrency),
            "--hostname",
            f"worker-{host}",
        ],
        "submitter": [
            *celery,
            "--queues",
            QUEUES["submitter"],
            "--pool",
            "threads",
            "--concurrency",
            str(args.submit_concurrency),
            "--hostname",
            f"submitter-{host}",
        ],
        "images": [
            *celery,
            "--queues",
            QUEUES["images"],
            "--pool",
            args.image_pool,
            "--concurrency",
            str(args.image_concurrency),
            "--hostname",
            f"images-{host}",
        ],
        "thumbnails": [
            "nice",
            "-n",
            str(args.thumbnail_nice),
            *celery,
            "--queues",
            QUEUES["thumbnails"],
            "--concurrency",
            str(args.thumbnail_concurrency),
            "--hostname",
            f"thumbnails-{host}",
        ],
    }
    if args.thumbnails_in_images:
        del commands["thumbnails"]
        images = commands["images"]
        images[images.index(QUEUES["images"])] = f"{QUEUES['images']},{QUEUES['thumbnails']}"
    return commands


def run(
    args: argparse.Namespace,
    sim_url: str,
    workers: dict[str, subprocess.Popen],
    simulator: subprocess.Popen,
) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count

    from generations.models import FINAL_STATUSES, Generation, OutputImage, Renditions
    from generations.services import generation_create
    from generations.services.submission import GenerationParams

    user = get_user_model().objects.create(username="bench-jobs-in-flight")
    if args.history:
        from datetime import timedelta
        from decimal import Decimal

        from django.utils import timezone

        from generations.models import Status

        took = timedelta(seconds=args.latency + args.queue_delay + 0.5)
        long_ago = timezone.now() - timedelta(hours=1)
        Generation.objects.bulk_create(
            Generation(
                owner=user,
                prompt="history",
                status=Status.DONE,
                request_payload={"prompt": "history"},
                price_per_image=Decimal("0.028"),
                quoted_cost=Decimal("0.028"),
                cost=Decimal("0.028"),
                submitted_at=long_ago,
                completed_at=long_ago + took,
            )
            for _ in range(args.history)
        )
    cpu_workers0 = {name: cpu_seconds(w.pid) for name, w in workers.items()}
    cpu_sim0 = cpu_seconds(simulator.pid)
    cpu_self0 = sum(os.times()[:2])
    busy0, wall0 = machine_busy(), time.monotonic()

    logs = Path(os.environ["DARKROOM_VAR_DIR"]).parent
    worker_logs = {logs / f"{name}.log": (logs / f"{name}.log").stat().st_size for name in workers}
    t0 = time.time()
    ids = [
        generation_create(
            owner=user,
            params=GenerationParams(
                prompt=f"Jobs in flight #{i}: a lighthouse at dusk, film grain",
                resolution="1k",
                num_images=1,
            ),
        ).pk
        for i in range(args.count)
    ]
    t_created = time.time()

    timeline: list[tuple[float, dict[str, int]]] = []
    deadline = time.monotonic() + args.timeout
    last_print = 0.0
    timed_out = False
    rss_peak = dict.fromkeys(workers, 0)
    broker_peak = 0
    broker_start = broker_bytes(args.broker, Path(os.environ["DARKROOM_VAR_DIR"])) or 0
    var_dir = Path(os.environ["DARKROOM_VAR_DIR"])
    last_sample = 0.0
    t_thumbnails = None  # when every image of the run had its thumbnails (or could not)
    while True:
        if time.monotonic() - last_sample >= 1.0:
            last_sample = time.monotonic()
            for name, w in workers.items():
                rss_peak[name] = max(rss_peak[name], rss_bytes(w.pid))
            broker_peak = max(broker_peak, broker_bytes(args.broker, var_dir) or 0)
        counts = dict(
            Generation.objects.filter(pk__in=ids)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        now = time.time() - t0
        timeline.append((now, counts))
        final = sum(n for status, n in counts.items() if status in FINAL_STATUSES)
        thumbnails_pending = OutputImage.objects.filter(
            generation_id__in=ids, renditions=Renditions.PENDING
        ).count()
        if now - last_print >= 5:
            last_print = now
            shown = " ".join(f"{s}={n}" for s, n in sorted(counts.items()))
            print(f"  t={now:5.1f}s  {shown} thumbnails_pending={thumbnails_pending}", flush=True)
        if final >= len(ids) and not thumbnails_pending:
            t_thumbnails = now
            break
        if time.monotonic() > deadline:
            timed_out = True
            break
        if any(w.poll() is not None for w in workers.values()):
            break  # a worker died: its queue will not move any more
        time.sleep(0.2)
    cpu_workers = {name: cpu_seconds(w.pid) - cpu_workers0[name] for name, w in workers.items()}
    cpu_sim = cpu_seconds(simulator.pid) - cpu_sim0
    cpu_self = sum(os.times()[:2]) - cpu_self0
    busy, capacity = machine_busy() - busy0, (time.monotonic() - wall0) * (os.cpu_count() or 1)

    pg_cpu = None
    if connection.vendor == "postgresql":
        # the backends serving this database (its connections outlive the tasks: CONN_MAX_AGE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            pg_cpu = sum(cpu_seconds_one(pid) for (pid,) in cursor.fetchall())

    rows = list(
        Generation.objects.filter(pk__in=ids).values(
            "status",
            "created_at",
            "submitted_at",
            "completed_at",
            "finished_at",
            "poll_count",
            "result_via",
            "submit_attempts",
            "save_attempts",
            "provider_id",
        )
    )
    requests = get_json(f"{sim_url}/_sim/requests")
    predictions = get_json(f"{sim_url}/_sim/predictions")
    return {
        "t0": t0,
        "create_s": t_created - t0,
        "thumbnails_s": t_thumbnails,
        "rows": rows,
        "timed_out": timed_out,
        "worker_exits": {name: w.poll() for name, w in workers.items() if w.poll() is not None},
        "requests": requests,
        "predictions": predictions,
        "cpu_workers": cpu_workers,
        "cpu_worker": sum(cpu_workers.values()),
        "cpu_sim": cpu_sim,
        "cpu_self": cpu_self,
        "busy": busy,
        "pg_cpu": pg_cpu,
        "capacity": capacity,
        "poll_settings": (
            settings.POLL_MIN_SECONDS,
            settings.POLL_FACTOR,
            settings.POLL_MAX_SECONDS,
        ),
        "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
        "sweep": (settings.SWEEP_INTERVAL_SECONDS, settings.STALE_AFTER_SECONDS),
        "worker_logs": worker_logs,
        "rss_peak": rss_peak,
        "broker_peak": broker_peak,
        "broker_start": broker_start,
    }


def describe_layout(args: argparse.Namespace) -> str:
    if args.layout == "single":
        return f"one worker on every queue --concurrency {args.concurrency} --beat"
    return (
        f"worker --concurrency {args.concurrency} --beat, "
        f"submitter --pool threads --concurrency {args.submit_concurrency}, "
        f"images --pool {args.image_pool} --concurrency {args.image_concurrency}, "
        + (
            "thumbnails in the images worker"
            if args.thumbnails_in_images
            else f"thumbnails --concurrency {args.thumbnail_concurrency} "
            f"(nice {args.thumbnail_nice})"
        )
    )


def print_report(args: argparse.Namespace, sim_url: str, r: dict) -> None:
    from wavespeed.specs import KLING_IMAGE_O3

    rows, t0, n = r["rows"], r["t0"], len(r["rows"])

    def secs(a: datetime | None, b: datetime | None) -> float | None:
        return (b - a).total_seconds() if a and b else None

    def stats(values: list[float | None]) -> str:
        vals = [v for v in values if v is not None]
        if not vals:
            return "-"
        return (
            f"min {min(vals):6.2f}  p50 {percentile(vals, 50):6.2f}  "
            f"p95 {percentile(vals, 95):6.2f}  max {max(vals):6.2f}"
        )

    t0_dt = datetime.fromtimestamp(t0, UTC)
    done = [row for row in rows if row["status"] == "done"]
    finished = [row["finished_at"] for row in rows if row["finished_at"]]
    wall_last_done = max((secs(t0_dt, row["finished_at"]) for row in done), default=None)
    wall_all_final = max((secs(t0_dt, f) for f in finished), default=None)
    statuses = Counter(row["status"] for row in rows)

    # the simulator's view
    result_path = re.compile(r"/api/v3/predictions/[^/]+(/result)?")
    reqs = r["requests"]
    submits = [
        q for q in reqs if q["method"] == "POST" and q["path"] == f"/api/v3/{KLING_IMAGE_O3}"
    ]
    result_gets = [q for q in reqs if q["method"] == "GET" and result_path.fullmatch(q["path"])]
    downloads = [q for q in reqs if q["method"] == "GET" and q["path"].startswith("/cdn/")]
    not_ok = Counter(str(q["status"]) for q in reqs if q["status"] != 200)
    per_prediction = Counter(q["path"].split("/")[4] for q in result_gets)
    sim_finished = {
        p["id"]: p["_sim"]["finished_at"] for p in r["predictions"] if p["_sim"].get("finished_at")
    }
    # how long after the provider finished did a poll notice it
    notice_lag = [
        row["completed_at"].timestamp() - sim_finished[row["provider_id"]]
        for row in rows
        if row["completed_at"] and row["provider_id"] in sim_finished
    ]
    # the figure: provider finished -> the image visible in the gallery (done)
    visible_lag = [
        row["finished_at"].timestamp() - sim_finished[row["provider_id"]]
        for row in rows
        if row["finished_at"] and row["provider_id"] in sim_finished
    ]
    via = Counter(row["result_via"] or "-" for row in rows)
    polls = [row["poll_count"] for row in rows]
    # when each result GET arrived, counted from the prediction's submit
    sim_created = {p["id"]: p["_sim"]["created_at"] for p in r["predictions"]}
    by_poll: dict[int, list[float]] = {}
    seen: Counter = Counter()
    for q in sorted(result_gets, key=lambda q: q["at"]):
        pid = q["path"].split("/")[4]
        if pid not in sim_created:
            continue
        seen[pid] += 1
        at = datetime.fromisoformat(q["at"].replace("Z", "+00:00")).timestamp()
        by_poll.setdefault(seen[pid], []).append(at - sim_created[pid])
    log_text = ""
    for path, offset in r["worker_logs"].items():
        with open(path, "rb") as log:
            log.seek(offset)  # what the worker wrote during the run only
            log_text += log.read().decode(errors="replace")
    problem_lines = [
        line
        for line in log_text.splitlines()
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)
        # kombu's filesystem transport has no host: noise, logged on each new connection
        and "No hostname was supplied" not in line
    ]
    log_problems = len(problem_lines)
    # "Task wavespeed.tasks.x[id] succeeded in 0.012s": time each kind of task held a slot
    task_times: dict[str, list[float]] = {}
    for name, seconds in re.findall(
        r"Task (?:generations|wavespeed)\.tasks\.(\w+)\[[^\]]+\] succeeded in ([\d.]+)s",
        log_text,
    ):
        task_times.setdefault(name, []).append(float(seconds))
    # "Task wavespeed.tasks.x[id] received": a step queued twice (the sweeper's duplicates)
    # shows as more than one submit or save per generation.
    received = Counter(
        re.findall(r"Task (?:generations|wavespeed)\.tasks\.(\w+)\[[^\]]+\] received", log_text)
    )

    ours = r["cpu_worker"] + r["cpu_sim"] + r["cpu_self"] + (r["pg_cpu"] or 0)
    pmin, pfactor, pmax = r["poll_settings"]
    print()
    print(
        f"Jobs in flight: {n} generations (1k, 1 image), simulator latency {args.latency:g} s + "
        f"queue delay {args.queue_delay:g} s, concurrency unlimited (a high-tier account)"
    )
    print(
        f"broker {args.broker}, database {args.database}, {describe_layout(args)}, "
        f"prefetch x{r['prefetch']}, polls {pmin:g} s x{pfactor:g} up to {pmax:g} s (±20 %), "
        f"sweep every {r['sweep'][0]:g} s"
    )
    if args.set:
        print(f"settings overridden: {', '.join(args.set)}")
    print()
    table = [
        ("wall time, t0 -> last done", f"{wall_last_done:.2f} s" if wall_last_done else "-"),
        ("wall time, t0 -> all final", f"{wall_all_final:.2f} s" if wall_all_final else "-"),
        (
            "wall time, t0 -> all thumbnails made",
            f"{r['thumbnails_s']:.2f} s (±0.2)" if r["thumbnails_s"] else "-",
        ),
        (f"creating the rows ({n} commits)", f"{r['create_s']:.2f} s"),
        (
            "per generation, created -> finished",
            stats([secs(x["created_at"], x["finished_at"]) for x in rows]),
        ),
        ("  created -> submitted", stats([secs(x["created_at"], x["submitted_at"]) for x in rows])),
        ("  provider done -> noticed", stats(notice_lag)),
        ("  provider done -> visible (done)", stats(visible_lag)),
        ("results arrived by", ", ".join(f"{k} {c}" for k, c in sorted(via.items()))),
        (
            "  noticed -> saved (done)",
            stats([secs(x["completed_at"], x["finished_at"]) for x in rows]),
        ),
        (
            "status",
            ", ".join(f"{s} {c}" for s, c in sorted(statuses.items()))
            + ("  (TIMED OUT)" if r["timed_out"] else "")
            + "".join(
                f"  (THE {name.upper()} EXITED: {code})" for name, code in r["worker_exits"].items()
            ),
        ),
        (
            "result polls / generation (DB)",
            f"mean {statistics.mean(polls):.2f}, min {min(polls)}, "
            f"max {max(polls)}; spread {dict(sorted(Counter(polls).items()))}",
        ),
        *((f"  poll #{k} after submit (n={len(v)})", stats(v)) for k, v in sorted(by_poll.items())),
        (
            "result GETs at the simulator",
            f"{len(result_gets)} = {len(result_gets) / n:.2f} / generation, "
            f"max {max(per_prediction.values(), default=0)} for one prediction",
        ),
        (
            "submits at the simulator",
            f"{len(submits)} (predictions {len(r['predictions'])}, expected {n})"
            + ("" if len(submits) == n else "  <-- MISMATCH"),
        ),
        ("output downloads", f"{len(downloads)}"),
        ("non-200 answers", ", ".join(f"{s}: {c}" for s, c in not_ok.items()) or "none"),
        *(
            (
                f"slot time: {name}",
                f"{len(v)} runs, {sum(v):6.2f} s total, "
                f"mean {1000 * statistics.mean(v):5.1f} ms, max {1000 * max(v):5.0f} ms",
            )
            for name, v in sorted(task_times.items())
        ),
        (
            "peak RSS (process and its pool)",
            ", ".join(f"{name} {b / 2**20:.0f} MB" for name, b in r["rss_peak"].items()),
        ),
        (
            "peak broker size",
            f"{r['broker_peak'] / 2**20:.1f} MB ({args.broker}; "
            f"{r['broker_start'] / 2**20:.1f} MB before the run)",
        ),
        (
            "tasks received / generation",
            ", ".join(
                f"{name} {count / n:.2f}"
                for name, count in sorted(received.items())
                if name in ("submit_job", "reconcile_job", "save_generation_outputs")
            ),
        ),
        (
            "Celery CPU (+pools, +beat, + web with --webhooks)",
            f"{r['cpu_worker']:.2f} s = {1000 * r['cpu_worker'] / n:.1f} ms / generation",
        ),
        *(
            (f"  {name}", f"{cpu:.2f} s = {1000 * cpu / n:.1f} ms / generation")
            for name, cpu in r["cpu_workers"].items()
            if len(r["cpu_workers"]) > 1
        ),
        ("simulator CPU / bench CPU", f"{r['cpu_sim']:.2f} s / {r['cpu_self']:.2f} s"),
        *(
            [("postgres backends of the bench DB", f"{r['pg_cpu']:.2f} s")]
            if r["pg_cpu"] is not None
            else []
        ),
        (
            "machine CPU busy during the run",
            f"{r['busy']:.2f} s of {r['capacity']:.2f} s "
            f"({os.cpu_count()} cores); not the bench's processes: "
            f"{r['busy'] - ours:.2f} s",
        ),
        ("worker log warnings+errors during the run", str(log_problems)),
    ]
    width = max(len(k) for k, _ in table)
    for key, value in table:
        print(f"  {key:<{width}}  {value}")
    for line in problem_lines[:5]:
        print(f"    | {line[:200]}")
    if len(reqs) >= 10_000:
        print("  (the simulator's request log holds 10,000 entries at most: counts may be low)")
    met = (
        wall_last_done is not None
        and statuses.get("done", 0) == n
        and wall_last_done <= GOAL_SECONDS
    )
    print()
    print(f"Goal: all done within {GOAL_SECONDS:g} s: {'MET' if met else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
