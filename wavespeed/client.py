"""The one WaveSpeed AI client: every call to the provider goes through here.

Follows `docs/wavespeed.md`: Bearer auth, the `{code, message, data}` envelope (an HTTP 200
whose `code` is not 200 is an error too), typed Predictions, and errors by cause, each saying
whether a retry can help (`permanent`) and whether a request may have reached the provider
(`maybe_sent`), which decides whether a submit may be sent again.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "timeout", "deleted"})
# Failure codes of a prediction that may succeed on a new try; 1xxx codes need a change by
# the user (docs/wavespeed.md).
RETRYABLE_FAILURE_CODES = frozenset({5000, 5003, 5004})


# --- Errors -----------------------------------------------------------------------------------
class WaveSpeedError(Exception):
    """A call to WaveSpeed did not give an answer we can use."""

    kind = "provider"
    permanent = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        # True when the request may have reached the provider (a timeout after sending, a
        # dropped connection, a 5xx): a submit with that fate must not be blindly sent again.
        self.maybe_sent = maybe_sent


class AuthError(WaveSpeedError):
    kind = "auth"
    permanent = True


class NoBalanceError(WaveSpeedError):
    kind = "balance"
    permanent = True


class InvalidRequestError(WaveSpeedError):
    kind = "invalid"
    permanent = True


class NotFoundError(WaveSpeedError):
    kind = "not_found"
    permanent = True


class RateLimitError(WaveSpeedError):
    kind = "rate_limit"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderError(WaveSpeedError):
    """A 5xx answer, or an answer we cannot read."""

    kind = "provider"


class NetworkError(WaveSpeedError):
    kind = "network"


# --- Typed answers ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    id: str
    model: str
    status: str
    outputs: list[Any] = field(default_factory=list)
    has_nsfw_contents: list[bool] = field(default_factory=list)
    created_at: datetime | None = None
    error: str = ""
    error_code: int | None = None
    inference_ms: int | None = None
    input: dict[str, Any] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prediction:
        try:
            timings = data.get("timings") or {}
            code = data.get("code")
            return cls(
                id=str(data["id"]),
                model=str(data.get("model") or ""),
                status=str(data["status"]),
                outputs=list(data.get("outputs") or []),
                has_nsfw_contents=[bool(x) for x in data.get("has_nsfw_contents") or []],
                created_at=_parse_time(data.get("created_at")),
                error=str(data.get("error") or ""),
                error_code=int(code)
                if isinstance(code, int | str) and str(code).isdigit()
                else None,
                inference_ms=_int_or_none(timings.get("inference")),
                input=data.get("input") if isinstance(data.get("input"), dict) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"WaveSpeed sent a prediction we cannot read: {exc!r}") from exc


@dataclass(frozen=True)
class UploadedMedia:
    download_url: str
    filename: str = ""
    size: int | None = None


@dataclass(frozen=True)
class HistoryPage:
    page: int
    total: int
    items: list[Prediction]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or response.reason_phrase)
    return response.reason_phrase


# --- The client -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 30.0
    submit: float = 60.0
    upload: float = 120.0
    # The longest wait for one of the pool's connections: short, and counted in the submit
    # lease, so a claimed submit never waits past it for a connection (a wait that ends in
    # PoolTimeout sent nothing, and is retried as such).
    pool: float = 5.0


class WaveSpeedClient:
    """A pooled httpx client for one API key. Safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeouts: Timeouts | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "darkroom/0.1"},
            timeout=httpx.Timeout(
                self.timeouts.read, connect=self.timeouts.connect, pool=self.timeouts.pool
            ),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    # Predictions
    def submit(
        self, model: str, payload: dict[str, Any], *, webhook: str | None = None
    ) -> Prediction:
        """Submit a task. Never retried here: WaveSpeed has no idempotency key."""
        params = {"webhook": webhook} if webhook else None
        data = self._call(
            "POST", f"/api/v3/{model}", json=payload, params=params, timeout=self.timeouts.submit
        )
        return Prediction.from_json(data)

    def get_result(self, prediction_id: str) -> Prediction:
        return Prediction.from_json(
            self._call("GET", f"/api/v3/predictions/{prediction_id}/result")
        )

    def history(
        self,
        *,
        page: int = 1,
        page_size: int = 100,
        model: str | None = None,
        status: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> HistoryPage:
        body: dict[str, Any] = {"page": page, "page_size": min(page_size, 100)}
        if model:
            body["model"] = model
        if status:
            body["status"] = status
        if created_after:
            body["created_after"] = created_after.isoformat()
        if created_before:
            body["created_before"] = created_before.isoformat()
        data = self._call("POST", "/api/v3/predictions", json=body)
        items = [Prediction.from_json(item) for item in data.get("items") or []]
        return HistoryPage(
            page=int(data.get("page") or page), total=int(data.get("total") or 0), items=items
        )

    def delete(self, ids: list[str]) -> int:
        data = self._call("POST", "/api/v3/predictions/delete", json={"ids": ids})
        return int(data.get("deleted_count") or 0)

    def balance(self) -> Decimal:
        data = self._call("GET", "/api/v3/balance")
        return Decimal(str(data.get("balance")))

    def webhook_secret(self) -> str:
        """The account's webhook signing secret. The answer's shape is not documented; the
        secret is read from `data.secret`, as third parties do (docs/wavespeed.md)."""
        data = self._call("GET", "/api/v3/webhook/secret")
        secret = data.get("secret") if isinstance(data, dict) else None
        if not isinstance(secret, str) or not secret:
            raise ProviderError("WaveSpeed sent no webhook secret")
        return secret

    # Media
    def upload_binary(self, filename: str, content: bytes, content_type: str) -> UploadedMedia:
        data = self._call(
            "POST",
            "/api/v3/media/upload/binary",
            files={"file": (filename, content, content_type)},
            timeout=self.timeouts.upload,
        )
        return UploadedMedia(
            download_url=str(data["download_url"]),
            filename=str(data.get("filename") or filename),
            size=_int_or_none(data.get("size")),
        )

    # Transport
    def _call(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(
                timeout, connect=self.timeouts.connect, pool=self.timeouts.pool
            )
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the provider.
            raise NetworkError(f"Could not connect to WaveSpeed: {exc}", maybe_sent=False) from exc
        except httpx.TransportError as exc:
            # Read timeouts, dropped connections: the request may have been processed.
            raise NetworkError(
                f"No answer from WaveSpeed ({type(exc).__name__})", maybe_sent=True
            ) from exc
        return self._unwrap(response)

    @staticmethod
    def _unwrap(response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 400:
            message = _error_text(response)
            raise _error_for_status(status, message, response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                "WaveSpeed answered with something that is not JSON", status_code=status
            ) from exc
        if not isinstance(body, dict):
            raise ProviderError("WaveSpeed answered with an unexpected shape", status_code=status)
        code = body.get("code", 200)
        if code != 200:
            # An HTTP 200 carrying an error code in the envelope.
            message = str(body.get("message") or body.get("error") or "unknown error")
            raise _error_for_status(int(code) if str(code).isdigit() else 500, message, response)
        return body.get("data") or {}


def _error_for_status(status: int, message: str, response: httpx.Response) -> WaveSpeedError:
    text = f"WaveSpeed {status}: {message}"
    lowered = message.lower()
    if status == 401 or status == 403:
        return AuthError(
            f"WaveSpeed rejected the API key ({status}: {message})", status_code=status
        )
    # [inferred] WaveSpeed does not document the status for an empty balance: 402, or any
    # error whose message speaks of the balance, means "top up your account".
    if status == 402 or ("balance" in lowered and status < 500):
        return NoBalanceError(
            f"The WaveSpeed account has no balance left ({message})", status_code=status
        )
    if status == 429:
        return RateLimitError(text, retry_after=_retry_after(response), status_code=status)
    if status == 404:
        return NotFoundError(text, status_code=status)
    if 400 <= status < 500:
        return InvalidRequestError(text, status_code=status)
    # A 5xx may come after the provider acted on the request, except a 503: the service (or
    # the load balancer in front of it) refused to take it, so nothing was created [inferred].
    return ProviderError(text, status_code=status, maybe_sent=status != 503)


# --- One pooled client per process ------------------------------------------------------------
_lock = threading.Lock()
_clients: dict[tuple[int, str, str, Timeouts], WaveSpeedClient] = {}


def get_client() -> WaveSpeedClient:
    """The process's pooled client, built from settings (rebuilt after a fork)."""
    from django.conf import settings

    timeouts = Timeouts(
        connect=settings.WAVESPEED_CONNECT_TIMEOUT,
        read=settings.WAVESPEED_READ_TIMEOUT,
        submit=settings.WAVESPEED_SUBMIT_TIMEOUT,
        upload=settings.WAVESPEED_UPLOAD_TIMEOUT,
    )
    key = (os.getpid(), settings.WAVESPEED_BASE_URL, settings.WAVESPEED_API_KEY, timeouts)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = WaveSpeedClient(
                base_url=settings.WAVESPEED_BASE_URL,
                api_key=settings.WAVESPEED_API_KEY,
                timeouts=timeouts,
            )
            _clients[key] = client
        return client
