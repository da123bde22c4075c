"""HTTP front of the WaveSpeed simulator: routing, auth, faults, envelopes.

A plain ThreadingHTTPServer speaking HTTP/1.1 with keep-alive. Every answer carries a
Content-Length, so clients can reuse connections just as they would with the real API.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from simulator import spec
from simulator.config import SimulatorConfig
from simulator.errors import ApiError, StorageError
from simulator.images import RenderCache
from simulator.state import Clock, State
from simulator.webhooks import WebhookDispatcher

__all__ = [
    "RunningSimulator",
    "SimulatorConfig",
    "SimulatorServer",
    "make_server",
    "start_in_thread",
]


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def envelope(status: int, data: Any = None, message: str = "success") -> Response:
    body = json.dumps({"code": status, "message": message, "data": data})
    return Response(status, body.encode())


def error_response(exc: ApiError) -> Response:
    response = envelope(exc.status, None, exc.message)
    response.headers.update(exc.headers)
    return response


def storage_error_response(exc: StorageError) -> Response:
    # the XML-ish body S3 and CloudFront send, so clients see what they would in production
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{exc.code}</Code><Message>{exc.message}</Message></Error>"
    )
    return Response(exc.status, body.encode(), "application/xml")


class BodyTooLarge(Exception):
    pass


# (method, path pattern, handler method, endpoint name used by faults)
ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    (method, re.compile(pattern), handler, endpoint)
    for method, pattern, handler, endpoint in [
        ("GET", r"/api/v3/balance", "api_balance", "balance"),
        ("GET", r"/api/v3/webhook/secret", "api_webhook_secret", "webhook_secret"),
        ("POST", r"/api/v3/predictions", "api_history", "history"),
        ("POST", r"/api/v3/predictions/delete", "api_delete", "delete"),
        ("GET", r"/api/v3/predictions/(?P<id>[^/]+)/result", "api_result", "result"),
        ("GET", r"/api/v3/predictions/(?P<id>[^/]+)", "api_result", "result"),
        ("POST", r"/api/v3/media/upload/binary", "api_upload_binary", "upload"),
        ("POST", r"/api/v3/media/uploads", "api_create_upload", "upload"),
        ("POST", r"/api/v3/(?P<model>[^/]+/[^/]+)", "api_submit", "submit"),
        ("PUT", r"/upload/(?P<upload_id>[^/]+)/[^/]+", "storage_put", "upload"),
        ("GET", r"/media/(?P<upload_id>[^/]+)/[^/]+", "storage_media", "media"),
        ("GET", r"/cdn/(?P<id>[^/]+)/(?P<index>\d+)\.(?P<ext>[a-z]+)", "storage_output", "output"),
    ]
]

CONTROL_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/_sim/reset"): "control_reset",
    ("GET", "/_sim/config"): "control_get_config",
    ("POST", "/_sim/config"): "control_config",
    ("GET", "/_sim/faults"): "control_get_faults",
    ("POST", "/_sim/faults"): "control_faults",
    ("GET", "/_sim/requests"): "control_requests",
    ("GET", "/_sim/predictions"): "control_predictions",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; needs a Content-Length on every answer
    disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server_version = "WaveSpeedSimulator/1.0"
    server: SimulatorServer

    # --- plumbing -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _dispatch writes its own line, with timing

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.state.config.quiet:
            sys.stderr.write(f"[simulator] {self.address_string()} {format % args}\n")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                total += size
                if total > spec.MAX_REQUEST_BYTES:
                    raise BodyTooLarge
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > spec.MAX_REQUEST_BYTES:
            raise BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _base_url(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.server.base_url

    def _send(self, response: Response) -> None:
        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out): nothing to do

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        url = urlsplit(self.path)
        path = unquote(url.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            self.body = self._read_body()
        except (BodyTooLarge, ValueError) as exc:
            self.close_connection = True  # the rest of the body is unread: drop the connection
            status = 413 if isinstance(exc, BodyTooLarge) else 400
            message = "Request body too large" if status == 413 else "Malformed request body"
            self._send(envelope(status, None, message))
            self._log_line(path, status, started)
            return
        if path.startswith("/_sim/"):
            response = self._control(path)
            self._send(response)
            self._log_line(path, response.status, started)
            return

        entry = self.server.state.log_request(
            {
                "method": self.command,
                "path": path,
                "query": self.query,
                "json": self._json_or_none(),
                "has_authorization": self.headers.get("Authorization") is not None,
            }
        )
        response, drop, delay = self._api(path)
        if delay:
            time.sleep(delay)
        if drop:
            entry["status"] = "dropped"
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self._log_line(path, "dropped", started)
            return
        entry["status"] = response.status
        self._send(response)
        self._log_line(path, response.status, started)

    def _log_line(self, path: str, status: int | str, started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        self.log_message("%s %s -> %s (%.1f ms)", self.command, path, status, elapsed)

    def _json_or_none(self) -> Any:
        if not self.body or self.headers.get_content_type() == "multipart/form-data":
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _json(self) -> Any:
        """The body as JSON (None when empty); ApiError 400 when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "Request body is not valid JSON") from exc

    # --- API -------------------------------------------------------------------------------
    def _api(self, path: str) -> tuple[Response, bool, float]:
        """Answer an API/storage request: (response, drop the connection?, delay seconds)."""
        method = "GET" if self.command == "HEAD" else self.command
        route, params, path_known, fault = None, {}, False, None
        for route_method, pattern, handler, endpoint in ROUTES:
            match = pattern.fullmatch(path)
            if match:
                path_known = True
                if route_method == method:
                    route, params = (handler, endpoint), match.groupdict()
                    break
        try:
            if path.startswith("/api/v3/"):
                self.server.state.check_auth(self.headers.get("Authorization"))
            if route is None:
                status = 405 if path_known else 404
                raise ApiError(status, f"No route for {self.command} {path}")
            handler, endpoint = route
            fault = self.server.state.take_request_fault(endpoint)
            if fault is not None and fault.kind == "http":
                # a faulted request does nothing: in particular a submit creates no prediction
                headers = {}
                if fault.status == 429 and fault.retry_after is not None:
                    headers["Retry-After"] = str(round(fault.retry_after))
                raise ApiError(fault.status, fault.http_message(), headers)
            response = getattr(self, handler)(**params)
        except ApiError as exc:
            response = error_response(exc)
        except StorageError as exc:
            response = storage_error_response(exc)
        # slow and drop faults act after the work is done (a submit has created its prediction)
        if fault is None or fault.kind == "http":
            return response, False, 0.0
        if fault.kind == "slow":
            return response, False, fault.seconds
        return response, True, 0.0  # drop_connection

    def api_submit(self, model: str) -> Response:
        data, has_webhook = self.server.state.submit(
            model, self._json(), self._base_url(), self.query.get("webhook")
        )
        if has_webhook:
            self.server.webhooks.wake()
        # Render the outputs now, in the background, as the real CDN holds them when a
        # prediction finishes: a download then only sends bytes (simulator/images.py).
        for index, output in self.server.state.outputs_ahead(data["id"]):
            self.server.renders.render_ahead(
                (data["id"], index),
                output.width,
                output.height,
                output.lines,
                output.output_format,
            )
        return envelope(200, data)

    def api_result(self, id: str) -> Response:
        return envelope(200, self.server.state.get(id))

    def api_history(self) -> Response:
        return envelope(200, self.server.state.history(self._json()))

    def api_delete(self) -> Response:
        return envelope(200, self.server.state.delete(self._json()))

    def api_balance(self) -> Response:
        return envelope(200, {"balance": self.server.state.balance()})

    def api_webhook_secret(self) -> Response:
        return envelope(200, {"secret": self.server.state.webhook_secret()})

    def api_upload_binary(self) -> Response:
        data = self.server.state.media.store_binary(
            self.headers.get("Content-Type", ""), self.body, self._base_url()
        )
        return envelope(200, data)

    def api_create_upload(self) -> Response:
        return envelope(200, self.server.state.media.create_upload(self._json(), self._base_url()))

    # --- storage (no auth, S3/CloudFront-like answers) -------------------------------------
    def storage_put(self, upload_id: str) -> Response:
        headers = {name.lower(): value for name, value in self.headers.items()}
        etag = self.server.state.media.put(
            upload_id, self.query.get("X-Amz-Signature"), headers, self.body
        )
        return Response(200, b"", "text/plain", {"ETag": f'"{etag}"'})

    def storage_media(self, upload_id: str) -> Response:
        upload = self.server.state.media.get(upload_id)
        assert upload.data is not None
        return Response(200, upload.data, upload.content_type)

    def storage_output(self, id: str, index: str, ext: str) -> Response:
        output = self.server.state.output(id, int(index), ext)
        data = self.server.renders.get_or_render(
            (id, int(index)), output.width, output.height, output.lines, output.output_format
        )
        content_type = "image/jpeg" if output.output_format == "jpeg" else "image/png"
        return Response(200, data, content_type, {"Cache-Control": "public, max-age=604800"})

    # --- control (no auth) -----------------------------------------------------------------
    def _control(self, path: str) -> Response:
        handler = CONTROL_ROUTES.get((self.command, path))
        if handler is None:
            return envelope(404, None, f"No control route for {self.command} {path}")
        try:
            return getattr(self, handler)()
        except ApiError as exc:
            return error_response(exc)

    def control_reset(self) -> Response:
        self.server.state.reset()
        self.server.renders.clear()
        return envelope(200, {"reset": True})

    def control_get_config(self) -> Response:
        with self.server.state.lock:
            return envelope(200, self.server.state.config.as_dict())

    def control_config(self) -> Response:
        return envelope(200, self.server.state.update_config(self._json()))

    def control_get_faults(self) -> Response:
        with self.server.state.lock:
            return envelope(200, self.server.state.faults.pending())

    def control_faults(self) -> Response:
        return envelope(200, self.server.state.add_fault(self._json()))

    def control_requests(self) -> Response:
        return envelope(200, self.server.state.requests())

    def control_predictions(self) -> Response:
        return envelope(200, self.server.state.all_predictions())


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never blocks shutdown
    # socketserver's default backlog is 5: with the CPU busy, bursts of new connections
    # overflowed it and the kernel reset them after the request was sent, which a client must
    # read as "may have arrived". The service this stands in for does not reset a burst.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], config: SimulatorConfig, clock: Clock | None = None
    ) -> None:
        super().__init__(address, Handler)
        self.state = State(config, clock)
        self.webhooks = WebhookDispatcher(self.state)
        self.renders = RenderCache()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    # track open connections so stop() can close keep-alive ones too
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Stop serving (call from another thread than serve_forever) and close everything."""
        self.shutdown()
        self.close()

    def close(self) -> None:
        self.webhooks.stop()
        self.renders.stop()
        self.server_close()
        self.close_connections()


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    config: SimulatorConfig | None = None,
    *,
    clock: Clock | None = None,
) -> SimulatorServer:
    """A bound, not yet serving simulator; call serve_forever(). Port 0 picks a free port."""
    return SimulatorServer((host, port), config or SimulatorConfig(), clock)


@dataclass
class RunningSimulator:
    server: SimulatorServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    clock: Clock | None = None,
) -> RunningSimulator:
    """Serve from a daemon thread; for tests. Use .base_url, and .stop() (or `with`)."""
    server = make_server(host, port, config, clock=clock)
    thread = threading.Thread(
        # a short poll interval makes stop() quick (shutdown waits for the next poll)
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        daemon=True,
    )
    thread.name = "wavespeed-simulator"
    thread.start()
    return RunningSimulator(server, thread)
