"""WaveSpeed's webhooks: the URL a submit asks to be called at, and verifying what arrives.

A delivery is a POST of the bare Prediction, signed with the account's webhook secret
(docs/wavespeed.md, "Webhooks"): headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature: v3,<hex>`, the hex HMAC-SHA256 of "{id}.{timestamp}.{raw body}" keyed with
the secret minus its `whsec_` prefix, as UTF-8 text. `receive()` accepts a delivery only when
it is signed, fresh (within WEBHOOK_TOLERANCE_SECONDS of our clock, either way) and its id has
not been seen before; what to do with the prediction is the caller's business.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .client import Prediction, ProviderError, WaveSpeedError, get_client
from .models import WebhookReceipt

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v3"
# The path the receiver answers at (config/urls.py); the submit's `?webhook=` points there.
RECEIVER_PATH = "/hooks/wavespeed/"
# A signature that does not match may mean the secret was rotated: fetch it again, at most this
# often, so forged deliveries cannot make us ask WaveSpeed on every request.
SECRET_REFRESH_SECONDS = 300.0


class WebhookRejected(Exception):
    """A delivery we do not accept; `status` is the HTTP status to answer with."""

    status = 401

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookMalformed(WebhookRejected):
    """Signed and fresh, but its body is not a prediction we can read."""

    status = 400


class WebhookReplayed(WebhookRejected):
    """Signed and fresh, but its webhook-id was accepted before: a retry of a delivery we
    already have, or someone replaying it. Nothing is done with it."""

    status = 200


class SecretUnavailable(Exception):
    """The secret could not be fetched from WaveSpeed: answer so that it delivers again."""


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    timestamp: int
    prediction: Prediction


# --- Settings ----------------------------------------------------------------------------------
def webhook_url() -> str | None:
    """The URL a submit asks WaveSpeed to call, or None when webhooks are off (no
    DARKROOM_PUBLIC_URL: a deployment the provider cannot reach is followed by polling)."""
    public: str = settings.DARKROOM_PUBLIC_URL
    if not public:
        return None
    return public.rstrip("/") + RECEIVER_PATH


def webhooks_enabled() -> bool:
    return webhook_url() is not None


def tolerance_seconds() -> float:
    tolerance: float = settings.WAVESPEED_WEBHOOK_TOLERANCE_SECONDS
    return tolerance


# --- The secret --------------------------------------------------------------------------------
_secret_lock = threading.Lock()
# (base URL, API key) -> (secret, monotonic time it was fetched)
_secrets: dict[tuple[str, str], tuple[str, float]] = {}


def webhook_secret(*, refresh: bool = False) -> str:
    """WAVESPEED_WEBHOOK_SECRET when set; else the account's secret, fetched from WaveSpeed
    once per process (and again on `refresh`, at most every SECRET_REFRESH_SECONDS)."""
    configured: str = settings.WAVESPEED_WEBHOOK_SECRET
    if configured:
        return configured
    key = (str(settings.WAVESPEED_BASE_URL), str(settings.WAVESPEED_API_KEY))
    with _secret_lock:
        cached = _secrets.get(key)
        now = time.monotonic()
        if cached is not None and not (refresh and now - cached[1] >= SECRET_REFRESH_SECONDS):
            return cached[0]
        try:
            secret = get_client().webhook_secret()
        except WaveSpeedError as exc:
            if cached is not None:
                return cached[0]
            raise SecretUnavailable(f"Could not fetch the webhook secret: {exc}") from exc
        _secrets[key] = (secret, now)
        return secret


def forget_secret() -> None:
    """Drop the fetched secrets (tests; a rotated secret is picked up by itself)."""
    with _secret_lock:
        _secrets.clear()


# --- Verifying ---------------------------------------------------------------------------------
def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 WaveSpeed sends after "v3,"."""
    key = secret.removeprefix(SECRET_PREFIX).encode()  # the text itself, not base64-decoded
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _signatures(header: str) -> list[str]:
    """The v3 signatures in the header: "v3,<hex>", several allowed, separated by spaces (as the
    Standard Webhooks scheme WaveSpeed's headers follow allows during a secret rotation)."""
    found = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version == SIGNATURE_VERSION and value:
            found.append(value)
    return found


def check_signature(
    headers: Mapping[str, str], body: bytes, *, secret: str, now: float | None = None
) -> tuple[str, int]:
    """(webhook id, timestamp) of a delivery signed with `secret` and fresh; else raises
    WebhookRejected. Only our clock and the headers are read: nothing is stored."""
    webhook_id = headers.get("webhook-id") or ""
    raw_timestamp = headers.get("webhook-timestamp") or ""
    header = headers.get("webhook-signature") or ""
    if not webhook_id or not raw_timestamp or not header:
        raise WebhookRejected("unsigned: a webhook-id, -timestamp or -signature header is missing")
    if len(webhook_id) > WebhookReceipt.ID_MAX_LENGTH:
        raise WebhookRejected("webhook-id is too long")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookRejected("webhook-timestamp is not a number of seconds") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds():
        raise WebhookRejected("webhook-timestamp is too far from our clock (stale or future)")
    expected = sign(secret, webhook_id, raw_timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in _signatures(header)):
        raise WebhookRejected("bad signature")
    return webhook_id, timestamp


def _remember(webhook_id: str) -> bool:
    """Record the id; False when it was recorded before (a replay). One statement, no savepoint:
    a conflict is not an error, so the caller's transaction goes on (PostgreSQL and SQLite)."""
    table = connection.ops.quote_name(WebhookReceipt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (webhook_id, received_at) VALUES (%s, %s) "
            "ON CONFLICT (webhook_id) DO NOTHING",
            [webhook_id, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        inserted: int = cursor.rowcount
    return inserted == 1


def forget_old_receipts() -> int:
    """Delete receipts older than any delivery we would still accept (the sweeper calls it)."""
    cutoff = timezone.now() - timedelta(seconds=2 * tolerance_seconds() + 60)
    deleted, _ = WebhookReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def receive(headers: Mapping[str, str], body: bytes) -> Delivery:
    """Verify a delivery and record its id. Call inside the transaction that acts on it, so a
    failure after this forgets the id and WaveSpeed's next try is accepted.

    Raises WebhookRejected (unsigned, bad signature, stale, replayed, unreadable) or
    SecretUnavailable."""
    try:
        webhook_id, timestamp = check_signature(headers, body, secret=webhook_secret())
    except WebhookRejected as exc:
        if exc.reason != "bad signature" or settings.WAVESPEED_WEBHOOK_SECRET:
            raise
        # Perhaps the secret was rotated: fetch it again (rate-limited) and check once more.
        webhook_id, timestamp = check_signature(headers, body, secret=webhook_secret(refresh=True))
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        prediction = Prediction.from_json(data)
    except (ValueError, ProviderError) as exc:
        raise WebhookMalformed(f"the body is not a prediction: {exc}") from exc
    if not _remember(webhook_id):
        raise WebhookReplayed("this webhook-id was received before")
    return Delivery(webhook_id=webhook_id, timestamp=timestamp, prediction=prediction)
