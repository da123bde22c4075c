"""DARKROOM_PUBLIC_URL: webhooks are on when it is set, and in `make run` with its simulator
(which reaches the app at HOST:PORT); never guessed for the real WaveSpeed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.processes import ROOT


def public_url(**env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WAVESPEED_", "DARKROOM_")) and k not in ("HOST", "PORT")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.DARKROOM_PUBLIC_URL)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::1", "http://[::1]:8123"),
        ("localhost", "http://localhost:8123"),
    ],
)
def test_make_run_with_the_simulator_turns_webhooks_on(host: str, url: str) -> None:
    assert public_url(DARKROOM_MAKE_RUN="1", HOST=host, PORT="8123") == url


def test_the_setting_wins_and_nothing_is_guessed_elsewhere() -> None:
    public = "https://darkroom.example.com"
    assert public_url(DARKROOM_MAKE_RUN="1", DARKROOM_PUBLIC_URL=public) == public
    # not under make run, or make run against the real WaveSpeed: off
    assert public_url(HOST="127.0.0.1", PORT="8000") == ""
    assert public_url(DARKROOM_MAKE_RUN="1", WAVESPEED_API_KEY="k", PORT="8000") == ""
