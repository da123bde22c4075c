"""Batched polling: one tick asks WaveSpeed about every due prediction, of every kind, at once,
instead of one Celery task per poll."""

from __future__ import annotations

import pytest
from django.utils import timezone

from generations import services
from generations.models import Generation, Status
from generations.services.enhancing import enhancement_create
from generations.services.submission import GenerationParams
from wavespeed import runner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _batched(settings) -> None:
    settings.POLL_BATCH = True
    settings.POLL_CONCURRENCY = 4


def submitted(user, pipeline, count: int) -> list[Generation]:
    generations = [
        services.generation_create(owner=user, params=GenerationParams(prompt=f"harbour {n}"))
        for n in range(count)
    ]
    while pipeline.queued:
        pipeline.run_next()  # the submits
    return generations


def make_due() -> None:
    Generation.objects.filter(status__in=[Status.SUBMITTED, Status.PROCESSING]).update(
        next_step_at=timezone.now()
    )


def result_gets(sim) -> int:
    return len([r for r in sim.requests("/result") if r["method"] == "GET"])


def test_a_submit_queues_no_poll_task_only_a_due_time(user, sim, pipeline) -> None:
    [generation] = submitted(user, pipeline, 1)
    generation.refresh_from_db()
    assert generation.status == Status.SUBMITTED
    assert pipeline.queued == [] and generation.next_step_at > timezone.now()


def test_one_tick_polls_every_due_prediction_and_records_the_next_polls(
    user, sim, pipeline
) -> None:
    sim.configure(latency=30)  # all still running at the first look
    generations = submitted(user, pipeline, 6)
    make_due()

    counts = runner.poll_due()

    assert counts["polled"] == 6 and counts["running"] == 6
    assert result_gets(sim) == 6
    for generation in Generation.objects.filter(pk__in=[g.pk for g in generations]):
        assert generation.poll_count == 1 and generation.poll_seq == 1
        assert generation.next_step_at > timezone.now()  # its own next poll, not now
    assert runner.poll_due()["polled"] == 0  # nothing is due any more
    assert pipeline.queued == []


def test_ticks_follow_generations_and_an_enhancer_use_to_their_ends(user, sim, pipeline) -> None:
    generations = submitted(user, pipeline, 3)
    enhancement = enhancement_create(owner=user, project=None, text="a kite", style="default")
    pipeline.run_next()  # its submit

    def unfinished() -> int:
        enhancement.refresh_from_db()
        followed = Generation.objects.filter(status__in=[Status.SUBMITTED, Status.PROCESSING])
        return followed.count() + (enhancement.status != "done")

    for _ in range(200):
        if not unfinished():
            break
        make_due()
        enhancement.__class__.objects.filter(pk=enhancement.pk).update(next_step_at=timezone.now())
        runner.poll_due()
    assert not unfinished()
    assert all(Generation.objects.get(pk=g.pk).result_via == "poll" for g in generations)
    # Only saves were queued: no task per poll.
    assert {task.name for task in pipeline.queued} == {"save_generation_outputs"}


def test_a_429_stops_the_ticks_other_requests(user, sim, pipeline, settings) -> None:
    settings.POLL_CONCURRENCY = 1
    sim.configure(latency=30)
    submitted(user, pipeline, 4)
    make_due()
    sim.fault("http", endpoint="result", status=429, retry_after=5, count=1)

    counts = runner.poll_due()

    assert result_gets(sim) == 1
    assert counts["not_asked"] == 3
    waiting = Generation.objects.filter(status=Status.SUBMITTED, poll_errors=0)
    assert waiting.count() == 3  # not asked is not an error
    assert all(g.next_step_at > timezone.now() for g in waiting)


def test_a_tick_leaves_alone_a_job_a_webhook_ended_meanwhile(user, sim, pipeline) -> None:
    """Claimed by the tick, then ended by a webhook before the tick records its next poll."""
    sim.configure(latency=30)
    [generation] = submitted(user, pipeline, 1)
    make_due()
    kind = runner.kind_named("generation")
    [claimed] = runner._claim_due(kind, timezone.now(), 10)
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.FAILED, poll_seq=claimed.poll_seq + 1, error_message="ended by a webhook"
    )

    runner._record_next_polls(kind, [(claimed, 5.0)])

    generation.refresh_from_db()
    assert generation.error_message == "ended by a webhook"
