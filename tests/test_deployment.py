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
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("web", "worker", "scheduler")
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
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "WAVESPEED_API_KEY",
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
        "'HSTS': s.SECURE_HSTS_SECONDS, 'SSL_REDIRECT': s.SECURE_SSL_REDIRECT}))"
    )
    result = run_python(["-c", script], production_env(tmp_path, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


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
    assert {"postgres", "redis", "migrate", *APP_SERVICES} <= set(compose["services"])
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


def _media_mounts(service: dict[str, Any]) -> list[str]:
    """The container paths where `service` mounts the `media` volume."""
    targets = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            target = rest.split(":")[0]
        else:
            source, target = volume.get("source"), volume.get("target")
        if source == "media":
            targets.append(target)
    return targets


PUBLIC_PATHS = ("/app/staticfiles", "/app/static", "/usr/share/nginx", "/var/www", "/srv")


def test_media_is_shared_by_web_and_worker_and_never_public(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "media" in compose["volumes"]
    for name in ("web", "worker"):
        assert _media_mounts(services[name]) == [services[name]["environment"]["MEDIA_ROOT"]]
    for name, service in services.items():
        environment = service.get("environment") or {}
        assert "MEDIA_URL" not in environment, name
        for target in _media_mounts(service):
            # Only the Django image, which checks rights before streaming a file, reads media.
            assert "build" in service, f"{name} mounts media but is not the Darkroom image"
            assert target == environment.get("MEDIA_ROOT"), name
            assert not target.startswith(PUBLIC_PATHS), f"{name} mounts media at {target}"


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
