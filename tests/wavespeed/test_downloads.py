from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from PIL import Image

from wavespeed.downloads import (
    MAX_REDIRECTS,
    DownloadError,
    download_to_tempfile,
    host_is_allowed,
    is_allowed_url,
)

ALLOWED_HOSTS = ("cloudfront.net", "wavespeed.ai")
MAX_BYTES = 10_000_000


def _png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 200), 30).convert("RGB").save(out, "PNG")
    return out.getvalue()


PNG = _png()


def redirect_to(location: str) -> str:
    return "/redirect?" + urlencode({"to": location})


class Handler(BaseHTTPRequestHandler):
    """A stand-in for the output CDN; records every request's headers on the server."""

    disable_nagle_algorithm = True  # else ~40 ms per request (docs/measured.md)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        path, _, query = self.path.partition("?")
        if path == "/image.png":
            self._send(200, PNG, content_type="image/png")
        elif path == "/expired":
            body = b"<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"
            self._send(403, body, content_type="application/xml")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"nope")
        elif path == "/redirect":
            self._redirect(parse_qs(query)["to"][0])
        elif path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left else "/image.png")
        elif path == "/no-location":
            self._send(302, b"")
        elif path == "/huge-length":
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            self._write(b"\0" * 1024)
        elif path == "/endless":  # no Content-Length: the body ends when the connection does
            self.send_response(200)
            self.end_headers()
            for _ in range(2_000):  # 128 MB at most, should the client not hang up
                if not self._write(b"\0" * 65536):
                    break
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self._write(PNG[:100])
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, PNG)
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            for start in range(0, len(PNG), 1024):
                if not self._write(PNG[start : start + 1024]):
                    break
                time.sleep(0.05)
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes, *, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def origin(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # Built like the real download client: explicit timeouts, no credentials, no env proxies.
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0), trust_env=False) as client:
        assert "authorization" not in client.headers
        yield client


@pytest.fixture
def download(client, origin, tmp_path):
    def download(path: str, **overrides):
        options = {
            "client": client,
            "dest_dir": tmp_path,
            "max_bytes": MAX_BYTES,
            "allowed_hosts": ALLOWED_HOSTS,
            "trusted_origin": origin,
        }
        options.update(overrides)
        url = path if "://" in path else origin + path
        return download_to_tempfile(url, **options)

    return download


def test_it_streams_the_output_to_a_temporary_file(download, tmp_path):
    result = download("/image.png")

    assert result.path.parent == tmp_path
    assert result.path.read_bytes() == PNG
    assert result.size == len(PNG)
    assert result.sha256 == hashlib.sha256(PNG).hexdigest()
    assert result.content_type == "image/png"


def test_it_sends_no_credentials_to_the_output_host(download, server):
    server.seen.clear()
    download("/image.png")
    # Even through a client that carries the provider's key.
    with httpx.Client(
        headers={"Authorization": "Bearer provider-key"},
        cookies={"session": "secret"},
        auth=("user", "password"),
        timeout=5.0,
        trust_env=False,
    ) as keyed:
        download("/image.png", client=keyed)

    assert len(server.seen) == 2
    for _path, headers in server.seen:
        assert not {"authorization", "cookie"} & {name.lower() for name in headers}


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_expired_link_is_a_permanent_error(download, tmp_path, status):
    path = "/expired" if status == 403 else f"/status/{status}"

    with pytest.raises(DownloadError) as caught:
        download(path)

    assert caught.value.permanent
    assert caught.value.status_code == status
    assert "expired" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_server_error_can_be_retried(download, tmp_path, status):
    with pytest.raises(DownloadError) as caught:
        download(f"/status/{status}")

    assert not caught.value.permanent
    assert caught.value.status_code == status
    assert list(tmp_path.iterdir()) == []


def test_it_follows_redirects_within_allowed_origins(download):
    assert download(redirect_to("/image.png")).sha256 == hashlib.sha256(PNG).hexdigest()
    assert download(f"/hops/{MAX_REDIRECTS - 1}").size == len(PNG)


def test_it_stops_after_too_many_redirects(download):
    with pytest.raises(DownloadError, match="redirects") as caught:
        download(f"/hops/{MAX_REDIRECTS}")

    assert caught.value.permanent


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x.png",  # not an allowed host
        "http://d111.cloudfront.net/x.png",  # allowed host, but not https
        "https://localhost/x.png",  # loopback (allowed_hosts below lists it)
        "http://127.0.0.1:1/x.png",  # the trusted host on another port
    ],
)
def test_it_checks_every_redirect_hop(download, target):
    with pytest.raises(DownloadError) as caught:
        download(redirect_to(target), allowed_hosts=(*ALLOWED_HOSTS, "localhost"))

    assert caught.value.permanent


def test_it_checks_redirects_even_when_the_client_follows_them(download):
    following = httpx.Client(follow_redirects=True, timeout=5.0, trust_env=False)
    with following, pytest.raises(DownloadError, match="not an allowed host"):
        download(redirect_to("https://evil.example/x.png"), client=following)


def test_a_redirect_without_location_is_an_error(download):
    with pytest.raises(DownloadError) as caught:
        download("/no-location")

    assert caught.value.permanent


def test_it_refuses_a_url_off_the_allowed_hosts(download, server):
    server.seen.clear()

    with pytest.raises(DownloadError) as caught:
        download("/image.png", trusted_origin=None)

    assert caught.value.permanent
    assert server.seen == []  # refused before any request


def test_it_refuses_a_too_large_content_length_before_reading(download, tmp_path):
    with pytest.raises(DownloadError, match="larger than") as caught:
        download("/huge-length")

    assert caught.value.permanent
    assert list(tmp_path.iterdir()) == []


def test_it_stops_reading_a_body_over_max_bytes(download, tmp_path):
    with pytest.raises(DownloadError, match="larger than") as caught:
        download("/endless", max_bytes=1_000_000)

    assert caught.value.permanent
    assert list(tmp_path.iterdir()) == []


def test_a_body_cut_short_is_a_transient_error_and_leaves_no_file(download, tmp_path):
    with pytest.raises(DownloadError) as caught:
        download("/truncated")

    assert not caught.value.permanent
    assert list(tmp_path.iterdir()) == []


def test_a_timeout_is_a_transient_error(download):
    impatient = httpx.Client(timeout=httpx.Timeout(0.2), trust_env=False)
    with impatient, pytest.raises(DownloadError, match="timed out") as caught:
        download("/slow", client=impatient)

    assert not caught.value.permanent


def test_a_download_over_the_deadline_is_a_transient_error(download, tmp_path):
    started = time.monotonic()

    with pytest.raises(DownloadError, match="too long") as caught:
        download("/trickle", deadline_seconds=0.3)

    assert not caught.value.permanent
    assert time.monotonic() - started < 2
    assert list(tmp_path.iterdir()) == []


class TestIsAllowedUrl:
    def test_it_allows_the_trusted_origin_over_http_and_loopback(self, origin):
        assert is_allowed_url(f"{origin}/x.png", allowed_hosts=(), trusted_origin=origin)
        # The configured API base URL may carry a path: only its origin counts.
        assert is_allowed_url(
            f"{origin}/x.png", allowed_hosts=(), trusted_origin=f"{origin}/api/v3"
        )

    def test_it_refuses_the_trusted_host_on_another_port_or_untrusted(self, origin):
        host, port = origin.removeprefix("http://").split(":")
        other = f"http://{host}:{int(port) + 1}/x.png"
        assert not is_allowed_url(other, allowed_hosts=(host,), trusted_origin=origin)
        assert not is_allowed_url(f"{origin}/x.png", allowed_hosts=(host,), trusted_origin=None)

    def test_it_allows_https_to_a_public_address_on_an_allowed_host(self):
        # An IP literal: resolving it needs no network.
        assert is_allowed_url(
            "https://93.184.215.14/x.png", allowed_hosts=("93.184.215.14",), trusted_origin=None
        )

    @pytest.mark.parametrize(
        "url",
        [
            "http://93.184.215.14/x.png",  # not https
            "https://user:pw@93.184.215.14/x.png",  # credentials in the URL
            "https://evil.example/x.png",  # not an allowed host
            "ftp://93.184.215.14/x.png",
            "not a url",
        ],
    )
    def test_it_refuses_other_schemes_and_hosts(self, url):
        assert not is_allowed_url(url, allowed_hosts=("93.184.215.14",), trusted_origin=None)

    @pytest.mark.parametrize(
        "host",
        [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "100.64.0.1",  # shared address space (carrier-grade NAT)
            "169.254.169.254",  # cloud metadata
            "0.0.0.0",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "[fd00:ec2::254]",  # AWS metadata over IPv6
            "[fe80::1]",
            "localhost",
        ],
    )
    def test_it_refuses_hosts_that_resolve_to_non_public_addresses(self, host):
        allowed = (host.strip("[]"),)
        assert not is_allowed_url(
            f"https://{host}/x.png", allowed_hosts=allowed, trusted_origin=None
        )


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("cloudfront.net", True),
        ("d111111abcdef8.cloudfront.net", True),
        ("CDN.WaveSpeed.AI.", True),
        ("evilcloudfront.net", False),
        ("cloudfront.net.evil.example", False),
        ("wavespeed.ai.example", False),
        ("", False),
    ],
)
def test_host_is_allowed(host, allowed):
    assert host_is_allowed(host, ALLOWED_HOSTS) is allowed
