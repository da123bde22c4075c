"""Download a provider output URL to a temporary file: streamed, hashed, capped, checked.

A URL is fetched only when it is https on one of the provider's hosts (or a subdomain of one)
and every address its host resolves to is public: no private, loopback, link-local (cloud
metadata) or otherwise reserved address. The one exception is `trusted_origin`, the configured
API base URL, which is how the local simulator (http://127.0.0.1:PORT) serves its outputs.
Redirects are followed by hand, at most `MAX_REDIRECTS`, each hop checked the same way.

The body is streamed into a temporary file next to where it will be stored (never into
memory: docs/measured.md records +81 MB per 4k PNG that way), hashed as it goes, capped in bytes
and in total time, and fsynced; on any failure the partial file is removed.

No credentials go to the output host: the request drops any Authorization or Cookie header
the caller's client carries, and the client's `auth` is not applied.

Known limit: the host is resolved here and again by httpx when it connects, so a host whose
DNS answer changes in between (DNS rebinding) could slip through. The hosts are the
provider's CDNs, whose DNS they control; pin the address in a custom transport if that
changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

MAX_REDIRECTS = 3
DEADLINE_SECONDS = 120.0

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_EXPIRED_STATUSES = frozenset({403, 404, 410})  # CloudFront answers 403 AccessDenied
_TRANSIENT_STATUSES = frozenset({408, 425, 429})  # and every 5xx


class DownloadError(Exception):
    """A download failed; `permanent` says whether trying again could help."""

    def __init__(self, message: str, *, permanent: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code


@dataclass(frozen=True)
class Downloaded:
    path: Path  # a temporary file in dest_dir: the caller moves or deletes it
    size: int
    sha256: str
    content_type: str | None  # the media type the server claimed, e.g. "image/png"


def is_allowed_url(url: str, *, allowed_hosts: Sequence[str], trusted_origin: str | None) -> bool:
    """Whether `url` may be downloaded (resolves its host: this does a DNS lookup)."""
    try:
        _check_url(_parse_url(url), allowed_hosts=allowed_hosts, trusted_origin=trusted_origin)
    except DownloadError:
        return False
    return True


def host_is_allowed(host: str, allowed_hosts: Sequence[str]) -> bool:
    """Whether `host` is one of `allowed_hosts` or a subdomain of one (no DNS)."""
    host = host.lower().rstrip(".")
    for allowed in allowed_hosts:
        allowed = allowed.lower().strip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def download_to_tempfile(
    url: str,
    *,
    client: httpx.Client,
    dest_dir: Path | None = None,
    max_bytes: int,
    allowed_hosts: Sequence[str],
    trusted_origin: str | None = None,
    deadline_seconds: float = DEADLINE_SECONDS,
    prefix: str = "download-",
) -> Downloaded:
    """Stream `url` into a new temporary file in `dest_dir` and return what was saved.

    Connect and read timeouts are the client's; `deadline_seconds` caps the whole download,
    checked between chunks (so overshot by at most one read timeout). Raises `DownloadError`.
    """
    deadline = time.monotonic() + deadline_seconds
    current = _parse_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        if time.monotonic() > deadline:
            raise DownloadError("The download took too long", permanent=False)
        _check_url(current, allowed_hosts=allowed_hosts, trusted_origin=trusted_origin)
        request = client.build_request("GET", current)
        for name in ("Authorization", "Cookie"):
            request.headers.pop(name, None)
        # Images gain nothing from gzip, and a decoded stream could outgrow its chunks.
        request.headers["Accept-Encoding"] = "identity"
        try:
            response = client.send(request, stream=True, follow_redirects=False, auth=None)
            try:
                if response.status_code in _REDIRECT_STATUSES:
                    current = _redirect_target(response)
                    continue
                _raise_for_status(response)
                return _save_body(
                    response, dest_dir, max_bytes=max_bytes, deadline=deadline, prefix=prefix
                )
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise DownloadError("The output host timed out", permanent=False) from exc
        except httpx.DecodingError as exc:
            raise DownloadError(f"The output could not be decoded: {exc}", permanent=True) from exc
        except httpx.TransportError as exc:
            raise DownloadError(f"Could not download the output: {exc}", permanent=False) from exc
    raise DownloadError(f"More than {MAX_REDIRECTS} redirects", permanent=True)


def _parse_url(url: str | httpx.URL) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DownloadError(f"Not a valid URL: {url!r}", permanent=True) from exc


def _host(url: httpx.URL) -> str:
    """The host in ASCII (IDNA), lower case, without a trailing dot."""
    return url.raw_host.decode("ascii").lower().rstrip(".")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, _host(url), url.port or _DEFAULT_PORTS.get(url.scheme)


def _check_url(url: httpx.URL, *, allowed_hosts: Sequence[str], trusted_origin: str | None) -> None:
    if trusted_origin and _origin(url) == _origin(_parse_url(trusted_origin)):
        return
    if url.scheme != "https":
        raise DownloadError(
            f"Only https output links are allowed, not {url.scheme}", permanent=True
        )
    if url.userinfo:
        raise DownloadError("Output links must not carry credentials", permanent=True)
    host = _host(url)
    if not host or not host_is_allowed(host, allowed_hosts):
        raise DownloadError(f"{host or 'The output host'} is not an allowed host", permanent=True)
    for address in _resolve(host):
        if not is_public_address(address):
            raise DownloadError(f"{host} resolves to a non-public address", permanent=True)


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError(f"Could not resolve {host}: {exc}", permanent=False) from exc
    if not infos:
        raise DownloadError(f"{host} has no address", permanent=False)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """Whether `address` (an IP, v4 or v6) is on the public internet; also the host policy of
    other outgoing requests (the hooks app's notifications)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever Python 3.11 says
    # is_global is False for private, loopback, link-local (169.254.169.254, the cloud
    # metadata address), shared (100.64/10), reserved and unspecified addresses.
    return ip.is_global and not ip.is_multicast


def _redirect_target(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise DownloadError(
            f"The output host redirected (HTTP {response.status_code}) to nowhere",
            permanent=True,
            status_code=response.status_code,
        )
    try:
        return response.url.join(location)
    except httpx.InvalidURL as exc:
        raise DownloadError(f"Redirected to an invalid URL: {location!r}", permanent=True) from exc


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in _EXPIRED_STATUSES:
        message = f"The output link has expired or is no longer available (HTTP {status})"
    else:
        message = f"The output host answered HTTP {status}"
    permanent = status not in _TRANSIENT_STATUSES and status < 500
    raise DownloadError(message, permanent=permanent, status_code=status)


def _save_body(
    response: httpx.Response,
    dest_dir: Path | None,
    *,
    max_bytes: int,
    deadline: float,
    prefix: str = "download-",
) -> Downloaded:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    digest = hashlib.sha256()
    size = 0
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        dir=dest_dir, prefix=prefix, suffix=".part", delete=False
    )
    try:
        with tmp:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                if time.monotonic() > deadline:
                    raise DownloadError("The download took too long", permanent=False)
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp.name)
        raise
    return Downloaded(
        path=Path(tmp.name),
        size=size,
        sha256=digest.hexdigest(),
        content_type=_media_type(response.headers.get("Content-Type")),
    )


def _too_large(max_bytes: int) -> DownloadError:
    return DownloadError(f"The output is larger than {max_bytes:,} bytes", permanent=True)


def _media_type(header: str | None) -> str | None:
    media_type = (header or "").split(";", 1)[0].strip().lower()
    return media_type or None
