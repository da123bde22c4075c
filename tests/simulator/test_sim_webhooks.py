"""Webhooks: the bare prediction POSTed on completed/failed, signed with the account secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from conftest import Api

from simulator.webhooks import sign


class Receiver:
    """A tiny HTTP server that records what it is sent; answers with `statuses` in turn."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/wavespeed"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def next(self, timeout: float = 5.0) -> tuple[dict[str, str], bytes]:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, written from the docs rather than with simulator code."""
    key = secret.removeprefix("whsec_").encode()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
    scheme, _, given = headers["webhook-signature"].partition(",")
    return scheme == "v3" and hmac.compare_digest(expected, given)


def test_completed_prediction_is_delivered_signed(api: Api, receiver: Receiver) -> None:
    secret = api.http.get("/api/v3/webhook/secret").json()["data"]["secret"]
    created = api.submit_ok({"prompt": "hooked"}, webhook=receiver.url)

    headers, body = receiver.next()
    assert _verify(secret, headers, body)
    assert not _verify(secret + "x", headers, body)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert "data" not in payload and "message" not in payload  # bare, no envelope
    assert payload["id"] == created["id"]
    assert payload["status"] == "completed"
    assert payload["input"] == {"prompt": "hooked"}
    assert payload["outputs"] == api.get(created["id"])["outputs"]
    assert "executionTime" in payload
    assert receiver.received.empty()


def test_failed_prediction_is_delivered(api: Api, receiver: Receiver) -> None:
    api.fault(kind="fail_prediction", code=1200, error="flagged")
    api.submit_ok(webhook=receiver.url)
    _, body = receiver.next()
    payload = json.loads(body)
    assert (payload["status"], payload["code"], payload["error"]) == ("failed", 1200, "flagged")


def test_delivery_is_retried_three_times_with_the_same_id(api: Api) -> None:
    receiver = Receiver(statuses=[500, 503, 500])
    try:
        created = api.submit_ok(webhook=receiver.url)
        ids = {receiver.next()[0]["webhook-id"] for _ in range(3)}
        assert len(ids) == 1
        time.sleep(0.3)
        assert receiver.received.empty()  # best effort: 3 tries, then it gives up
        attempts = next(
            p["_sim"]["webhook_attempts"]
            for p in api.control("predictions")
            if p["id"] == created["id"]
        )
        assert [a["status"] for a in attempts] == [500, 503, 500]
    finally:
        receiver.close()


def test_no_webhook_without_the_query_parameter(api: Api, receiver: Receiver) -> None:
    api.wait(api.submit_ok()["id"])
    time.sleep(0.3)
    assert receiver.received.empty()


def test_bad_webhook_url_is_400(api: Api) -> None:
    response = api.submit(webhook="not a url")
    assert response.status_code == 400
    assert "'webhook'" in response.json()["message"]


def test_sign_matches_the_documented_recipe() -> None:
    body = b'{"id":"abc"}'
    expected = hmac.new(b"s3cret", b"msg_1.1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_s3cret", "msg_1", 1700000000, body) == f"v3,{expected}"


def test_a_lost_webhook_is_never_sent_and_only_one_is_lost(api: Api, receiver: Receiver) -> None:
    api.fault(kind="lose_webhook")
    lost = api.submit_ok({"prompt": "lost"}, webhook=receiver.url)
    assert api.wait(lost["id"])["status"] == "completed"
    time.sleep(0.5)
    assert receiver.received.empty()
    record = next(p["_sim"] for p in api.control("predictions") if p["id"] == lost["id"])
    assert record["webhook_lost"] and record["webhook_attempts"] == []

    sent = api.submit_ok({"prompt": "sent"}, webhook=receiver.url)
    _, body = receiver.next()
    assert json.loads(body)["id"] == sent["id"]
