"""A real S3 API over HTTP for the storage tests: moto's S3 in its own process.

moto answers S3's REST API as boto3 and django-storages speak it (buckets, objects, ACLs: an
anonymous GET of a private object is refused), but it accepts any presigned URL, however old
or altered. `PresignedUrlCheck` adds what S3 does with one: the SigV4 query signature must match
the server's credentials, and the URL stops working X-Amz-Expires seconds after X-Amz-Date
(AWS's "Authenticating Requests: Using Query Parameters" for Signature Version 4).

Run as `python -m tests.s3_server PORT`; tests use `S3Server`, which starts it on a free port.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# What the app signs with: moto accepts any key, the presigned check knows this one.
ACCESS_KEY = "AKIADARKROOMTEST0001"
SECRET_KEY = "darkroom-test-secret-key"
REGION = "us-east-1"

StartResponse = Callable[..., Any]


class PresignedUrlCheck:
    """WSGI middleware: refuses a presigned request whose signature or lifetime S3 would refuse;
    passes every other request (boto3's own, signed in headers, or an anonymous one) to moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, access_key: str, secret_key: str):
        self.app = app
        self.access_key = access_key
        self.secret_key = secret_key

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        names = {name for name, _ in query}
        if "X-Amz-Signature" in names or "Signature" in names:
            try:
                refusal = self.refusal(environ, dict(query), query)
            except (KeyError, ValueError):
                refusal = ("AuthorizationQueryParametersError", "Malformed query parameters")
            if refusal is not None:
                return _error(start_response, *refusal)
        return self.app(environ, start_response)

    def refusal(
        self, environ: dict[str, Any], params: dict[str, str], query: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return "AccessDenied", "Only AWS4-HMAC-SHA256 query signatures are accepted"
        access_key, date, region, service, terminal = params["X-Amz-Credential"].split("/")
        if access_key != self.access_key:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist"
        signed = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if time.time() > signed.timestamp() + int(params["X-Amz-Expires"]):
            return "AccessDenied", "Request has expired"
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        headers = params["X-Amz-SignedHeaders"].split(";")
        canonical = "\n".join(
            [
                environ["REQUEST_METHOD"],
                urlsplit(raw_path).path,
                "&".join(
                    f"{_encode(name)}={_encode(value)}"
                    for name, value in sorted(query)
                    if name != "X-Amz-Signature"
                ),
                "".join(f"{name}:{_header(environ, name)}\n" for name in headers),
                ";".join(headers),
                "UNSIGNED-PAYLOAD",
            ]
        )
        scope = f"{date}/{region}/{service}/{terminal}"
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                params["X-Amz-Date"],
                scope,
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (date, region, service, terminal):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _header(environ: dict[str, Any], name: str) -> str:
    key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
    return " ".join(str(environ.get(key, "")).split())


def _error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response(
        "403 Forbidden",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def serve(port: int) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = PresignedUrlCheck(
        DomainDispatcherApplication(create_backend_app),
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"S3 API on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


class S3Server:
    """The server above in a subprocess of the test run, and what a test needs to reach it."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> S3Server:
        log = open(self.log_path, "wb")  # noqa: SIM115 - the process writes to it until it ends
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.s3_server", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The S3 server exited at start:\n{self.log()}")
            try:
                httpx.get(self.endpoint_url, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"The S3 server did not answer after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def environment(self, bucket: str) -> dict[str, str]:
        """The variables that make settings/base.py store media in `bucket` on this server."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def client(self) -> Any:
        """A boto3 S3 client of the test's own, to look into the bucket."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


if __name__ == "__main__":
    serve(int(sys.argv[1]))
