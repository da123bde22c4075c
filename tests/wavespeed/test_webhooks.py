"""Verifying WaveSpeed's webhook deliveries (wavespeed.webhooks), against the simulator's own
signer (simulator.webhooks.sign, written separately from the app's) and a fixed vector."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from simulator.webhooks import sign as simulator_sign
from wavespeed import webhooks
from wavespeed.models import WebhookReceipt
from wavespeed.webhooks import (
    WebhookMalformed,
    WebhookRejected,
    WebhookReplayed,
    check_signature,
    receive,
)

SECRET = "whsec_0123456789abcdef"
BODY = b'{"id":"p1","model":"kwaivgi/kling-image-o3","status":"completed","outputs":[]}'


def headers(body: bytes = BODY, *, webhook_id: str = "msg_1", ts: int | None = None) -> dict:
    ts = int(time.time()) if ts is None else ts
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": simulator_sign(SECRET, webhook_id, ts, body),
    }


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body_keyed_without_the_prefix():
    expected = hmac.new(
        b"0123456789abcdef", b"msg_1.1700000000." + BODY, hashlib.sha256
    ).hexdigest()
    assert webhooks.sign(SECRET, "msg_1", "1700000000", BODY) == expected
    assert simulator_sign(SECRET, "msg_1", 1700000000, BODY) == "v3," + expected


def test_a_signed_fresh_delivery_is_accepted() -> None:
    sent = headers(ts=1_700_000_000)
    assert check_signature(sent, BODY, secret=SECRET, now=1_700_000_100) == ("msg_1", 1700000000)


def test_one_matching_signature_among_several_is_enough() -> None:
    sent = headers()
    sent["webhook-signature"] = "v3,deadbeef v1,abc " + sent["webhook-signature"]
    check_signature(sent, BODY, secret=SECRET)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_an_unsigned_delivery_is_refused(missing: str) -> None:
    sent = headers()
    del sent[missing]
    with pytest.raises(WebhookRejected, match="unsigned"):
        check_signature(sent, BODY, secret=SECRET)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda h, b: (h, b.replace(b"completed", b"failed")), id="body changed"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_2"}, b), id="id changed"),
        pytest.param(
            lambda h, b: ({**h, "webhook-signature": h["webhook-signature"][3:]}, b),
            id="no version",
        ),
        pytest.param(
            lambda h, b: ({**h, "webhook-signature": "v1," + h["webhook-signature"][3:]}, b),
            id="other version",
        ),
    ],
)
def test_a_bad_signature_is_refused(change) -> None:
    sent, body = change(headers(), BODY)
    with pytest.raises(WebhookRejected, match="bad signature"):
        check_signature(sent, body, secret=SECRET)


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(WebhookRejected, match="bad signature"):
        check_signature(headers(), BODY, secret="whsec_someone-else")


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(offset: int) -> None:
    now = 1_700_000_000
    sent = headers(ts=now + offset)
    with pytest.raises(WebhookRejected, match="too far"):
        check_signature(sent, BODY, secret=SECRET, now=now)
    # within the five minutes it passes
    check_signature(headers(ts=now - 299), BODY, secret=SECRET, now=now)


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    sent = headers()
    sent["webhook-timestamp"] = "yesterday"
    with pytest.raises(WebhookRejected, match="not a number"):
        check_signature(sent, BODY, secret=SECRET)


@pytest.mark.django_db
def test_a_replayed_webhook_id_is_refused_and_an_unreadable_body_is_not_remembered(
    settings,
) -> None:
    settings.WAVESPEED_WEBHOOK_SECRET = SECRET
    bad = b'{"no": "id"}'
    with pytest.raises(WebhookMalformed):
        receive(headers(bad, webhook_id="msg_bad"), bad)
    assert not WebhookReceipt.objects.exists()

    delivery = receive(headers(), BODY)
    assert delivery.prediction.id == "p1" and delivery.prediction.is_completed
    with pytest.raises(WebhookReplayed):
        receive(headers(), BODY)  # the same id, even freshly signed
    assert WebhookReceipt.objects.count() == 1


@pytest.mark.django_db
def test_a_receipt_is_kept_only_while_its_delivery_could_still_be_accepted(settings) -> None:
    """Receipts are written with one INSERT … ON CONFLICT (no savepoint): their time must read
    back as written, so the sweeper forgets the old ones and keeps the fresh."""
    from datetime import timedelta

    from django.utils import timezone

    settings.WAVESPEED_WEBHOOK_SECRET = SECRET
    receive(headers(webhook_id="msg_old"), BODY)
    receive(headers(webhook_id="msg_new"), BODY)
    fresh = WebhookReceipt.objects.get(webhook_id="msg_new").received_at
    assert abs((timezone.now() - fresh).total_seconds()) < 5
    WebhookReceipt.objects.filter(webhook_id="msg_old").update(
        received_at=timezone.now() - timedelta(seconds=2 * webhooks.tolerance_seconds() + 61)
    )

    assert webhooks.forget_old_receipts() == 1
    assert list(WebhookReceipt.objects.values_list("webhook_id", flat=True)) == ["msg_new"]
