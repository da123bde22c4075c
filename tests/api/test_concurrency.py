"""Creates at the same moment, through the API: retries racing with one Idempotency-Key make one
generation and one hold; twenty creates at a cap that allows ten make exactly ten."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from accounts.services import token_create
from generations.models import Generation
from spend.models import Budget, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)


def race(secret: str, bodies: list[dict], keys: list[str | None]) -> list[tuple[int, dict]]:
    start = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = []

    def create(body: dict, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {secret}"}
        if key:
            headers["Idempotency-Key"] = key
        try:
            start.wait()
            response = Client().post(
                "/api/v1/generations", body, content_type="application/json", headers=headers
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=create, args=(body, key))
        for body, key in zip(bodies, keys, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_racing_retries_with_one_key_make_one_generation_and_one_hold(
    django_user_model, pipeline, settings
):
    settings.DARKROOM_API_GENERATIONS_PER_MINUTE = 100
    person = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    secret = token_create(user=person, name="race", scopes=["read", "generate"]).secret
    answers = race(secret, [{"prompt": "one kite"}] * 8, ["row-1"] * 8)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 7 + [201], answers
    assert len({body["uuid"] for _, body in answers}) == 1
    assert Generation.objects.filter(owner=person).count() == 1
    assert LedgerEntry.objects.filter(person=person).count() == 1


def test_twenty_creates_at_a_cap_for_ten_make_ten(django_user_model, pipeline, settings):
    settings.DARKROOM_API_GENERATIONS_PER_MINUTE = 100
    person = django_user_model.objects.create_user("racer", password="pw-racer-1234")
    Budget.objects.create(person=person, monthly_limit=Decimal("0.280"))  # ten 1k images
    secret = token_create(user=person, name="race", scopes=["read", "generate"]).secret
    answers = race(
        secret, [{"prompt": f"kite {n}"} for n in range(20)], [f"row-{n}" for n in range(20)]
    )
    assert sorted(status for status, _ in answers) == [201] * 10 + [422] * 10
    refusals = {body["error"]["code"] for status, body in answers if status == 422}
    assert refusals == {"budget_exceeded"}
    assert Generation.objects.filter(owner=person).count() == 10
