"""The per-token rate limits under real concurrency: the app as an HTTP server (pytest-django's
live_server, a thread per request), requests fired at the same moment from threads with httpx.
Exactly `limit` get through in a window, the rest are 429 with a Retry-After in whole seconds and
the one error shape, and once that wait is over a request goes through again."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from accounts.services import token_create
from generations.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)

# Short windows, so the test can wait one out; a burst starts at the beginning of a window, so
# it never straddles two (it takes well under a second).
WINDOW = 6


def at_window_start() -> None:
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)


def burst(url: str, count: int, send) -> list[httpx.Response]:
    start = threading.Barrier(count)
    answers: list[httpx.Response] = []
    failures: list[BaseException] = []

    def one(n: int) -> None:
        try:
            with httpx.Client(timeout=30) as client:
                start.wait()
                answers.append(send(client, url, n))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(answers) == count
    return answers


def assert_refused_over(response: httpx.Response, what: str) -> None:
    assert response.status_code == 429
    wait = response.headers["Retry-After"]
    assert wait.isdigit() and 0 < int(wait) <= WINDOW, wait
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "rate_limited"
    assert what in body["error"]["message"]
    assert body["error"]["field_errors"] == {}


@pytest.fixture
def secret(django_user_model) -> str:
    person = django_user_model.objects.create_user("burst", password="pw-burst-1234")
    return token_create(user=person, name="burst", scopes=["read", "generate"]).secret


def test_a_burst_of_requests_gets_exactly_the_limit_through(live_server, secret, settings):
    settings.DARKROOM_API_RATE_WINDOW = WINDOW
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 5
    headers = {"Authorization": f"Bearer {secret}"}

    def quote(client: httpx.Client, url: str, n: int) -> httpx.Response:
        return client.get(url, headers=headers)

    url = f"{live_server.url}/api/v1/quote"
    at_window_start()
    answers = burst(url, 16, quote)
    assert sorted(r.status_code for r in answers) == [200] * 5 + [429] * 11
    for refused in (r for r in answers if r.status_code == 429):
        assert_refused_over(refused, "requests")
    wait = max(int(r.headers["Retry-After"]) for r in answers if r.status_code == 429)
    time.sleep(wait)
    assert httpx.get(url, headers=headers, timeout=30).status_code == 200


def test_a_burst_of_creates_gets_exactly_the_generation_limit_through(
    live_server, secret, settings, pipeline
):
    settings.DARKROOM_API_RATE_WINDOW = WINDOW
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 100
    settings.DARKROOM_API_GENERATIONS_PER_MINUTE = 3

    def create(client: httpx.Client, url: str, n: int) -> httpx.Response:
        return client.post(
            url,
            json={"prompt": f"kite {n}"},
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"kite-{n}"},
        )

    url = f"{live_server.url}/api/v1/generations"
    at_window_start()
    answers = burst(url, 10, create)
    assert sorted(r.status_code for r in answers) == [201] * 3 + [429] * 7
    for refused in (r for r in answers if r.status_code == 429):
        assert_refused_over(refused, "generations")
    assert Generation.objects.count() == 3
    wait = max(int(r.headers["Retry-After"]) for r in answers if r.status_code == 429)
    time.sleep(wait)
    again = httpx.post(
        url,
        json={"prompt": "kite again"},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert again.status_code == 201
    assert Generation.objects.count() == 4
