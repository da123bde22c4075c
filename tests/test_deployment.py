"""The deployment: production settings, the Dockerfile, docker-compose.yml and the web image's
own scripts (docker/), checked without a Docker engine.

Production settings are loaded in subprocesses: they read the environment at import and may
refuse to start, which must not touch this test process's Django.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
PROCFILE = ROOT / "Procfile"
MAKEFILE = ROOT / "Makefile"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("web", "worker", "submitter", "scheduler")
HOST = "darkroom.example.com"
# Long and random-looking enough for security.W009; never used outside these subprocesses.
TEST_SECRET_KEY = "test-only-" + "k7Qz9xPw2mLr8vTn4bYc6hJd3sFg5aZe1uIo0pWq" * 2

# Variables the settings read: cleared so the developer's or CI's own values cannot leak in.
_SETTINGS_VARIABLES = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "WAVESPEED_API_KEY",
    "DARKROOM_MEDIA_ACCEL_PREFIX",
)


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SETTINGS_VARIABLES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=TEST_SECRET_KEY,
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        DARKROOM_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "staticfiles"),
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_settings(tmp_path: Path, **overrides: str | None) -> dict[str, Any]:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'MIDDLEWARE': s.MIDDLEWARE, "
        "'STATICFILES_BACKEND': s.STORAGES['staticfiles']['BACKEND'], "
        "'SILENCED': s.SILENCED_SYSTEM_CHECKS, 'MEDIA_URL': s.MEDIA_URL, "
        "'HSTS': s.SECURE_HSTS_SECONDS, 'SSL_REDIRECT': s.SECURE_SSL_REDIRECT, "
        "'ACCEL': s.MEDIA_ACCEL_REDIRECT_PREFIX, 'FILE_MODE': s.FILE_UPLOAD_PERMISSIONS, "
        "'DIR_MODE': s.FILE_UPLOAD_DIRECTORY_PERMISSIONS, "
        "'IMG_SRC': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    result = run_python(["-c", script], production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    # The last line: production logs to stdout, and apps may log while Django sets up.
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Production settings ----------------------------------------------------------------------


def test_check_deploy_reports_no_issues(tmp_path: Path) -> None:
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_only_the_hsts_preload_check_is_silenced(tmp_path: Path) -> None:
    assert production_settings(tmp_path)["SILENCED"] == ["security.W021"]
    assert production_settings(tmp_path, SECURE_HSTS_PRELOAD="true")["SILENCED"] == []


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "dev-only-insecure-key-set-SECRET_KEY-in-production", "change-me"],
    ids=["unset", "empty", "base-default", "env-example"],
)
def test_it_refuses_to_start_without_a_real_secret_key(tmp_path: Path, secret_key) -> None:
    result = run_python(["manage.py", "check"], production_env(tmp_path, SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("allowed_hosts", [None, "", " , "])
def test_it_refuses_to_start_without_allowed_hosts(tmp_path: Path, allowed_hosts) -> None:
    env = production_env(tmp_path, ALLOWED_HOSTS=allowed_hosts)
    result = run_python(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize("debug_variable", ["true", "false", None])
def test_debug_is_off_and_whitenoise_follows_security_middleware(
    tmp_path: Path, debug_variable
) -> None:
    # base.py decides about WhiteNoise from the DEBUG variable; production must not depend on it.
    loaded = production_settings(tmp_path, DEBUG=debug_variable)
    assert loaded["DEBUG"] is False
    middleware = loaded["MIDDLEWARE"]
    assert middleware.count("whitenoise.middleware.WhiteNoiseMiddleware") == 1
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    assert middleware[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    # WhiteNoise answers static files before the signed-in no-store rule sees them: they keep
    # their far-future caching whoever asks.
    assert security + 1 < middleware.index("config.middleware.SignedInNoStoreMiddleware")
    assert loaded["STATICFILES_BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_security_switches_read_the_environment(tmp_path: Path) -> None:
    defaults = production_settings(tmp_path, SECURE_HSTS_SECONDS="")
    assert defaults["SSL_REDIRECT"] is True
    assert defaults["HSTS"] == 30 * 24 * 60 * 60
    tuned = production_settings(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="60")
    assert tuned["SSL_REDIRECT"] is False
    assert tuned["HSTS"] == 60


def test_media_is_streamed_unless_an_accel_prefix_is_given(tmp_path: Path) -> None:
    assert production_settings(tmp_path)["ACCEL"] == ""
    loaded = production_settings(tmp_path, DARKROOM_MEDIA_ACCEL_PREFIX="/_protected_media/")
    assert loaded["ACCEL"] == "/_protected_media/"
    # nginx, another user than the app, reads the files it is handed.
    assert (loaded["FILE_MODE"], loaded["DIR_MODE"]) == (0o644, 0o755)


def test_img_src_allows_the_s3_origin_when_media_is_in_s3(tmp_path: Path) -> None:
    assert production_settings(tmp_path)["IMG_SRC"] == ["'self'", "data:", "blob:"]
    loaded = production_settings(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="darkroom-media",
        AWS_S3_ENDPOINT_URL="https://s3.example.test/",
        AWS_S3_REGION_NAME="eu-west-1",
    )
    assert loaded["IMG_SRC"] == ["'self'", "data:", "blob:", "https://s3.example.test"]


@pytest.mark.parametrize("prefix", ["_protected_media/", "/_protected_media", "http://x/"])
def test_it_refuses_an_accel_prefix_that_is_not_a_location_path(tmp_path: Path, prefix) -> None:
    env = production_env(tmp_path, DARKROOM_MEDIA_ACCEL_PREFIX=prefix)
    result = run_python(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DARKROOM_MEDIA_ACCEL_PREFIX" in result.stderr


# --- The image's build step and web process ---------------------------------------------------


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Dockerfile's collectstatic step produces, with its build-time settings."""
    tmp_path = tmp_path_factory.mktemp("collected")
    env = production_env(tmp_path)
    result = run_python(["manage.py", "collectstatic", "--noinput"], env)
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_collectstatic_hashes_static_files(collected: Path) -> None:
    manifest = json.loads((collected / "staticfiles" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/darkroom.css"]
    assert re.fullmatch(r"css/darkroom\.[0-9a-f]{12}\.css", hashed)
    assert (collected / "staticfiles" / hashed).is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": HOST, **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def gunicorn_port(collected: Path) -> Iterator[int]:
    """The image's default command (gunicorn with docker/gunicorn.conf.py) on a local port."""
    port = _free_port()
    env = production_env(collected, PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"gunicorn did not start: {process.communicate()[1]}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_web_redirects_plain_http_to_https(gunicorn_port: int) -> None:
    response = _get(gunicorn_port, "/login/")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/login/"


def test_web_serves_pages_with_security_headers(gunicorn_port: int) -> None:
    response = _get(gunicorn_port, "/login/", **{"X-Forwarded-Proto": "https"})
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == ("max-age=2592000; includeSubDomains")
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert "Secure" in response.getheader("Set-Cookie", "")
    assert "script-src 'self' 'nonce-" in response.getheader("Content-Security-Policy", "")
    assert "camera=()" in response.getheader("Permissions-Policy", "")


def test_web_serves_hashed_static_files_and_no_media(gunicorn_port: int, collected: Path) -> None:
    manifest = json.loads((collected / "staticfiles" / "staticfiles.json").read_text())
    https = {"X-Forwarded-Proto": "https"}
    css = _get(gunicorn_port, "/static/" + manifest["paths"]["css/darkroom.css"], **https)
    assert css.status == 200
    assert "immutable" in css.getheader("Cache-Control", "")
    media = collected / "var" / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "secret.png").write_bytes(b"not for the public")
    for path in ("/media/secret.png", "/secret.png", "/static/secret.png"):
        assert _get(gunicorn_port, path, **https).status in {302, 404}, path


def test_the_healthcheck_passes_against_a_running_web(gunicorn_port: int, tmp_path) -> None:
    env = production_env(tmp_path, PORT=str(gunicorn_port))
    assert run_python(["docker/healthcheck.py"], env).returncode == 0
    # A wrong port must fail it: the check is not a tautology.
    env["PORT"] = str(_free_port())
    result = run_python(["docker/healthcheck.py"], env)
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


# --- Dockerfile and .dockerignore -------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [value for name, value in _dockerfile_instructions() if name == "USER"]
    assert users, "the Dockerfile never switches away from root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_collects_static_files_at_build_time() -> None:
    runs = " ".join(value for name, value in _dockerfile_instructions() if name == "RUN")
    assert "collectstatic" in runs
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in runs


def test_no_secret_is_baked_into_the_image() -> None:
    for name, value in _dockerfile_instructions():
        if name in {"ENV", "ARG", "LABEL"}:
            assert "WAVESPEED" not in value and "SECRET_KEY" not in value, (name, value)
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert ".env" in ignored  # `COPY . .` would otherwise copy the developer's keys


# --- docker-compose.yml -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docker-compose.yml")
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_has_every_service(compose: dict[str, Any]) -> None:
    assert {"postgres", "redis", "migrate", "nginx", *APP_SERVICES} <= set(compose["services"])
    assert compose["services"]["postgres"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_web_worker_and_scheduler_share_one_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    builds = {json.dumps(services[name].get("build"), sort_keys=True) for name in APP_SERVICES}
    images = {services[name].get("image") for name in APP_SERVICES}
    assert len(builds) == 1 and json.loads(builds.pop()) in (".", {"context": "."})
    assert len(images) == 1 and images.pop()
    commands = {name: " ".join(services[name]["command"]) for name in APP_SERVICES}
    assert commands["web"].startswith("gunicorn") and "config.wsgi" in commands["web"]
    assert commands["worker"].startswith("celery -A config worker")
    assert commands["scheduler"].startswith("celery -A config beat")
    assert "--schedule /tmp/" in commands["scheduler"]


def test_the_worker_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_app_services_use_production_settings_and_wait_for_migrations(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in (*APP_SERVICES, "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), name
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name


@dataclass
class Mount:
    target: str
    read_only: bool


def _media_volumes(service: dict[str, Any]) -> list[Mount]:
    """Where `service` mounts the `media` volume."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            target, _, mode = rest.partition(":")
            read_only = "ro" in mode.split(",")
        else:
            source, target = volume.get("source"), volume.get("target")
            read_only = bool(volume.get("read_only"))
        if source == "media":
            mounts.append(Mount(target, read_only))
    return mounts


def _media_mounts(service: dict[str, Any]) -> list[str]:
    """The container paths where `service` mounts the `media` volume."""
    return [mount.target for mount in _media_volumes(service)]


PUBLIC_PATHS = (
    "/app/staticfiles",
    "/app/static",
    "/usr/share/nginx",
    "/etc/nginx",
    "/var/www",
    "/srv",
)


def test_media_is_shared_by_web_and_worker_and_never_public(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "media" in compose["volumes"]
    for name in ("web", "worker", "submitter", "images", "thumbnails"):
        assert _media_mounts(services[name]) == [services[name]["environment"]["MEDIA_ROOT"]]
    for name, service in services.items():
        environment = service.get("environment") or {}
        assert "MEDIA_URL" not in environment, name
        for target in _media_mounts(service):
            assert not target.startswith(PUBLIC_PATHS), f"{name} mounts media at {target}"
            if name == "nginx":
                continue  # read-only, and only for an `internal` location: checked below
            # Otherwise only the Django image, which checks rights before answering, reads media.
            assert "build" in service, f"{name} mounts media but is not the Darkroom image"
            assert target == environment.get("MEDIA_ROOT"), name


# --- Celery processes: every queue consumed, and a worker that dies comes back -----------------


def celery_queues() -> set[str]:
    """Every queue a task is sent to (read from the settings this test process runs with)."""
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return {settings.CELERY_TASK_DEFAULT_QUEUE, *routed}


def option(command: list[str], name: str) -> str:
    assert name in command, f"{name} missing from {command}"
    return command[command.index(name) + 1]


def consumed_queues(command: list[str]) -> set[str]:
    """The queues a `celery worker` command consumes (without --queues, it takes them all)."""
    return set(option(command, "--queues").split(","))


def procfile() -> dict[str, list[str]]:
    """The Procfile as honcho reads it: `name: command` lines; anything else is ignored."""
    entries = re.findall(r"^([A-Za-z0-9_-]+):\s*(.+)$", PROCFILE.read_text(), re.MULTILINE)
    return {name: shlex.split(command) for name, command in entries}


def make_run_processes() -> set[str]:
    """The Procfile entries `make run` always starts: it asks `manage.py describe_provider
    --processes` (wavespeed/provider.py), which adds the simulator when the app talks to it."""
    from wavespeed.provider import RUN_PROCESSES

    assert "manage.py describe_provider --processes" in MAKEFILE.read_text()
    return set(RUN_PROCESSES)


def test_the_procfile_restarts_celery_processes_that_die() -> None:
    processes = procfile()
    for name in ("worker", "submitter", "images", "thumbnails", "beat"):
        supervisor, celery = processes[name][:4], processes[name][4:]
        assert supervisor == [".venv/bin/python", "-m", "config.keepalive", "--"], name
        if name == "thumbnails":
            assert celery[:3] == ["nice", "-n", "19"], name
            celery = celery[3:]
        assert celery[:3] == [".venv/bin/celery", "-A", "config"], name
    worker, submitter, images = (processes[name][4:] for name in ("worker", "submitter", "images"))
    thumbnails = processes["thumbnails"][7:]
    assert consumed_queues(worker) == {"celery"}
    assert consumed_queues(submitter) == {"submit"}
    assert option(submitter, "--pool") == "threads"
    assert option(submitter, "--hostname") == "submitter@%h"  # not the worker's celery@%h
    assert_images_worker(images, concurrency="${IMAGE_CONCURRENCY:-2}")
    assert_thumbnails_worker(thumbnails, concurrency="${THUMBNAIL_CONCURRENCY:-2}")
    every = (worker, submitter, images, thumbnails)
    assert set.union(*map(consumed_queues, every)) == celery_queues()
    assert make_run_processes() == {"web", "worker", "submitter", "images", "thumbnails", "beat"}
    assert set(processes) == make_run_processes() | {"simulator"}


def assert_images_worker(command: list[str], *, concurrency: str) -> None:
    """Saving outputs is CPU-bound: processes of their own (prefork, Celery's default pool), as
    many as IMAGE_CONCURRENCY says, under a name of their own."""
    assert command[:4] == [command[0], "-A", "config", "worker"]
    assert consumed_queues(command) == {"images"}
    assert "--pool" not in command or option(command, "--pool") == "prefork"
    assert option(command, "--concurrency") == concurrency
    assert option(command, "--hostname") == "images@%h"


def assert_thumbnails_worker(command: list[str], *, concurrency: str) -> None:
    """Thumbnails are CPU-bound too, made after the originals are shown: processes of their
    own (started under `nice -n 19`, checked by the callers), under a name of their own."""
    assert command[:4] == [command[0], "-A", "config", "worker"]
    assert consumed_queues(command) == {"thumbnails"}
    assert "--pool" not in command or option(command, "--pool") == "prefork"
    assert option(command, "--concurrency") == concurrency
    assert option(command, "--hostname") == "thumbnails@%h"


def test_saves_go_to_the_images_queue_and_nothing_else_does() -> None:
    from django.conf import settings

    def routed_to(queue: str) -> list[str]:
        return [
            task for task, route in settings.CELERY_TASK_ROUTES.items() if route["queue"] == queue
        ]

    assert routed_to("images") == ["generations.tasks.save_generation_outputs"]
    assert routed_to("thumbnails") == ["generations.tasks.make_image_renditions"]


def test_compose_runs_a_submitter_and_an_images_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    worker, submitter = services["worker"]["command"], services["submitter"]["command"]
    images = services["images"]["command"]
    nice, thumbnails = services["thumbnails"]["command"][:3], services["thumbnails"]["command"][3:]
    assert nice == ["nice", "-n", "19"]
    assert_thumbnails_worker(thumbnails, concurrency="${THUMBNAIL_CONCURRENCY:-2}")
    assert submitter[:4] == ["celery", "-A", "config", "worker"]
    assert consumed_queues(worker) == {"celery"}
    assert consumed_queues(submitter) == {"submit"}
    assert option(submitter, "--pool") == "threads"
    assert option(submitter, "--hostname") == "submitter@%h"
    assert_images_worker(images, concurrency="${IMAGE_CONCURRENCY:-2}")
    every = (worker, submitter, images, thumbnails)
    assert set.union(*map(consumed_queues, every)) == celery_queues()
    # Health checks ping each by the name it runs with ($$: compose's escape for $).
    assert "--destination submitter@$$HOSTNAME" in services["submitter"]["healthcheck"]["test"][1]
    assert "--destination images@$$HOSTNAME" in services["images"]["healthcheck"]["test"][1]
    thumbnails_check = services["thumbnails"]["healthcheck"]["test"][1]
    assert "--destination thumbnails@$$HOSTNAME" in thumbnails_check
    # compose starts a process that died again, as config.keepalive does under honcho.
    for name in ("worker", "submitter", "images", "thumbnails", "scheduler"):
        assert services[name]["restart"] == "unless-stopped", name


# --- nginx (docker/nginx.conf) ----------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None  # None for a simple directive (`name args;`)


def _parse_nginx(tokens: Iterator[str]) -> list[Directive]:
    directives: list[Directive] = []
    words: list[str] = []
    for token in tokens:
        if token in {";", "{"}:
            assert words, f"an empty directive before {token!r}"
            block = _parse_nginx(tokens) if token == "{" else None
            directives.append(Directive(words[0], words[1:], block))
            words = []
        elif token == "}":
            return directives
        else:
            words.append(token)
    assert not words, f"unterminated directive {words}"
    return directives


def nginx_config(text: str) -> list[Directive]:
    """An nginx configuration as a tree of directives: enough of the grammar for our file."""
    tokens = re.findall(r"#[^\n]*|\"[^\"]*\"|'[^']*'|[{};]|[^\s{};\"'#]+", text)
    return _parse_nginx(iter([t.strip("\"'") for t in tokens if not t.startswith("#")]))


def _walk(
    directives: list[Directive], location: Directive | None = None
) -> Iterator[tuple[Directive, Directive | None]]:
    """Every directive, with the innermost `location` around it (None outside any)."""
    for directive in directives:
        yield directive, location
        if directive.block is not None:
            inner = directive if directive.name == "location" else location
            yield from _walk(directive.block, inner)


def _location(config: list[Directive], *args: str) -> Directive:
    found = [d for d, _ in _walk(config) if d.name == "location" and d.args == list(args)]
    assert len(found) == 1, f"expected one `location {' '.join(args)}`, found {len(found)}"
    return found[0]


def _values(block: list[Directive] | None, name: str) -> list[list[str]]:
    return [d.args for d in block or [] if d.name == name]


@pytest.fixture(scope="module")
def nginx() -> list[Directive]:
    return nginx_config(NGINX_CONF.read_text())


def test_the_nginx_parser_reads_blocks_quotes_and_comments() -> None:
    config = nginx_config(
        'http { # a comment { ;\n map $a $b { default "x y"; "" z; }\n'
        "server { location /p/ { internal; alias /m/; } } }"
    )
    (http,) = config
    assert [d.name for d in http.block] == ["map", "server"]
    assert http.block[0].block[0].args == ["x y"]
    assert http.block[0].block[1].name == ""
    located = [(d.name, loc.args if loc else None) for d, loc in _walk(config)]
    assert ("alias", ["/p/"]) in located and ("map", None) in located


def test_nginx_fronts_web_which_publishes_no_port(
    compose: dict[str, Any], nginx: list[Directive]
) -> None:
    services = compose["services"]
    assert services["nginx"]["image"].startswith("nginx:")
    # The only published port, on 127.0.0.1 unless DARKROOM_BIND says otherwise.
    assert {name for name, service in services.items() if service.get("ports")} == {"nginx"}
    assert services["nginx"]["ports"] == ["${DARKROOM_BIND:-127.0.0.1}:${DARKROOM_PORT:-8080}:80"]
    # The file these tests read is the one nginx runs with.
    assert "./docker/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    server = next(d for d, _ in _walk(nginx) if d.name == "server")
    assert ["80", "default_server"] in _values(server.block, "listen")
    assert _values(server.block, "client_max_body_size") == [["25m"]]
    root = _location(nginx, "/")
    (target,) = _values(root.block, "proxy_pass")
    variables = {args[0]: args[1] for args in _values(root.block, "set")}
    assert variables.get(target[0], target[0]) == "http://web:8000"
    headers = {args[0]: args[1] for args in _values(root.block, "proxy_set_header")}
    assert headers["Host"] == "$http_host"
    assert headers["X-Forwarded-Proto"] == "$forwarded_proto"
    # gunicorn's timeout (60 s) ends a slow request before nginx gives up on it.
    assert int(_values(root.block, "proxy_read_timeout")[0][0].rstrip("s")) > 60


def test_nginx_reads_media_only_in_an_internal_location(
    compose: dict[str, Any], nginx: list[Directive]
) -> None:
    services = compose["services"]
    (mount,) = _media_volumes(services["nginx"])
    assert mount.read_only, "nginx must not be able to change media"
    media_dir = mount.target.rstrip("/")
    prefix = services["web"]["environment"]["DARKROOM_MEDIA_ACCEL_PREFIX"]
    serving = []
    for directive, location in _walk(nginx):
        if directive.name not in {"root", "alias"}:
            continue
        path = directive.args[0].rstrip("/")
        if not (
            path == media_dir or media_dir.startswith(path + "/") or path.startswith(media_dir)
        ):
            continue  # a folder that does not hold the media
        where = f"`location {' '.join(location.args)}`" if location else "outside any location"
        assert directive.name == "alias" and location is not None, f"media served {where}"
        names = [d.name for d in location.block]
        assert "internal" in names, f"{where} serves media to anyone"
        assert "location" not in names, f"{where} nests locations, which are not internal"
        # The path Django names in X-Accel-Redirect; both end with "/" (no alias traversal).
        assert location.args == [prefix] and prefix.endswith("/"), where
        assert directive.args == [media_dir + "/"], where
        assert not _values(location.block, "autoindex") or (
            _values(location.block, "autoindex") == [["off"]]
        )
        # nginx drops the upstream's other headers, nosniff among them: set again.
        assert ["X-Content-Type-Options", "nosniff", "always"] in _values(
            location.block, "add_header"
        )
        serving.append(location.args[0])
    assert serving == [prefix]


def test_the_wavespeed_key_comes_from_the_environment_at_run_time(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        build = service.get("build")
        if isinstance(build, dict):
            assert "WAVESPEED" not in json.dumps(build.get("args", {})), name
        value = (service.get("environment") or {}).get("WAVESPEED_API_KEY")
        if value is not None:
            assert re.fullmatch(r"\$\{WAVESPEED_API_KEY(:?-)?\}", value), (name, value)


# --- A real compose validator, when one is installed ------------------------------------------


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        message = "neither `docker compose` nor `docker-compose` is installed"
        if os.environ.get("DARKROOM_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = {
        **os.environ,
        "SECRET_KEY": TEST_SECRET_KEY,
        "POSTGRES_PASSWORD": "test-password",
        "ALLOWED_HOSTS": HOST,
    }
    args = [*command, "--file", str(COMPOSE_FILE), "--profile", "simulator", "config", "-q"]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # A required secret that is missing stops compose before anything starts.
    del env["SECRET_KEY"]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stdout + result.stderr
