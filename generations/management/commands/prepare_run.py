"""What `make run` does before it starts its processes (the Makefile's `prepare` step).

Run through `honcho run`, so it sees the environment the processes will have (.env's values
win over the shell's, as they do for them): HOST and PORT are the web process's address.

1. Refuses an address other machines can reach while DEBUG is on, unless ALLOW_PUBLIC_DEBUG is
   set: debug pages show settings, code and SQL to anyone who makes an error happen.
2. Migrates the database.
3. The demo login (`ensure_demo_user`: made once, on a new embedded database only).
4. Prints the start-up line, naming the WaveSpeed URL the app really talks to.
"""

from __future__ import annotations

import ipaddress
import os
import socket

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from wavespeed.provider import current_provider
from wavespeed.webhooks import webhook_url

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8000"
ALLOW_VARIABLE = "ALLOW_PUBLIC_DEBUG"


def _is_loopback_ip(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) is reachable from this machine only."""
    host = host.strip().strip("[]")
    try:
        return _is_loopback_ip(host)
    except ValueError:
        pass
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(_is_loopback_ip(info[4][0]) for info in found)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def check_address(host: str, *, debug: bool, allow_public_debug: bool) -> str | None:
    """Raise CommandError for a public address with DEBUG on (unless allowed); a warning to
    print when allowed, else None."""
    if not debug or is_loopback(host):
        return None
    if not allow_public_debug:
        raise CommandError(
            f"Refusing to serve on HOST={host} with DEBUG on. Anyone who can reach this "
            "machine there would get Django's debug pages (settings, code, SQL) whenever "
            "something fails, and a demo login (an admin, its password published) may exist.\n"
            f"  Keep HOST={DEFAULT_HOST} (the default), or another loopback address; or, on a "
            f"network you trust, say so: make run HOST={host} {ALLOW_VARIABLE}=1\n"
            "  (A deployment runs with production settings, DEBUG off: see docker-compose.yml.)"
        )
    return (
        f"Warning: serving with DEBUG on at {host} ({ALLOW_VARIABLE}=1): debug pages are open "
        "to anyone who can reach it. Add the name you reach it by to ALLOWED_HOSTS."
    )


def site_url(host: str, port: str) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


class Command(BaseCommand):
    help = (
        "What `make run` does before starting its processes: refuse a public address with "
        "DEBUG on (unless ALLOW_PUBLIC_DEBUG=1), migrate, make the demo login once, and print "
        "the start-up line. Reads HOST and PORT from the environment."
    )

    def handle(self, *args: object, **options: object) -> None:
        host = os.environ.get("HOST") or DEFAULT_HOST
        port = os.environ.get("PORT") or DEFAULT_PORT
        warning = check_address(
            host,
            debug=settings.DEBUG,
            allow_public_debug=_truthy(os.environ.get(ALLOW_VARIABLE)),
        )
        call_command("migrate", interactive=False)
        call_command("ensure_demo_user")
        if warning:
            self.stdout.write(self.style.WARNING(warning))
        hook = webhook_url()
        self.stdout.write(
            f"Darkroom: {site_url(host, port)}, talking to {current_provider().description}. "
            + (f"WaveSpeed's webhooks come to {hook}. " if hook else "")
            + "Ctrl-C stops everything."
        )
