"""Which WaveSpeed Darkroom talks to, read from the settings its client uses.

`make run` prints it on its start-up line and starts the simulator only when it is the one
(`manage.py describe_provider`), so neither is worked out a second time in the Makefile.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# The Procfile entries `make run` always starts; the simulator joins them when it is used.
RUN_PROCESSES = ("web", "worker", "submitter", "images", "thumbnails", "beat")
SIMULATOR_PROCESS = "simulator"


@dataclass(frozen=True)
class Provider:
    url: str  # where every request goes: settings.WAVESPEED_BASE_URL
    is_simulator: bool  # the built-in simulator at WAVESPEED_SIMULATOR_URL, which `make run` starts
    description: str


def _address(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def current_provider() -> Provider:
    url = settings.WAVESPEED_BASE_URL.rstrip("/")
    has_key = not settings.WAVESPEED_USES_SIMULATOR
    if _address(url) == _address(settings.SIMULATOR_URL):
        why = "with WAVESPEED_API_KEY" if has_key else "no WAVESPEED_API_KEY set"
        return Provider(url, True, f"the WaveSpeed simulator at {url} ({why})")
    if _address(url) == _address(settings.WAVESPEED_PUBLIC_URL):
        name = f"the real WaveSpeed API at {url}"
    else:
        name = f"the WaveSpeed API at {url} (WAVESPEED_BASE_URL)"
    if not has_key:
        name += ", with no WAVESPEED_API_KEY set (it is sent the simulator's placeholder key)"
    return Provider(url, False, name)


def run_processes(provider: Provider | None = None) -> list[str]:
    """The Procfile entries `make run` starts, in order (web first: honcho gives it $PORT)."""
    provider = provider or current_provider()
    return [*RUN_PROCESSES, *([SIMULATOR_PROCESS] if provider.is_simulator else [])]
