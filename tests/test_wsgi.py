"""The WSGI entry point a server imports (gunicorn in docker-compose and the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_url_resolver_is_built_before_the_first_request() -> None:
    """Importing the URLconf and every view module costs ~200 ms of CPU: paid while the server
    starts, not by whichever request (a page, a webhook delivery) comes first."""
    probe = (
        "import sys\n"
        "import config.wsgi\n"
        "from django.urls import get_resolver\n"
        "resolver = get_resolver()\n"
        "loaded = [name in sys.modules for name in ('generations.views', 'api.endpoints')]\n"
        "print(resolver._populated, *loaded)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "localhost",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["True", "True", "True"], result.stdout
