"""Faults: the production layout driven through worker kills, a Redis restart and an outage.

    .venv/bin/python bench/faults.py [--count 200] [--latency 5] [--outage 60]
        [--sweep-interval S] [--stale-after S] [--keep]

Starts the WaveSpeed simulator behind a TCP proxy that can refuse every connection (the
workers' WAVESPEED_BASE_URL points at the proxy; the simulator builds output URLs from the Host
header, so downloads go through it too), a redis-server of its own on a free port, a fresh
PostgreSQL database, and the production processes, each in its own process group: a worker
(`--queues celery --concurrency 2`), a submitter (`--queues submit --pool threads
--concurrency 8`), an images worker (`--queues images --concurrency 2`), a thumbnails worker
(`nice -n 10 … --queues thumbnails`, as many processes as the images worker) and `celery beat`.
DARKROOM_SWEEP_INTERVAL and DARKROOM_STALE_AFTER keep their defaults (30 s, 60 s) unless a flag
(or the calling shell) sets them; the report says which.

It creates `--count` generations (1k, 1-4 images, every prompt unique) through
`generation_create`, as the web form does, in five waves of a fifth each. Each wave carries one
fault, injected at a chosen moment, then the run waits until everything created so far is final
(at most `--heal-timeout`), and stays calm for `--calm` seconds before the next:

1. images worker killed while saving: `kill -9` of the images worker's process group as soon as
   a save is storing files (a row with `pending_files`, or one partly saved); a new one is
   started;
2. submitter killed while submitting: the simulator holds each submit's answer for
   `--slow-submit` seconds after creating the prediction (a timed "slow" fault), and the
   submitter's group is killed once several submits are claimed and unanswered; a new one is
   started;
3. worker killed while polling: `kill -9` once every generation of the wave is submitted
   (the worker holds their countdown polls, unacknowledged); a new worker is started;
4. Redis restart under load: while the wave is still being created (queued, submitted and
   processing runs), redis-server is stopped (SIGTERM, nothing persisted: every queued and
   unacknowledged message is lost) and started again on the same port `--redis-down` s later;
5. provider outage: once a run of the wave is saving, the proxy goes down for `--outage` s
   (refused connections, open ones cut) while the rest of the wave is created.

Healing, per fault. The fault ENDS when the replacement worker, submitter or images worker logs
" ready.",
when the new redis-server answers PING, or when the proxy accepts connections again. The
generations IN FLIGHT are those not final (done/failed) at that moment; for each, its marker is
(status, poll_seq, submit_attempts, save_attempts, images saved), which moves whenever a task
claims it (a submit, reconcile, poll or save ran) or it changes status.
- "progress": from the end until every generation in flight has a marker different from the
  one it had at the end, or is final (max and median over them);
- "final": from the end until every generation in flight is final.
The database is sampled every 0.25 s, so both are exact to about 0.3 s.

At the end (all final, or `--final-timeout`) it waits for one sweep to run, then counts, and
all four must be 0:
- generations lost: not final, failed or needs_attention;
- duplicated submits: predictions the simulator created beyond one per prompt;
- ledger mismatches: the sum of LedgerEntry charges against 1000 minus the simulator's balance
  (its own billing of completed predictions), and per generation: done without exactly one
  charge, a charge different from what the simulator billed its prediction, a hold never
  released, a billed prediction no generation owns;
- orphan files: files under MEDIA_ROOT that no OutputImage.file or Thumbnail.file names, and
  temporary downloads left under DARKROOM_VAR_DIR/downloads.

Only talks to 127.0.0.1. Everything it started is stopped, its database dropped and its
temporary folder (logs, media, Redis) removed unless `--keep`. It never fails on time: the exit
status is 0, or 1 when a count is not 0, a process exited without being killed (it is started
again, as config.keepalive would), or the bench itself could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
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
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from _services import PG_HOST, PG_PORT, PG_USER, clean_env, psql  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
SIM_START_BALANCE = Decimal("1000")
SAMPLE_SECONDS = 0.25


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="generations (200)")
    parser.add_argument("--latency", type=float, default=5.0, help="simulator s/prediction (5)")
    parser.add_argument("--queue-delay", type=float, default=0.3, help="simulator 'created' s")
    parser.add_argument("--concurrency", type=int, default=2, help="worker slots (2)")
    parser.add_argument("--submit-concurrency", type=int, default=8, help="submitter threads")
    parser.add_argument(
        "--image-concurrency", type=int, default=2, help="processes of the images worker"
    )
    parser.add_argument("--sweep-interval", type=float, help="DARKROOM_SWEEP_INTERVAL (30)")
    parser.add_argument("--stale-after", type=float, help="DARKROOM_STALE_AFTER (60)")
    parser.add_argument("--outage", type=float, default=60.0, help="provider outage s (60)")
    parser.add_argument(
        "--redis-down", type=float, default=3.0, help="s between Redis stop and start (3)"
    )
    parser.add_argument(
        "--slow-submit",
        type=float,
        default=2.0,
        help="s the simulator holds each submit's answer in the submitter-kill wave (2)",
    )
    parser.add_argument("--calm", type=float, default=10.0, help="s of calm between faults")
    parser.add_argument(
        "--heal-timeout", type=float, default=600.0, help="max wait per fault (600 s)"
    )
    parser.add_argument(
        "--final-timeout", type=float, default=900.0, help="max wait at the end (900 s)"
    )
    parser.add_argument("--seed", type=int, default=10, help="random seed (image counts)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, media)")
    args = parser.parse_args()
    if args.count < 10:
        parser.error("--count: at least 10 (five waves)")
    return args


# --- processes --------------------------------------------------------------------------------
def venv_bin(name: str) -> list[str]:
    candidate = Path(sys.executable).parent / name
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", name]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kill_group(proc: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen | None, grace: float = 15.0) -> None:
    """SIGTERM the process we started, then SIGKILL what is left of its process group."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    kill_group(proc)
    if proc.poll() is None:
        proc.wait(timeout=10)


class Managed:
    """A process the bench starts, kills and starts again, in its own process group; each
    incarnation logs to its own file (`<name>.<n>.log`)."""

    def __init__(self, name: str, argv: list[str], env: dict, logs: Path, ready: str) -> None:
        self.name, self.argv, self.env, self.logs, self.ready = name, argv, env, logs, ready
        self.proc: subprocess.Popen | None = None
        self.incarnation = 0
        self.killed_on_purpose = 0

    @property
    def log_path(self) -> Path:
        return self.logs / f"{self.name}.{self.incarnation}.log"

    def start(self, timeout: float = 90.0) -> None:
        self.incarnation += 1
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log_path, "wb"),  # noqa: SIM115 - written by the child until it ends
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready in self.log_path.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")

    def kill(self) -> None:
        """kill -9 of the whole process group (the parent, its pool, anything it started)."""
        self.killed_on_purpose += 1
        kill_group(self.proc)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def all_logs(self) -> str:
        return "\n".join(
            (self.logs / f"{self.name}.{n}.log").read_text(errors="replace")
            for n in range(1, self.incarnation + 1)
            if (self.logs / f"{self.name}.{n}.log").exists()
        )

    def stop(self) -> None:
        stop(self.proc)


class RedisServer:
    """A redis-server of the bench's own, nothing kept on disk: a restart loses every message."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 15.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=open(self.folder / f"redis.{self.starts}.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop(self.proc, grace=10)


# --- small helpers ----------------------------------------------------------------------------
def http_json(url: str, body: dict | None = None, headers: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    return answer["data"] if isinstance(answer, dict) and "data" in answer else answer


def wait_for_log(proc: subprocess.Popen, log: Path, pattern: str, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if match := re.search(pattern, text):
            return match
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{log.name}: not ready:\n{text[-3000:]}")


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


# --- the run ----------------------------------------------------------------------------------
@dataclass
class Fault:
    name: str
    what: str  # how it was injected, for the report
    started: float  # monotonic
    ended: float | None = None
    at_start: Counter = field(default_factory=Counter)  # statuses of the backlog at the start
    in_flight: dict[int, tuple] = field(default_factory=dict)  # pk -> marker at the end
    progressed: dict[int, float] = field(default_factory=dict)  # pk -> first change
    finalised: dict[int, float] = field(default_factory=dict)  # pk -> final
    note: str = ""

    def heal_progress(self) -> tuple[float | None, float | None, int]:
        """(max, median, generations not progressed) from the end."""
        times = [self.progressed[pk] - self.ended for pk in self.in_flight if pk in self.progressed]
        missing = len(self.in_flight) - len(times)
        if not self.in_flight:
            return 0.0, 0.0, 0
        if not times:
            return None, None, missing
        return max(times), statistics.median(times), missing

    def heal_final(self) -> tuple[float | None, int]:
        missing = [pk for pk in self.in_flight if pk not in self.finalised]
        if missing:
            return None, len(missing)
        if not self.in_flight:
            return 0.0, 0
        return max(self.finalised.values()) - self.ended, 0


class Bench:
    def __init__(self, args: argparse.Namespace, sim_url: str, proxy, redis, procs: dict) -> None:
        from django.contrib.auth import get_user_model

        self.args, self.sim_url, self.proxy, self.redis = args, sim_url, proxy, redis
        self.procs: dict[str, Managed] = procs
        self.user = get_user_model().objects.create(username=f"bench-faults-{os.getpid()}")
        self.rng = random.Random(args.seed)
        self.t0, self.wall0 = time.monotonic(), time.time()
        self.ids: list[int] = []
        self.to_create: deque[float] = deque()  # monotonic due times
        self.markers: dict[int, tuple] = {}
        self.faults: list[Fault] = []
        self.events: list[str] = []  # unexpected exits and the like
        self.phase = "start"
        self.last_sample = self.last_print = 0.0
        self.unexpected_exits = 0

    # -- time and creation
    def t(self, at: float | None = None) -> float:
        return (at if at is not None else time.monotonic()) - self.t0

    def schedule_wave(self, n: int, over: float) -> None:
        now = time.monotonic()
        for i in range(n):
            self.to_create.append(now + over * i / max(1, n))

    def create_one(self) -> None:
        from generations.services import generation_create
        from generations.services.submission import GenerationParams

        i = len(self.ids)
        params = GenerationParams(
            prompt=f"Faults {os.getpid()} #{i}: a lighthouse in a storm, film grain",
            aspect_ratio="1:1",
            resolution="1k",
            num_images=self.rng.randint(1, 4),
        )
        self.ids.append(generation_create(owner=self.user, params=params).pk)

    # -- watching
    def sample(self) -> None:
        from django.db.models import Count

        from generations.models import FINAL_STATUSES, Generation

        now = time.monotonic()
        self.last_sample = now
        rows = (
            Generation.objects.filter(pk__in=self.ids)
            .annotate(saved=Count("images"))
            .values_list("pk", "status", "poll_seq", "submit_attempts", "save_attempts", "saved")
        )
        self.markers = {pk: tuple(rest) for pk, *rest in rows}
        for fault in self.faults:
            if fault.ended is None:
                continue
            for pk, marker in fault.in_flight.items():
                current = self.markers.get(pk, marker)
                if pk not in fault.progressed and (
                    current != marker or current[0] in FINAL_STATUSES
                ):
                    fault.progressed[pk] = now
                if pk not in fault.finalised and current[0] in FINAL_STATUSES:
                    fault.finalised[pk] = now

    def counts(self) -> Counter:
        return Counter(marker[0] for marker in self.markers.values())

    def backlog_final(self) -> bool:
        from generations.models import FINAL_STATUSES

        return not self.to_create and all(
            self.markers.get(pk, ("?",))[0] in FINAL_STATUSES for pk in self.ids
        )

    def supervise(self) -> None:
        """A process that exits without being killed is an event; it is started again."""
        for managed in self.procs.values():
            code = managed.exited()
            if code is None:
                continue
            self.unexpected_exits += 1
            self.events.append(
                f"t={self.t():.1f}s {managed.name} (incarnation {managed.incarnation}) EXITED "
                f"on its own with {code}; started again. Its last lines:\n"
                + "\n".join(f"      | {line[:200]}" for line in managed.log_tail(8).splitlines())
            )
            print(f"  !! {managed.name} exited on its own ({code}); starting it again", flush=True)
            time.sleep(1.0)  # config.keepalive's first delay
            managed.start()

    def pump(self) -> None:
        now = time.monotonic()
        while self.to_create and self.to_create[0] <= now:
            self.to_create.popleft()
            self.create_one()
        if now - self.last_sample >= SAMPLE_SECONDS:
            self.sample()
        self.supervise()
        if now - self.last_print >= 5:
            self.last_print = now
            shown = " ".join(f"{s}={n}" for s, n in sorted(self.counts().items()))
            print(
                f"  t={self.t():6.1f}s  [{self.phase}]  created {len(self.ids)}/"
                f"{self.args.count}  {shown}",
                flush=True,
            )

    def wait_until(self, done: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if done():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(every)

    def idle(self, seconds: float) -> None:
        self.wait_until(lambda: False, seconds)

    # -- faults
    def begin(self, name: str, what: str) -> Fault:
        self.sample()
        fault = Fault(name=name, what=what, started=time.monotonic(), at_start=self.counts())
        self.faults.append(fault)
        print(f"  >> t={self.t():.1f}s fault: {name} ({what})", flush=True)
        return fault

    def end(self, fault: Fault) -> None:
        from generations.models import FINAL_STATUSES

        fault.ended = time.monotonic()
        self.sample()
        fault.in_flight = {
            pk: marker for pk, marker in self.markers.items() if marker[0] not in FINAL_STATUSES
        }
        print(
            f"  << t={self.t():.1f}s fault over after {fault.ended - fault.started:.1f} s; "
            f"{len(fault.in_flight)} generations in flight",
            flush=True,
        )

    def heal(self, fault: Fault) -> None:
        """Wait until the backlog is final (bounded), then stay calm."""
        self.phase = f"{fault.name}: healing"
        if not self.wait_until(self.backlog_final, self.args.heal_timeout, every=0.1):
            fault.note += f" backlog not final after {self.args.heal_timeout:g} s."
        self.phase = "calm"
        self.idle(self.args.calm)

    # -- the five waves
    def waves(self) -> list[int]:
        size = self.args.count // 5
        return [size] * 4 + [self.args.count - 4 * size]

    def run(self) -> None:
        sizes = self.waves()
        self.kill_worker_while_saving(sizes[0])
        self.kill_submitter_while_submitting(sizes[1])
        self.kill_worker_while_polling(sizes[2])
        self.restart_redis_under_load(sizes[3])
        self.provider_outage(sizes[4])

    def pending_save(self) -> tuple[str, int] | None:
        """A save storing files now, or one partly done (a claimed save, at the least)."""
        from django.db.models import Count

        from generations.models import Generation, Status

        saving = (
            Generation.objects.filter(
                pk__in=self.ids, status=Status.SAVING, save_claimed_at__isnull=False
            )
            .annotate(saved=Count("images"))
            .values_list("pk", "pending_files", "saved", "num_images")
        )
        for pk, pending, saved, wanted in saving:
            if pending:
                return "storing files", pk
            if 0 < saved < wanted:
                return f"{saved} of {wanted} images saved", pk
        return None

    def kill_worker_while_saving(self, n: int) -> None:
        self.phase = "1 images worker kill while saving"
        self.schedule_wave(n, over=3.0)
        found = None

        def storing() -> bool:
            nonlocal found
            found = self.pending_save()
            return found is not None

        self.wait_until(storing, 120, every=0.01)
        from generations.models import Generation, Status

        claimed = Generation.objects.filter(
            pk__in=self.ids, status=Status.SAVING, save_claimed_at__isnull=False
        ).count()
        what = (
            f"kill -9 of the images worker's group; generation {found[1]}: {found[0]}; "
            f"{claimed} save(s) claimed"
            if found
            else "kill -9 of the images worker's group; NO save caught in progress"
        )
        fault = self.begin("images worker kill -9 while saving", what)
        self.procs["images"].kill()
        self.procs["images"].start()
        self.end(fault)
        self.heal(fault)

    def kill_submitter_while_submitting(self, n: int) -> None:
        from generations.models import Generation, Status

        self.phase = "2 submitter kill while submitting"
        spread = 2.0
        if self.args.slow_submit > 0:
            http_json(
                f"{self.sim_url}/_sim/faults",
                {
                    "kind": "slow",
                    "endpoint": "submit",
                    "seconds": self.args.slow_submit,
                    "for_seconds": spread + self.args.slow_submit + 1,
                },
            )
        self.schedule_wave(n, over=spread)
        threshold = max(1, min(self.args.submit_concurrency, n) // 2)

        def in_flight() -> int:
            return Generation.objects.filter(
                pk__in=self.ids, status=Status.QUEUED, submit_claimed_at__isnull=False
            ).count()

        self.wait_until(lambda: in_flight() >= threshold, 60, every=0.02)
        claimed = in_flight()
        fault = self.begin(
            "submitter kill -9 while submitting",
            f"{claimed} submit(s) claimed and unanswered; answers held "
            f"{self.args.slow_submit:g} s; {len(self.to_create)} creations still to come",
        )
        self.procs["submitter"].kill()
        self.procs["submitter"].start()
        self.end(fault)
        self.heal(fault)

    def kill_worker_while_polling(self, n: int) -> None:
        from generations.models import Generation

        self.phase = "3 worker kill while polling"
        first = len(self.ids)
        self.schedule_wave(n, over=2.0)

        def all_submitted() -> bool:
            wave = self.ids[first:]
            return not self.to_create and Generation.objects.filter(
                pk__in=wave, provider_id__isnull=False
            ).count() == len(wave)

        self.wait_until(all_submitted, 120, every=0.05)
        fault = self.begin(
            "worker kill -9 while polling",
            f"kill -9 of the worker's group; {len(self.ids) - first} of the wave submitted",
        )
        self.procs["worker"].kill()
        self.procs["worker"].start()
        self.end(fault)
        self.heal(fault)

    def restart_redis_under_load(self, n: int) -> None:
        self.phase = "4 Redis restart"
        # Created until after Redis is back; the first runs are saving when it stops.
        self.schedule_wave(n, over=self.args.latency + self.args.redis_down + 2)
        self.idle(self.args.latency + 1)
        fault = self.begin(
            "Redis restart under load",
            f"redis-server stopped (SIGTERM, no persistence), started again after "
            f"{self.args.redis_down:g} s; {len(self.to_create)} creations still to come",
        )
        self.redis.stop()
        self.idle(self.args.redis_down)
        self.redis.start()
        self.end(fault)
        self.heal(fault)

    def provider_outage(self, n: int) -> None:
        from generations.models import Generation, Status

        self.phase = "5 provider outage"
        before = n // 2
        self.schedule_wave(before, over=4.0)
        self.wait_until(
            lambda: (
                not self.to_create
                and Generation.objects.filter(pk__in=self.ids, status=Status.SAVING).exists()
            ),
            120,
            every=0.02,
        )
        fault = self.begin(
            "provider outage",
            f"proxy down {self.args.outage:g} s (connections refused, open ones cut); "
            f"{n - before} generations created during it",
        )
        self.proxy.down()
        self.schedule_wave(n - before, over=self.args.outage / 2)
        self.idle(self.args.outage)
        self.proxy.up()
        self.end(fault)
        self.heal(fault)

    def final_wait(self) -> tuple[bool, float]:
        self.phase = "final"
        started = time.monotonic()
        ok = self.wait_until(self.backlog_final, self.args.final_timeout, every=0.2)
        return ok, time.monotonic() - started

    def wait_for_a_sweep(self, timeout: float) -> bool:
        """One sweep after everything is final: it deletes the files of saves killed and never
        resumed (the design's clean-up), so orphans are counted after it."""
        pattern = re.compile(r"Task wavespeed\.tasks\.sweep_jobs\[.*succeeded")
        before = len(pattern.findall(self.procs["worker"].all_logs()))
        return self.wait_until(
            lambda: len(pattern.findall(self.procs["worker"].all_logs())) > before,
            timeout,
            every=0.5,
        )


# --- checks -----------------------------------------------------------------------------------
def check(bench: Bench) -> dict:
    from django.conf import settings
    from django.db.models import Sum

    from generations.models import Generation, OutputImage, Status, Thumbnail
    from spend.models import EntryKind, LedgerEntry

    gens = {g.pk: g for g in Generation.objects.filter(pk__in=bench.ids)}
    lost = [g for g in gens.values() if g.status != Status.DONE]

    predictions = http_json(f"{bench.sim_url}/_sim/predictions")
    by_prompt = Counter(p["input"].get("prompt") for p in predictions)
    duplicated = sum(c - 1 for c in by_prompt.values() if c > 1)
    ours = {g.prompt for g in gens.values()}
    strangers = [p for p in predictions if p["input"].get("prompt") not in ours]

    balance = http_json(
        f"{bench.sim_url}/api/v3/balance", headers={"Authorization": "Bearer bench"}
    )["balance"]
    sim_billed = SIM_START_BALANCE - Decimal(str(balance))
    charges_total = LedgerEntry.objects.filter(kind=EntryKind.CHARGE).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal(0)
    billed = {
        p["id"]: Decimal(str(p["_sim"]["cost"])) for p in predictions if p["status"] == "completed"
    }
    entries: dict[int, Counter] = {}
    charge_of: dict[int, Decimal] = {}
    for gen_id, kind, amount in LedgerEntry.objects.values_list("generation_id", "kind", "amount"):
        entries.setdefault(gen_id, Counter())[kind] += 1
        if kind == EntryKind.CHARGE:
            charge_of[gen_id] = amount
    ledger_problems: list[str] = []
    if charges_total != sim_billed:
        ledger_problems.append(
            f"charges ${charges_total} vs the simulator's billing ${sim_billed} "
            f"(diff ${charges_total - sim_billed})"
        )
    owned = {g.provider_id for g in gens.values() if g.provider_id}
    for pid in sorted(set(billed) - owned):
        ledger_problems.append(f"prediction {pid} billed ${billed[pid]}, owned by no generation")
    for g in gens.values():
        kinds = entries.get(g.pk, Counter())
        if g.status == Status.DONE and kinds[EntryKind.CHARGE] != 1:
            ledger_problems.append(f"generation {g.pk} done with {kinds[EntryKind.CHARGE]} charges")
        if kinds[EntryKind.HOLD] and not kinds[EntryKind.RELEASE] and g.is_final:
            ledger_problems.append(f"generation {g.pk} ({g.status}): hold never released")
        if g.pk in charge_of:
            expected = billed.get(g.provider_id)
            if expected is None or charge_of[g.pk] != expected:
                ledger_problems.append(
                    f"generation {g.pk}: charged ${charge_of[g.pk]}, the simulator billed "
                    f"{'nothing' if expected is None else '$' + str(expected)}"
                )

    media = Path(settings.MEDIA_ROOT)
    on_disk = (
        {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
        if media.exists()
        else set()
    )
    referenced = set(OutputImage.objects.values_list("file", flat=True)) | set(
        Thumbnail.objects.values_list("file", flat=True)
    )
    orphans = [describe_file(media / name, bench) for name in sorted(on_disk - referenced)]
    missing = sorted(referenced - on_disk)
    downloads_dir = Path(settings.VAR_DIR) / "downloads"
    temp_downloads = (
        [describe_file(p, bench) for p in sorted(downloads_dir.iterdir()) if p.is_file()]
        if downloads_dir.exists()
        else []
    )
    pending_left = [
        (g.pk, g.status, len(g.pending_files)) for g in gens.values() if g.pending_files
    ]
    return {
        "gens": gens,
        "lost": lost,
        "duplicated": duplicated,
        "dup_prompts": [p for p, c in by_prompt.items() if c > 1],
        "predictions": len(predictions),
        "strangers": len(strangers),
        "sim_billed": sim_billed,
        "charges_total": charges_total,
        "ledger_problems": ledger_problems,
        "orphans": orphans,
        "temp_downloads": temp_downloads,
        "missing": missing,
        "pending_left": pending_left,
        "images": OutputImage.objects.filter(generation__in=bench.ids).count(),
    }


def dump_faults(bench: Bench, path: Path) -> None:
    """With --keep: per fault, each generation in flight at its end, its marker then, and when
    (seconds after the end) it progressed and became final."""
    data = [
        {
            "name": fault.name,
            "what": fault.what,
            "started_t": bench.t(fault.started),
            "ended_t": bench.t(fault.ended),
            "in_flight": {
                pk: {
                    "marker": marker,
                    "progressed_after": fault.progressed.get(pk, fault.ended) - fault.ended
                    if pk in fault.progressed
                    else None,
                    "final_after": fault.finalised[pk] - fault.ended
                    if pk in fault.finalised
                    else None,
                }
                for pk, marker in fault.in_flight.items()
            },
        }
        for fault in bench.faults
    ]
    path.write_text(json.dumps(data, indent=1))


def describe_file(path: Path, bench: Bench) -> str:
    """Where, how big, and when it was last written (in run time: which fault left it)."""
    stat = path.stat()
    return f"{path} ({stat.st_size:,} bytes, last written at t={stat.st_mtime - bench.wall0:.1f}s)"


def log_facts(bench: Bench) -> list[tuple[str, str]]:
    patterns = {
        "Unrecoverable error": r"Unrecoverable error",
        "broker connection lost": r"Connection to broker lost",
        "sweeps that queued steps": r"sweep_jobs\[[^\]]+\] succeeded in [\d.]+s: "
        r"\{[^}]*(?:'\w+_(?:submit|reconcile|follow|save)': [1-9])",
        "submit answers lost (reconciled)": r"has an unknown fate",
        "found in history": r"found in history",
        "ERROR/CRITICAL lines": r"\b(ERROR|CRITICAL)\b",
    }
    logs = {name: m.all_logs() for name, m in bench.procs.items()}
    facts = []
    for label, pattern in patterns.items():
        per = {name: len(re.findall(pattern, text)) for name, text in logs.items()}
        if any(per.values()):
            facts.append((label, ", ".join(f"{k} {v}" for k, v in per.items() if v)))
    return facts


def report(bench: Bench, result: dict, final_ok: bool, final_wait: float, swept: bool) -> int:
    from django.conf import settings

    args = bench.args
    statuses = Counter(g.status for g in result["gens"].values())
    wall = time.monotonic() - bench.t0

    print()
    print(
        f"Faults: {args.count} generations (1k, 1-4 images, {result['images']} images saved), "
        f"simulator latency {args.latency:g} s + queue delay {args.queue_delay:g} s"
    )
    print(
        f"worker --queues celery --concurrency {args.concurrency}, submitter --queues submit "
        f"--pool threads --concurrency {args.submit_concurrency}, images --queues images "
        f"--concurrency {args.image_concurrency}, thumbnails (nice 10) --queues thumbnails "
        f"--concurrency {args.image_concurrency}, celery beat; Redis "
        f"127.0.0.1:{bench.redis.port} (own, no persistence), PostgreSQL"
    )
    print(
        f"DARKROOM_SWEEP_INTERVAL {settings.SWEEP_INTERVAL_SECONDS:g} s "
        f"({args.origin['DARKROOM_SWEEP_INTERVAL']}), "
        f"DARKROOM_STALE_AFTER {settings.STALE_AFTER_SECONDS:g} s "
        f"({args.origin['DARKROOM_STALE_AFTER']}), "
        f"submit retry cap {settings.SUBMIT_RETRY_CAP_SECONDS:g} s, save retry cap "
        f"{settings.SAVE_RETRY_CAP_SECONDS:g} s, "
        f"prefetch x{settings.CELERY_WORKER_PREFETCH_MULTIPLIER}, "
        f"acks_late {getattr(settings, 'CELERY_TASK_ACKS_LATE', False)}, visibility timeout "
        f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout', '-')} s"
    )
    print()
    print("Faults and healing (from the fault's end; see the docstring):")
    header = (
        f"  {'fault':<34} {'at':>7} {'lasted':>7} {'in flight at end':<44} "
        f"{'progress max':>12} {'p50':>7} {'all final':>10}"
    )
    print(header)
    for fault in bench.faults:
        worst, median, stuck = fault.heal_progress()
        final, unfinished = fault.heal_final()
        by_status = Counter(fault.in_flight[pk][0] for pk in fault.in_flight)
        flight = f"{len(fault.in_flight)}: " + ", ".join(
            f"{s} {n}" for s, n in sorted(by_status.items())
        )
        print(
            f"  {fault.name:<34} {bench.t(fault.started):6.0f}s "
            f"{fault.ended - fault.started:6.1f}s {flight[:44]:<44} "
            f"{fmt_s(worst) if not stuck else f'{stuck} never':>12} {fmt_s(median):>7} "
            f"{fmt_s(final) if not unfinished else f'{unfinished} not':>10}"
        )
        print(f"  {'':<34} {fault.what}{fault.note}")
        at_start = ", ".join(f"{s} {n}" for s, n in sorted(fault.at_start.items()))
        print(f"  {'':<34} at the start: {at_start}")
    print()
    print("Logs:")
    for label, value in log_facts(bench):
        print(f"  {label:<34} {value}")
    for name, managed in bench.procs.items():
        print(f"  {name:<34} started {managed.incarnation}x, killed {managed.killed_on_purpose}x")
    scheduling_log = Path(os.environ["DARKROOM_VAR_DIR"]).parent / "bench-django.log"
    failed_publishes = scheduling_log.read_text(errors="replace").count("Could not queue")
    label = "publishes from the bench that failed"
    print(f"  {label:<34} {failed_publishes} (left to the sweeper)")
    for event in bench.events:
        print(f"  {event}")
    print()

    lost, dup = result["lost"], result["duplicated"]
    ledger, orphans = result["ledger_problems"], result["orphans"] + result["temp_downloads"]
    rows = [
        (
            "generations lost",
            len(lost),
            ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
            + ("" if final_ok else f"  (NOT ALL FINAL after {args.final_timeout:g} s)"),
        ),
        (
            "duplicated submits",
            dup,
            f"{result['predictions']} predictions at the simulator for {args.count} prompts"
            + (f", {result['strangers']} unknown prompts" if result["strangers"] else ""),
        ),
        (
            "ledger mismatches",
            len(ledger),
            f"charges ${result['charges_total']:.3f}, simulator billed ${result['sim_billed']:.3f}",
        ),
        (
            "orphan files",
            len(orphans),
            f"{len(result['orphans'])} under MEDIA_ROOT, {len(result['temp_downloads'])} temp "
            f"downloads; {len(result['missing'])} rows without their file"
            + ("" if swept else "; (no sweep seen after the end)"),
        ),
    ]
    print("Summary (each count must be 0):")
    for label, count, detail in rows:
        print(f"  {label:<22} {count:>4}  {'ok' if count == 0 else 'NOT 0'}   {detail}")
    print(f"  {'wall time':<22} {wall:7.1f} s (final wait {final_wait:.1f} s)")
    for g in lost[:10]:
        print(f"    lost: generation {g.pk} {g.status}: {g.error_message[:160]}")
    for prompt in result["dup_prompts"][:10]:
        print(f"    duplicated: {prompt}")
    for line in ledger[:10]:
        print(f"    ledger: {line}")
    for name in (result["orphans"] + result["temp_downloads"])[:10]:
        print(f"    orphan: {name}")
    if result["temp_downloads"]:
        from generations.services.saving import STALE_DOWNLOAD_SECONDS

        print(
            f"    (the sweeper deletes temporary downloads once they are "
            f"{STALE_DOWNLOAD_SECONDS / 60:g} min old: generations/services/saving.py)"
        )
    for pk, status, n in result["pending_left"][:10]:
        print(f"    pending_files left: generation {pk} ({status}) {n} names")
    not_zero = [f"{label} {count}" for label, count, _ in rows if count]
    if bench.unexpected_exits:
        not_zero.append(f"processes that exited on their own {bench.unexpected_exits}")
    print()
    print("Result: " + ("all four counts 0" if not not_zero else "NOT 0: " + ", ".join(not_zero)))
    broken = len(not_zero)
    return 0 if broken == 0 else 1


def main() -> int:
    args = parse_args()
    if not shutil.which("redis-server"):
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-faults-"))
    logs = tmp / "logs"
    logs.mkdir()
    db_name = f"darkroom_bench_faults_{os.getpid()}"
    simulator = proxy = redis = None
    procs: dict[str, Managed] = {}
    created_db = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sim_log = logs / "simulator.log"
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
            stderr=open(sim_log, "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        sim_url = wait_for_log(simulator, sim_log, r"listening on (http://\S+)", 30).group(1)
        sys.path.insert(0, str(ROOT))
        from tests.netfault import ToggleProxy

        proxy = ToggleProxy(int(sim_url.rsplit(":", 1)[1])).up()
        redis = RedisServer(tmp / "redis")
        redis.start()

        env = clean_env()
        args.origin = {}
        for name, flag in (
            ("DARKROOM_SWEEP_INTERVAL", args.sweep_interval),
            ("DARKROOM_STALE_AFTER", args.stale_after),
        ):
            if flag is not None:
                env[name], args.origin[name] = str(flag), "from the flag"
            else:
                args.origin[name] = "from the environment" if env.get(name) else "default"
        psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{db_name}"')
        created_db = True
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db_name}",
            REDIS_URL=redis.url,
            DARKROOM_VAR_DIR=str(tmp / "var"),
            MEDIA_ROOT=str(tmp / "media"),
            WAVESPEED_BASE_URL=proxy.url,
            DEBUG="0",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=180,
        )
        if migrate.returncode:
            raise RuntimeError(f"migrate failed:\n{migrate.stderr.decode(errors='replace')}")

        celery = [*venv_bin("celery"), "-A", "config"]
        tag = f"bench-faults-{os.getpid()}"
        procs["worker"] = Managed(
            "worker",
            [
                *celery,
                "worker",
                "--queues",
                "celery",
                "--concurrency",
                str(args.concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{tag}-worker@%h",
            ],
            env,
            logs,
            " ready.",
        )
        procs["submitter"] = Managed(
            "submitter",
            [
                *celery,
                "worker",
                "--queues",
                "submit",
                "--pool",
                "threads",
                "--concurrency",
                str(args.submit_concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{tag}-submitter@%h",
            ],
            env,
            logs,
            " ready.",
        )
        procs["images"] = Managed(
            "images",
            [
                *celery,
                "worker",
                "--queues",
                "images",
                "--concurrency",
                str(args.image_concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{tag}-images@%h",
            ],
            env,
            logs,
            " ready.",
        )
        procs["thumbnails"] = Managed(
            "thumbnails",
            [
                "nice",
                "-n",
                "10",
                *celery,
                "worker",
                "--queues",
                "thumbnails",
                "--concurrency",
                str(args.image_concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{tag}-thumbnails@%h",
            ],
            env,
            logs,
            " ready.",
        )
        procs["beat"] = Managed(
            "beat",
            [
                *celery,
                "beat",
                "--schedule",
                str(tmp / "beat-schedule"),
                "--loglevel",
                "INFO",
            ],
            env,
            logs,
            "beat: Starting",
        )
        for managed in procs.values():
            managed.start()

        os.environ.clear()
        os.environ.update(env, LOG_LEVEL="WARNING")  # the bench's own Django: warnings only
        import django

        django.setup()
        # The bench's own Django logs (a publish that fails while Redis is down) go to a file.
        handler = logging.FileHandler(tmp / "bench-django.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().handlers = [handler]

        bench = Bench(args, sim_url, proxy, redis, procs)
        print(
            f"faults bench: {args.count} generations in 5 waves, logs in {logs}"
            + (" (kept)" if args.keep else ""),
            flush=True,
        )
        bench.run()
        final_ok, final_wait = bench.final_wait()
        from django.conf import settings

        swept = bench.wait_for_a_sweep(2 * settings.SWEEP_INTERVAL_SECONDS + 15)
        result = check(bench)
        if args.keep:
            dump_faults(bench, tmp / "faults.json")
        return report(bench, result, final_ok, final_wait, swept)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for managed in procs.values():
            with contextlib.suppress(Exception):
                managed.stop()
        if proxy is not None:
            proxy.down()
        if redis is not None:
            redis.stop()
        stop(simulator, grace=5)
        if created_db:
            try:
                psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except Exception as exc:
                print(f"warning: could not drop {db_name}: {exc}", file=sys.stderr)
        if args.keep:
            print(f"logs and media kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
