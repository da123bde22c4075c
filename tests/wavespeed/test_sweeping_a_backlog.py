"""The sweepers queue a late step again only once its queue has drained: a step that is merely
waiting behind a backlog is never queued twice (issue 13), and one whose message was lost is
still resumed."""

from __future__ import annotations

import pytest

from generations.models import Generation, Status
from generations.services import generation_create
from generations.services.submission import GenerationParams
from generations.services.sweeping import saves_sweep
from generations.tasks import save_generation_outputs
from tests.processes import purge_every_queue
from wavespeed import runner, timing
from wavespeed.tasks import submit_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backlog():
    """`backlog(task)` puts a message for another job in `task`'s queue, as a burst would."""

    def add(task) -> None:
        task.apply_async(args=["generation", 0] if task is submit_job else [0])

    yield add
    purge_every_queue()


def late(generation: Generation, **fields) -> None:
    Generation.objects.filter(pk=generation.pk).update(next_step_at=generation.created_at, **fields)


def test_a_late_submit_behind_a_backlog_is_not_queued_again(user, sim, pipeline, settings, backlog):
    settings.STALE_AFTER_SECONDS = 0
    generation = generation_create(owner=user, params=GenerationParams(prompt="a harbour"))
    pipeline.queued.clear()  # its submit is waiting in the broker, behind others
    late(generation)
    backlog(submit_job)
    assert timing.messages_waiting(submit_job.name) == 1

    assert runner.sweep()["generation_submit"] == 0
    assert pipeline.names() == []

    purge_every_queue()  # the backlog drained, and this submit was not in it: it was lost
    assert runner.sweep()["generation_submit"] == 1
    assert pipeline.names() == ["submit_job"]


def test_a_late_save_behind_a_burst_of_saves_is_not_queued_again(
    user, sim, pipeline, settings, backlog
):
    settings.STALE_AFTER_SECONDS = 0
    generation = generation_create(owner=user, params=GenerationParams(prompt="a harbour"))
    pipeline.queued.clear()
    late(generation, status=Status.SAVING)
    backlog(save_generation_outputs)

    assert saves_sweep()["generation_save"] == 0
    assert pipeline.names() == []

    purge_every_queue()
    assert saves_sweep()["generation_save"] == 1
    assert pipeline.names() == ["save_generation_outputs"]
