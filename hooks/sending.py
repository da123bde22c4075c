"""Signing a delivery and sending it, through the host policy.

The signature follows Stripe's and Standard Webhooks' shape: the header

    Darkroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

beside `Darkroom-Event-Id` (the same on every retry and resend: receivers deduplicate on it)
and `Darkroom-Event`. docs/notifications.md shows how to verify it.

Host policy, the output downloader's (`wavespeed.downloads.is_public_address`): the URL's host
is resolved once, every address must be public unless staff allowed the endpoint private ones,
and the request goes to the checked address itself (Host header and TLS name kept), so a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it.
Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx

from wavespeed.downloads import is_public_address

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# What of a receiver's answer is kept for the endpoint's page.
ANSWER_KEPT = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """The URL may not be reached (scheme, credentials, a private address): never retried."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str = ""
    permanent: bool = False  # True: trying again cannot help (the host policy refused it)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, event_id: str, event: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": "Darkroom-Notifications/1",
        "Darkroom-Event": event,
        "Darkroom-Event-Id": event_id,
        "Darkroom-Signature": f"t={timestamp},v1={signature(secret, timestamp, body)}",
    }


def checked_address(url: str, *, allow_private: bool) -> tuple[httpx.URL, str]:
    """The parsed URL and the one address to connect to; raises `Refused`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise Refused(f"Not a valid URL: {url!r}") from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise Refused(f"Only http and https URLs, not {parsed.scheme or 'none'}")
    if parsed.scheme != "https" and not allow_private:
        raise Refused("Only https URLs (plain http only for a receiver staff allowed)")
    if parsed.userinfo:
        raise Refused("The URL must not carry a user name or password")
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    if not host:
        raise Refused("The URL has no host")
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _Unreachable(f"Could not resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise _Unreachable(f"{host} has no address")
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise Refused(f"{host} resolves to a private address; only public ones are reached")
    return parsed, addresses[0]


class _Unreachable(Exception):
    """DNS failed: maybe for a moment, so this is retried."""


def send(*, url: str, body: bytes, headers: dict[str, str], allow_private: bool) -> Outcome:
    """POST `body` to `url` once; never raises for the receiver's or the network's faults."""
    started = time.monotonic()

    def outcome(**fields: Any) -> Outcome:
        return Outcome(duration_ms=round((time.monotonic() - started) * 1000), **fields)

    try:
        parsed, address = checked_address(url, allow_private=allow_private)
    except Refused as exc:
        return outcome(ok=False, status_code=None, error=str(exc), permanent=True)
    except _Unreachable as exc:
        return outcome(ok=False, status_code=None, error=str(exc))
    host_header = parsed.netloc.decode("ascii")
    if "@" in host_header:  # never: userinfo was refused above
        host_header = host_header.rsplit("@", 1)[1]
    pinned = parsed.copy_with(host=address)
    extensions = (
        {"sni_hostname": parsed.raw_host.decode("ascii")} if parsed.scheme == "https" else {}
    )
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                pinned,
                content=body,
                headers={**headers, "Host": host_header},
                extensions=extensions,
            )
            response = client.send(request)
    except httpx.TimeoutException:
        return outcome(ok=False, status_code=None, error="The receiver did not answer in time")
    except httpx.HTTPError as exc:
        return outcome(ok=False, status_code=None, error=f"Could not connect: {exc}")
    code = response.status_code
    if 200 <= code < 300:
        return outcome(ok=True, status_code=code)
    if 300 <= code < 400:
        where = response.headers.get("Location", "nowhere")
        error = f"HTTP {code}: redirects are not followed (to {where[:200]})"
    else:
        error = f"HTTP {code}: {response.text[:ANSWER_KEPT]}"
    return outcome(ok=False, status_code=code, error=error)
