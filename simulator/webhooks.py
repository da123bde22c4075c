"""Webhook delivery: signed POSTs of the bare Prediction when it completes or fails.

Predictions only progress when something asks (see state.py), so while any prediction with a
webhook is unfinished a small daemon thread asks every WEBHOOK_TICK seconds; it stops when
none is left and is started again by the next submit with a webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from simulator import spec
from simulator.state import State, WebhookJob


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value: "v3," + hex HMAC-SHA256 of "{id}.{ts}.{body}"."""
    key = secret.removeprefix(spec.WEBHOOK_SECRET_PREFIX).encode()  # UTF-8 text, not base64
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return "v3," + hmac.new(key, message, hashlib.sha256).hexdigest()


# webhooks go straight to the receiver, never through an HTTP(S)_PROXY from the environment
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post_once(job: WebhookJob, secret: str) -> dict[str, Any]:
    timestamp = int(time.time())
    request = urllib.request.Request(
        job.url,
        data=job.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": job.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, job.webhook_id, timestamp, job.body),
        },
    )
    try:
        with _opener.open(request, timeout=spec.WEBHOOK_TIMEOUT) as response:
            response.read()
            return {"status": response.status, "ok": 200 <= response.status < 300}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "ok": False}
    except (OSError, ValueError) as exc:
        return {"status": None, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


class WebhookDispatcher:
    def __init__(self, state: State) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def wake(self) -> None:
        """Call after registering a prediction with a webhook: makes sure someone is ticking."""
        with self._lock:
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(
                    target=self._tick_loop, name="sim-webhook-ticker", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _tick_loop(self) -> None:
        while not self._stopped.wait(spec.WEBHOOK_TICK):
            for job in self._state.due_webhooks():
                threading.Thread(
                    target=self._deliver, args=(job,), name="sim-webhook", daemon=True
                ).start()
            with self._lock:  # decide to exit under the lock that wake() takes: no lost wake
                if not self._state.webhooks_pending():
                    self._thread = None
                    return
        with self._lock:
            self._thread = None

    def _deliver(self, job: WebhookJob) -> None:
        for attempt in range(spec.WEBHOOK_TRIES):
            result = _post_once(job, self._state.webhook_secret())
            self._state.record_webhook_attempt(job.prediction_id, {"url": job.url, **result})
            if result["ok"] or self._stopped.is_set():
                return
            if attempt < len(spec.WEBHOOK_BACKOFF):
                time.sleep(spec.WEBHOOK_BACKOFF[attempt])
