"""Shared fixtures: people, a running WaveSpeed simulator, and a record of queued tasks.

Unit tests drive the pipeline step by step through `pipeline` (tasks are recorded instead of
sent to a broker, then run in order); the end-to-end tests in tests/e2e use a real broker and a
real Celery worker process instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.server import RunningSimulator, SimulatorConfig, start_in_thread

REQUIRE_SERVICES = os.environ.get("DARKROOM_REQUIRE_SERVICES") == "1"


def pytest_configure(config: pytest.Config) -> None:
    """In CI the suite must run on the real services: refuse to fall back to the embedded ones."""
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"CI needs PostgreSQL (DATABASE_URL), not {engine}")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        raise pytest.UsageError(f"CI needs Redis as the broker, not {settings.CELERY_BROKER_URL}")


# The slowest tests first (each takes 15 s to over a minute: workers, servers, browsers, walks
# of every page): pytest-xdist hands tests out in collection order, so under `make test` they
# start at once, spread over the processes, instead of one of them starting last.
SLOW_FIRST = (
    "tests/e2e/",
    "tests/examples/",
    "tests/browser/test_every_page.py",
    "tests/test_hostile_query_strings.py",
    "tests/test_make_run.py",
    "tests/browser/",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # an xdist process collects what it is given
        return

    def rank(item: pytest.Item) -> int:
        return next(
            (i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)),
            len(SLOW_FIRST),
        )

    items.sort(key=rank)


# Fast but realistic: a prediction waits a little in `created`, then works for 0.3 s.
FAST = {"latency": 0.3, "queue_delay": 0.05}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimulatorConfig(**FAST))
    yield running
    running.stop()


class Simulator:
    """Test-side handle on the simulator: its control endpoints, over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def reset(self) -> None:
        self.http.post("/_sim/reset").raise_for_status()
        self.configure(**FAST)

    def configure(self, **config: Any) -> None:
        self.http.post("/_sim/config", json=config).raise_for_status()

    def fault(self, kind: str, **options: Any) -> None:
        self.http.post("/_sim/faults", json={"kind": kind, **options}).raise_for_status()

    def requests(self, path_contains: str = "") -> list[dict[str, Any]]:
        log = self.http.get("/_sim/requests").raise_for_status().json()["data"]
        return [r for r in log if path_contains in r["path"]]

    def delete_prediction(self, prediction_id: str) -> None:
        """As a person would in WaveSpeed's dashboard: an unfinished one stops, uncharged."""
        self.http.post(
            "/api/v3/predictions/delete",
            json={"ids": [prediction_id]},
            headers={"Authorization": "Bearer test-key"},
        ).raise_for_status()

    def predictions(self) -> list[dict[str, Any]]:
        return self.http.get("/_sim/predictions").raise_for_status().json()["data"]

    def posts(self, path_contains: str) -> list[dict[str, Any]]:
        return [r for r in self.requests(path_contains) if r["method"] == "POST"]

    def submits(self) -> list[dict[str, Any]]:
        return self.posts("/api/v3/kwaivgi/kling-image-o3")


@pytest.fixture
def sim(simulator_server: RunningSimulator, settings) -> Iterator[Simulator]:
    handle = Simulator(simulator_server.base_url)
    handle.reset()
    settings.WAVESPEED_BASE_URL = simulator_server.base_url
    settings.WAVESPEED_API_KEY = "test-key"
    yield handle
    handle.http.close()


@dataclass
class QueuedTask:
    task: Any  # the Celery task, from whichever app queued it
    args: tuple[int, ...]
    countdown: float

    @property
    def name(self) -> str:
        return self.task.__name__


@dataclass
class Pipeline:
    """Tasks the services queued, run on demand in this process (no broker, no worker)."""

    queued: list[QueuedTask] = field(default_factory=list)
    ran: list[QueuedTask] = field(default_factory=list)

    def names(self) -> list[str]:
        return [task.name for task in self.queued]

    def run_next(self) -> QueuedTask:
        task = self.queued.pop(0)
        task.task.run(*task.args)
        self.ran.append(task)
        return task

    def run_until(
        self, done: Callable[[], bool], *, timeout: float = 15.0, tick: float = 0.05
    ) -> None:
        """Run queued tasks in order (ignoring countdowns, pausing a little before each poll of
        the simulator, a `follow_*` task, as it moves on by the clock) until `done()` or the
        timeout."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"Not done after {timeout} s; queued: {self.names()}")
            if not self.queued:
                raise AssertionError("Nothing is queued, and the pipeline is not done.")
            if self.queued[0].name.startswith("follow_"):
                time.sleep(tick)
            self.run_next()

    def make_thumbnails(self) -> int:
        """Run the queued thumbnail tasks (a save's second step); how many ran."""
        tasks = [task for task in self.queued if task.name == "make_image_renditions"]
        for task in tasks:
            self.queued.remove(task)
            task.task.run(*task.args)
            self.ran.append(task)
        return len(tasks)


@pytest.fixture
def pipeline(monkeypatch) -> Pipeline:
    from tests.processes import purge_every_queue
    from wavespeed import timing

    # The sweepers leave a late step alone while its queue holds messages (a backlog): start
    # from an empty broker, whatever earlier tests sent to it.
    purge_every_queue()

    recorder = Pipeline()

    def record(task, countdown: float, *args: int) -> None:
        recorder.queued.append(QueuedTask(task, args, countdown))

    def record_once(task, key: str, seconds: float) -> None:
        # Every call is recorded: skipping a kick while one is pending is the cache's part,
        # tested on its own (tests/wavespeed/test_batched_submits.py).
        recorder.queued.append(QueuedTask(task, (), 0))

    monkeypatch.setattr(timing, "after_commit", record)
    monkeypatch.setattr(timing, "after_commit_once", record_once)
    return recorder


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw-ada-123456")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("mallory", password="pw-mallory-123456")


@pytest.fixture
def staff(django_user_model):
    """Someone who runs the site: staff and superuser (the admin, the cost review)."""
    return django_user_model.objects.create_superuser(
        "root", "root@example.com", password="pw-root-123456"
    )


@pytest.fixture
def done_generation(user, sim, pipeline):
    """A generation of two images, run to the end through the simulator."""
    from generations import services
    from generations.models import Generation, Status
    from generations.services.submission import GenerationParams

    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="a quiet forest", num_images=2)
    )
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    assert pipeline.make_thumbnails() == 2
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    return generation


@pytest.fixture
def start_worker(transactional_db, sim, tmp_path):
    """Start real Celery worker processes (with the scheduler) against the real broker."""
    from tests.processes import WorkerProcess, purge_every_queue

    purge_every_queue()
    workers: list[WorkerProcess] = []

    def start(*, options: dict[str, Any] | None = None, **extra_env: str) -> WorkerProcess:
        """A worker with the scheduler on every queue; `options` (queues, beat, pool,
        concurrency) start one of the Procfile's workers instead (tests.processes.PROCFILE_LAYOUT
        has them all)."""
        worker = WorkerProcess(
            simulator_url=sim.base_url, log_dir=tmp_path, extra_env=extra_env, **(options or {})
        )
        workers.append(worker.start())
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(autouse=True)
def _published_prices(request) -> None:
    """Tests that flush the database (transactional ones) also flush the prices the migration
    loaded: load them again for every test that uses the database."""
    if request.node.get_closest_marker("django_db") is None and not {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from spend.models import Price
    from spend.published import KLING_ELEMENTS, PER_USE, SINCE, add_published_prices

    add_published_prices(Price)
    # Creating an element on Kling has no published price: staff set one, as here.
    Price.objects.get_or_create(
        model=KLING_ELEMENTS,
        resolution=PER_USE,
        valid_from=SINCE,
        defaults={"per_image": ELEMENT_PRICE},
    )


ELEMENT_PRICE = Decimal("0.050")


# --- The browser (Playwright driving Debian's Chromium) -----------------------------------------
# One session-wide browser for every test that asks for it, wherever the test lives: a second
# Playwright session in the same process fails ("Sync API inside the asyncio loop").
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("DARKROOM_REQUIRE_SERVICES") == "1":
            pytest.fail(
                f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
            )
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread from here on; the ORM calls the
    # tests make between browser steps are ordinary synchronous ones. Subprocesses that serve
    # (the worker, `check --deploy`) are started without this variable.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, user, password: str | None = None) -> None:
    """Log `user` in through the login form (the fixtures' passwords are pw-<name>-123456) and
    wait until it has left the login page."""
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password or f"pw-{user.username}-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


# --- A Redis of the test's own, and this process's Celery app pointed at it ---------------------
REDIS_SERVER = "redis-server"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway `redis-server` on its own port, that a test may stop and start again (never
    the shared Redis other tests and people use). It keeps nothing on disk: a restart loses
    every message, as a broker restart without persistence does."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - until it ends
        address = ["--port", str(self.port), "--bind", "127.0.0.1"]
        nothing_kept = ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            [REDIS_SERVER, *address, *nothing_kept],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path) -> Iterator[Callable[..., RedisServer]]:
    """`redis_server()` starts a Redis of this test's own; `redis_server(start=False)` only
    reserves a port for one (a broker that is down until the test starts it)."""
    if not shutil.which(REDIS_SERVER):
        if REQUIRE_SERVICES:
            pytest.fail(f"{REDIS_SERVER} is missing: install Redis (apt-get install redis-server)")
        pytest.skip(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    servers: list[RedisServer] = []

    def make(*, start: bool = True) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}")
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def celery_broker() -> Iterator[Callable[[str], None]]:
    """`celery_broker(url)` points this process's Celery app, through which the views queue
    tasks, at another broker until the end of the test."""
    from kombu import pools
    from kombu.utils.collections import eqhash

    from config.celery_app import app

    # The Django setting outranks `app.conf.broker_url` (Celery looks up the namespaced key
    # first), so the override sets the namespaced key.
    key = "CELERY_BROKER_URL"
    app.conf.broker_url  # noqa: B018 - loads the configuration: until then `changes` is a stand-in
    changes = app.conf.changes
    saved = changes.get(key)
    pointed = False

    def forget_pools() -> None:
        """Close the connections to the broker pointed at now and forget its pools: kombu keeps
        them process-wide, per URL, and the app keeps the ones it used last."""
        if pointed:
            connection = app.connection_for_write()
            for group in (pools.producers, pools.connections):
                pool = group.pop(eqhash(connection), None)
                if pool is not None:
                    pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    def use(url: str) -> None:
        nonlocal pointed
        forget_pools()
        changes[key] = url
        pointed = True
        assert app.conf.broker_write_url == url, "CELERY_BROKER_(WRITE_)URL is set in os.environ"

    yield use
    forget_pools()
    if saved is None:
        changes.pop(key, None)
    else:
        changes[key] = saved
