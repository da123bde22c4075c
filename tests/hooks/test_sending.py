"""Signing and the host policy of outgoing notifications, against a real local receiver."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from hooks import sending

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def documented_verify() -> Any:
    """The `verify` function exactly as docs/notifications.md shows it."""
    [snippet] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(DOC), "exec"), namespace)  # our own documentation
    return namespace["verify"]


def post(receiver, *, url: str | None = None, allow_private: bool = True, secret: str = "s3cret"):
    body = sending.body_of({"id": "e1", "type": "endpoint.test", "data": {"a": "é"}})
    headers = sending.signed_headers(secret=secret, event_id="e1", event="endpoint.test", body=body)
    outcome = sending.send(
        url=url or receiver.url, body=body, headers=headers, allow_private=allow_private
    )
    return outcome, body


def test_the_documented_snippet_verifies_a_delivery(receiver) -> None:
    outcome, body = post(receiver)
    assert outcome.ok and outcome.status_code == 200
    [got] = receiver.received
    assert got.body == body
    assert got.headers["Darkroom-Event-Id"] == "e1"
    assert got.headers["Darkroom-Event"] == "endpoint.test"
    verify = documented_verify()
    assert verify("s3cret", got.body, got.headers["Darkroom-Signature"])


def test_the_snippet_refuses_a_wrong_secret_a_changed_body_and_an_old_timestamp(
    receiver,
) -> None:
    post(receiver)
    [got] = receiver.received
    verify = documented_verify()
    header = got.headers["Darkroom-Signature"]
    assert not verify("other", got.body, header)
    assert not verify("s3cret", got.body + b" ", header)
    old = int(time.time()) - 600
    stale = f"t={old},v1={sending.signature('s3cret', old, got.body)}"
    assert not verify("s3cret", got.body, stale)
    assert not verify("s3cret", got.body, "garbage")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://localhost/hook",
    ],
)
def test_private_addresses_are_refused_for_good(url) -> None:
    outcome = sending.send(url=url, body=b"{}", headers={}, allow_private=False)
    assert not outcome.ok and outcome.permanent
    assert "private address" in outcome.error


def test_a_name_resolving_to_loopback_is_refused_and_nothing_arrives(receiver, monkeypatch) -> None:
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.com":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    outcome, _ = post(
        receiver, url=f"https://hooks.example.com:{receiver.port}/hook", allow_private=False
    )
    assert outcome.permanent and "private address" in outcome.error
    assert receiver.received == []


def test_it_connects_to_the_address_it_checked_keeping_the_host_name(receiver, monkeypatch) -> None:
    """The name is resolved once: the connection goes to that address (a second lookup would
    fail here), with the name in the Host header."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def once(host, *args, **kwargs):
        if host == "receiver.test":
            lookups.append(host)
            if len(lookups) > 1:
                raise socket.gaierror("resolved twice")
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", once)
    outcome, _ = post(receiver, url=f"http://receiver.test:{receiver.port}/hook")
    assert outcome.ok, outcome.error
    assert receiver.received[0].headers["Host"] == f"receiver.test:{receiver.port}"
    assert lookups == ["receiver.test"]


def test_plain_http_and_credentials_are_refused() -> None:
    assert sending.send(
        url="http://hooks.example.com/", body=b"{}", headers={}, allow_private=False
    ).permanent
    outcome = sending.send(
        url="https://user:pw@hooks.example.com/", body=b"{}", headers={}, allow_private=True
    )
    assert outcome.permanent and "password" in outcome.error


def test_a_redirect_is_not_followed(receiver) -> None:
    receiver.status = 302
    receiver.answer_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    outcome, _ = post(receiver)
    assert not outcome.ok and not outcome.permanent
    assert outcome.status_code == 302
    assert "not followed" in outcome.error
    assert len(receiver.received) == 1


def test_an_error_answer_is_a_failure_worth_retrying(receiver) -> None:
    receiver.status = 503
    outcome, _ = post(receiver)
    assert not outcome.ok and not outcome.permanent and outcome.status_code == 503
    assert outcome.duration_ms >= 0


def test_a_closed_port_is_a_failure_worth_retrying() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = sending.send(
        url=f"http://127.0.0.1:{port}/", body=b"{}", headers={}, allow_private=True
    )
    assert not outcome.ok and not outcome.permanent and outcome.status_code is None
