"""The batched tick's first statement (is anything due?) and update_returning, directly: an idle
tick claims and asks nothing, a due job is asked about, "due" is by the app's clock as the claim
that follows reads it, and a row from UPDATE … RETURNING has the Python values a query gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generations.models import Generation, Status
from tests.wavespeed.test_batched_polling import submitted
from wavespeed import runner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _batched(settings) -> None:
    settings.POLL_BATCH = True
    settings.POLL_CONCURRENCY = 4


def due_at(generation: Generation, when: datetime) -> None:
    Generation.objects.filter(pk=generation.pk).update(next_step_at=when)


def result_gets(sim) -> int:
    return len([r for r in sim.requests("/result") if r["method"] == "GET"])


def polls(generation: Generation) -> int:
    generation.refresh_from_db()
    return generation.poll_count


def test_an_idle_tick_claims_and_asks_nothing(user, sim, pipeline) -> None:
    generations = submitted(user, pipeline, 2)
    for generation in generations:
        due_at(generation, timezone.now() + timedelta(minutes=5))
    assert not runner._anything_due(timezone.now())

    assert runner.poll_due() == dict.fromkeys(
        ("polled", "ended", "running", "errors", "not_asked"), 0
    )
    assert result_gets(sim) == 0
    assert [polls(g) for g in generations] == [0, 0]
    assert all(g.poll_seq == 0 for g in generations)  # not claimed


def test_a_due_job_is_polled_and_only_it(user, sim, pipeline) -> None:
    sim.configure(latency=30)  # still running when asked
    due, later = submitted(user, pipeline, 2)
    due_at(due, timezone.now() - timedelta(seconds=1))
    due_at(later, timezone.now() + timedelta(minutes=5))
    assert runner._anything_due(timezone.now())

    assert runner.poll_due()["polled"] == 1
    assert result_gets(sim) == 1
    assert (polls(due), polls(later)) == (1, 0)


def test_due_is_by_the_apps_clock_as_the_claim_reads_it(user, sim, pipeline, monkeypatch) -> None:
    # The app's clock an hour ahead of the database's (another machine): a job due in ten
    # minutes by the database is due now by the app, which claims by its own clock.
    sim.configure(latency=30)
    [generation] = submitted(user, pipeline, 1)
    real = timezone.now()
    due_at(generation, real + timedelta(minutes=10))
    monkeypatch.setattr(timezone, "now", lambda: real + timedelta(hours=1))

    assert runner._anything_due(timezone.now())
    assert not runner._anything_due(real)
    assert runner.poll_due()["polled"] == 1
    assert polls(generation) == 1


def test_update_returning_gives_the_values_a_query_gives(user, sim, pipeline) -> None:
    [generation] = submitted(user, pipeline, 1)
    when = timezone.now().replace(microsecond=123456) + timedelta(minutes=3)

    changed = runner.update_returning(
        Generation.objects.filter(pk=generation.pk), next_step_at=when, status=Status.PROCESSING
    )

    assert changed is not None
    fresh = Generation.objects.get(pk=generation.pk)
    assert changed.next_step_at == when and timezone.is_aware(changed.next_step_at)
    assert isinstance(changed.request_payload, dict) and changed.request_payload["prompt"]
    assert isinstance(changed.price_per_image, Decimal)
    for field in Generation._meta.concrete_fields:
        ours, theirs = getattr(changed, field.attname), getattr(fresh, field.attname)
        assert (ours, type(ours)) == (theirs, type(theirs)), field.name
    assert changed._state.adding is False and changed._state.db == "default"
    nothing = runner.update_returning(Generation.objects.filter(pk=-1), status=Status.FAILED)
    assert nothing is None
