"""Finding 5 of issue 12: `make run` on a developer's machine.

The demo login (an admin with a published password) is made once, only on the embedded
database, and never reset; a public HOST with DEBUG on is refused unless asked for;
WAVESPEED_SIMULATOR_URL moves the simulator; a `.env` copied from `.env.example` changes
nothing; the start-up line names the URL the app really talks to.

The Makefile's own steps are run here (`make prepare`, what `make run` does before it starts
the processes, and once `make run` itself) in a scratch var/ folder, with an environment
cleared of the developer's or CI's settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from honcho.environ import parse as parse_env_file

from generations.management.commands.prepare_run import check_address, is_loopback
from tests.processes import wait_for
from wavespeed.provider import current_provider, run_processes

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
DEMO = ("demo", "darkroom-demo")

# What the settings, the Makefile or honcho read: cleared so nothing of the developer's or CI's
# environment (CI exports DATABASE_URL and REDIS_URL) leaks into the Makefile's steps.
_CLEARED = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "MEDIA_ROOT",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "HOST",
    "PORT",
    "ALLOW_PUBLIC_DEBUG",
    "DARKROOM_DEMO_PASSWORD",
    "WAVESPEED_API_KEY",
    "WAVESPEED_BASE_URL",
    "WAVESPEED_SIMULATOR_URL",
    "DARKROOM_PUBLIC_URL",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
)


def clean_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["DARKROOM_VAR_DIR"] = str(var_dir)
    env.update(overrides)
    return env


def make(target: str, env: dict[str, str], *variables: str, timeout: float = 120):
    """`make TARGET` as a developer types it, with this test run's virtualenv (not reinstalled)
    and `env_file` as honcho's .env."""
    command = [
        "make",
        "--no-print-directory",
        f"--assume-old={VENV}/.installed-stamp",
        target,
        f"VENV={VENV}",
        *variables,
    ]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def django(env: dict[str, str], code: str) -> str:
    """Run `code` with Django set up as `make run` sets it up; its last line of output."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return (result.stdout.strip().splitlines() or [""])[-1]


def demo_login_works(env: dict[str, str], password: str) -> str:
    return django(
        env,
        "from django.contrib.auth.models import User; "
        f"u = User.objects.filter(username={DEMO[0]!r}).first(); "
        f"print('absent' if u is None else u.check_password({password!r}))",
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A fresh clone's state: no var/ folder yet, and no .env."""
    return tmp_path


# --- The demo login ---------------------------------------------------------------------------


def test_finding5_make_run_twice_does_not_reset_the_demo_password(scratch: Path) -> None:
    env = clean_env(scratch / "var")
    env_file = f"ENV_FILE={scratch / '.env'}"
    first = make("prepare", env, env_file)
    assert first.returncode == 0, first.stderr
    assert "Demo login (created): username 'demo', password 'darkroom-demo'" in first.stdout

    # The person changes the published password, as the start-up line tells them to.
    changed = django(
        env,
        "from django.contrib.auth.models import User; u = User.objects.get(username='demo'); "
        f"print(u.check_password({DEMO[1]!r})); u.set_password('mine-now-7f3a'); u.save()",
    )
    assert changed == "True"
    second = make("prepare", env, env_file)
    assert second.returncode == 0, second.stderr
    assert "password was changed; left as it is" in second.stdout
    assert "darkroom-demo" not in second.stdout
    assert demo_login_works(env, "mine-now-7f3a") == "True"


def test_finding5_no_demo_login_when_database_url_is_set(scratch: Path) -> None:
    # A real database, named by DATABASE_URL (SQLite here, so the test needs no server).
    database = scratch / "real.sqlite3"
    env = clean_env(scratch / "var", DATABASE_URL=f"sqlite:///{database}")
    result = make("prepare", env, f"ENV_FILE={scratch / '.env'}")
    assert result.returncode == 0, result.stderr
    assert "No demo login: DATABASE_URL names the database" in result.stdout
    assert "createsuperuser" in result.stdout
    assert "darkroom-demo" not in result.stdout
    assert database.exists()  # migrated: the step ran on that database
    assert demo_login_works(env, DEMO[1]) == "absent"
    assert not (scratch / "var" / "darkroom.sqlite3").exists()


@pytest.mark.django_db
def test_finding5_the_demo_login_is_made_only_on_a_new_embedded_database(
    settings, django_user_model, capsys
) -> None:
    settings.EMBEDDED_DATABASE = False
    call_command("ensure_demo_user")
    assert "createsuperuser" in capsys.readouterr().out
    assert not django_user_model.objects.exists()

    settings.EMBEDDED_DATABASE = True
    django_user_model.objects.create_user("someone", password="x-long-password-1")
    call_command("ensure_demo_user")
    assert "already has accounts" in capsys.readouterr().out
    assert not django_user_model.objects.filter(username="demo").exists()

    django_user_model.objects.all().delete()
    call_command("ensure_demo_user")
    demo = django_user_model.objects.get(username="demo")
    assert demo.is_superuser and demo.is_staff and demo.check_password(DEMO[1])


@pytest.mark.django_db
def test_finding5_an_existing_demo_login_is_left_exactly_as_it_is(
    settings, django_user_model, capsys
) -> None:
    settings.EMBEDDED_DATABASE = True
    demo = django_user_model.objects.create_user("demo", password=DEMO[1], is_active=False)
    stored = demo.password
    call_command("ensure_demo_user")
    demo.refresh_from_db()
    # Not promoted, not reactivated, not rehashed.
    assert (demo.password, demo.is_active, demo.is_superuser) == (stored, False, False)
    assert "still the published one" in capsys.readouterr().out


# --- A public address with DEBUG on -----------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "localhost", "::1", "[::1]"])
def test_loopback_addresses_are_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.0.2.10", "2001:db8::1"])
def test_other_addresses_are_not(host: str) -> None:
    assert not is_loopback(host)


def test_finding5_a_public_host_with_debug_on_is_refused(scratch: Path) -> None:
    env = clean_env(scratch / "var")
    env_file = f"ENV_FILE={scratch / '.env'}"
    refused = make("prepare", env, env_file, "HOST=0.0.0.0")
    assert refused.returncode != 0
    assert "Refusing to serve on HOST=0.0.0.0 with DEBUG on" in refused.stderr
    assert "make run HOST=0.0.0.0 ALLOW_PUBLIC_DEBUG=1" in refused.stderr
    # Refused before anything happened: no database, so no demo login either.
    assert not (scratch / "var" / "darkroom.sqlite3").exists()

    allowed = make("prepare", env, env_file, "HOST=0.0.0.0", "ALLOW_PUBLIC_DEBUG=1")
    assert allowed.returncode == 0, allowed.stderr
    assert "Warning: serving with DEBUG on at 0.0.0.0" in allowed.stdout
    assert "Darkroom: http://0.0.0.0:8000/" in allowed.stdout


def test_a_public_host_is_refused_whatever_sets_it_and_allowed_without_debug() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ALLOW_PUBLIC_DEBUG=1"):
        check_address("192.0.2.10", debug=True, allow_public_debug=False)
    assert check_address("192.0.2.10", debug=False, allow_public_debug=False) is None
    assert check_address("127.0.0.1", debug=True, allow_public_debug=False) is None


def test_host_in_env_file_is_checked_too(scratch: Path) -> None:
    # honcho gives the processes .env's HOST over make's: the check reads what they will get.
    (scratch / ".env").write_text("HOST=0.0.0.0\n")
    result = make("prepare", clean_env(scratch / "var"), f"ENV_FILE={scratch / '.env'}")
    assert result.returncode != 0
    assert "Refusing to serve on HOST=0.0.0.0" in result.stderr


# --- The simulator's address ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(name: str) -> str:
    (command,) = re.findall(rf"^{name}:\s*(.+)$", (ROOT / "Procfile").read_text(), re.MULTILINE)
    return command


def settings_value(env: dict[str, str], expression: str) -> str:
    code = f"from django.conf import settings as s; print(json.dumps({expression}))"
    return json.loads(django(env, f"import json; {code}"))


def test_finding5_the_procfile_simulator_defaults_to_the_settings_url(scratch: Path) -> None:
    command = shlex.split(procfile_command("simulator"))
    assert command[:3] == [".venv/bin/python", "-m", "simulator"]
    url = command[command.index("--url") + 1]
    default = re.fullmatch(r"\$\{WAVESPEED_SIMULATOR_URL:-(.+)\}", url)
    assert default, url
    assert default.group(1) == settings_value(clean_env(scratch / "var"), "s.SIMULATOR_URL")


def test_finding5_the_simulator_honours_wavespeed_simulator_url(scratch: Path) -> None:
    """The Procfile's simulator, started by honcho as `make run` starts it, listens where
    WAVESPEED_SIMULATOR_URL points, which is where the app sends its requests."""
    url = f"http://127.0.0.1:{free_port()}"
    env = clean_env(scratch / "var", WAVESPEED_SIMULATOR_URL=url)
    assert settings_value(env, "s.WAVESPEED_BASE_URL") == url
    honcho = subprocess.Popen(
        [str(VENV / "bin" / "honcho"), "--env", str(scratch / ".env"), "start", "simulator"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def answers() -> bool:
        try:
            response = httpx.get(
                f"{url}/api/v3/balance", headers={"Authorization": "Bearer k"}, timeout=2
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    try:
        wait_for(answers, timeout=30, what=f"the simulator at {url}")
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        try:
            output = honcho.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            output = honcho.communicate()[0]
    assert f"listening on {url}" in output


# --- .env copied from .env.example ------------------------------------------------------------

# Every setting's repr, less the addresses of objects (which differ between two processes).
SETTINGS_DUMP = (
    "print(json.dumps({k: re.sub(' at 0x[0-9a-f]+', '', repr(getattr(s, k))) "
    "for k in dir(s) if k.isupper()}, sort_keys=True))"
)


def settings_through_honcho(env: dict[str, str], env_file: Path) -> dict[str, str]:
    """Every setting, as a process that honcho starts with `env_file` as its .env sees it."""
    result = subprocess.run(
        [
            str(VENV / "bin" / "honcho"),
            "--env",
            str(env_file),
            "run",
            sys.executable,
            "-c",
            f"import json, re, django; django.setup(); from django.conf import settings as s; "
            f"{SETTINGS_DUMP}",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_finding5_env_example_sets_nothing() -> None:
    """honcho's .env values win over the shell's, so even an empty one would clear a variable
    the developer exported (WAVESPEED_API_KEY, say): every line must stay commented out."""
    assert parse_env_file((ROOT / ".env.example").read_text()) == {}


def test_finding5_env_copied_from_env_example_keeps_the_embedded_defaults(scratch: Path) -> None:
    var = scratch / "var"
    env = clean_env(var)
    copied = scratch / "copied" / ".env"
    copied.parent.mkdir()
    copied.write_text((ROOT / ".env.example").read_text())
    with_copy = settings_through_honcho(env, copied)
    assert with_copy == settings_through_honcho(env, scratch / "no-such.env")
    # ...and those are the embedded defaults: SQLite and the broker in var/, the simulator.
    assert "'django.db.backends.sqlite3'" in with_copy["DATABASES"]
    assert str(var / "darkroom.sqlite3") in with_copy["DATABASES"]
    assert with_copy["CELERY_BROKER_URL"] == "'filesystem://'"
    assert with_copy["WAVESPEED_BASE_URL"] == "'http://127.0.0.1:8765'"
    assert with_copy["DEBUG"] == "True"

    result = make("prepare", env, f"ENV_FILE={copied}")
    assert result.returncode == 0, result.stderr
    assert "Demo login (created)" in result.stdout
    assert (var / "darkroom.sqlite3").exists()
    assert "the WaveSpeed simulator at http://127.0.0.1:8765" in result.stdout


# --- The start-up line ------------------------------------------------------------------------


def test_finding5_the_start_up_line_names_the_url_the_app_talks_to(settings) -> None:
    settings.SIMULATOR_URL = "http://127.0.0.1:8765"

    settings.WAVESPEED_USES_SIMULATOR = True
    settings.WAVESPEED_BASE_URL = "http://127.0.0.1:8765/"
    provider = current_provider()
    assert provider.description == (
        "the WaveSpeed simulator at http://127.0.0.1:8765 (no WAVESPEED_API_KEY set)"
    )
    assert run_processes(provider) == [
        "web",
        "worker",
        "submitter",
        "images",
        "thumbnails",
        "beat",
        "simulator",
    ]

    settings.WAVESPEED_USES_SIMULATOR = False
    settings.WAVESPEED_BASE_URL = "https://api.wavespeed.ai"
    provider = current_provider()
    assert provider.description == "the real WaveSpeed API at https://api.wavespeed.ai"
    assert run_processes(provider) == ["web", "worker", "submitter", "images", "thumbnails", "beat"]

    # A key, and WAVESPEED_BASE_URL elsewhere: that URL, never "the real WaveSpeed API".
    settings.WAVESPEED_BASE_URL = "https://staging.example.test/wavespeed"
    provider = current_provider()
    assert provider.url == "https://staging.example.test/wavespeed"
    assert "real" not in provider.description
    assert "https://staging.example.test/wavespeed (WAVESPEED_BASE_URL)" in provider.description
    assert not provider.is_simulator


def test_make_prepare_with_the_simulator_names_where_its_webhooks_come(scratch: Path) -> None:
    result = make(
        "prepare", clean_env(scratch / "var"), f"ENV_FILE={scratch / '.env'}", "PORT=8124"
    )
    assert result.returncode == 0, result.stderr
    assert "WaveSpeed's webhooks come to http://127.0.0.1:8124/hooks/wavespeed/." in result.stdout


def test_finding5_make_prepare_prints_the_url_from_the_settings(scratch: Path) -> None:
    env = clean_env(
        scratch / "var",
        WAVESPEED_API_KEY="k-test",
        WAVESPEED_BASE_URL="https://proxy.example.test",
    )
    result = make("prepare", env, f"ENV_FILE={scratch / '.env'}", "PORT=8123")
    assert result.returncode == 0, result.stderr
    assert (
        "Darkroom: http://127.0.0.1:8123/, talking to the WaveSpeed API at "
        "https://proxy.example.test (WAVESPEED_BASE_URL)." in result.stdout
    )
    assert "real WaveSpeed API" not in result.stdout


# --- make run itself --------------------------------------------------------------------------


@pytest.fixture
def make_run(scratch: Path) -> Iterator[tuple[subprocess.Popen[str], int, str, Path]]:
    """`make run` on free ports in a scratch var/, stopped with Ctrl-C (SIGINT to its group)."""
    port, simulator_url = free_port(), f"http://127.0.0.1:{free_port()}"
    log = scratch / "make-run.log"
    env = clean_env(scratch / "var", WAVESPEED_SIMULATOR_URL=simulator_url)
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                f"--assume-old={VENV}/.installed-stamp",
                "run",
                f"VENV={VENV}",
                f"PORT={port}",
                f"ENV_FILE={scratch / '.env'}",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield process, port, simulator_url, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.e2e
def test_finding5_make_run_serves_with_the_simulator_where_the_url_says(make_run) -> None:
    process, port, simulator_url, log = make_run

    def up(url: str) -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    # A fresh start (migrations, then six processes) takes about 7 s on a 2-core machine.
    wait_for(lambda: up(f"http://127.0.0.1:{port}/login/"), timeout=90, what="the web process")
    wait_for(lambda: up(f"{simulator_url}/_sim/requests"), timeout=30, what="the simulator")
    text = log.read_text()
    assert f"Darkroom: http://127.0.0.1:{port}/, talking to the WaveSpeed simulator at " in text
    assert simulator_url in text
    # Each Celery worker comes up on its own queue (saves on `images`, apart from the polls).
    for name, queue in (("worker", "celery"), ("submitter", "submit"), ("images", "images")):
        wait_for(
            lambda name=name: re.search(
                rf"^\S+ {name}\.1 +\| .*@\S+ ready\.$", log.read_text(), re.MULTILINE
            ),
            timeout=60,
            what=f"the {name} process",
        )
        assert re.search(
            rf"^\S+ {name}\.1 +\| .*\.> {queue} +exchange={queue}", log.read_text(), re.MULTILINE
        ), name

    # A run started in it finishes by the simulator's webhook, sent to the web process's port
    # (honcho gives every other process a PORT of its own): nothing ever polls for the result.
    env = clean_env(log.parent / "var", WAVESPEED_SIMULATOR_URL=simulator_url)
    secret = django(
        env,
        "from django.contrib.auth.models import User; "
        "from accounts.services import token_create; "
        f"u = User.objects.get(username={DEMO[0]!r}); "
        "print(token_create(user=u, name='make run', scopes=['read', 'generate']).secret)",
    )
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    created = api.post("/generations", json={"prompt": "a lighthouse at dusk"})
    assert created.status_code == 201, created.text
    uuid = created.json()["uuid"]
    wait_for(
        lambda: api.get(f"/generations/{uuid}").json()["state"] != "active",
        timeout=60,
        what="the generation to finish",
    )
    assert api.get(f"/generations/{uuid}").json()["state"] == "done"
    requests = httpx.get(f"{simulator_url}/_sim/requests").json()["data"]
    assert not [r for r in requests if r["path"].endswith("/result")], requests
    (prediction,) = httpx.get(f"{simulator_url}/_sim/predictions").json()["data"]
    assert prediction["_sim"]["webhook_url"] == f"http://127.0.0.1:{port}/hooks/wavespeed/"
    assert [a["ok"] for a in prediction["_sim"]["webhook_attempts"]] == [True], prediction
