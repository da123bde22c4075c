"""The periodic sweeper resumes or ends “Create on Kling” creations whose task was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from elements.creation import ELEMENT_CREATION, GIVE_UP_SECONDS
from elements.models import Creation, Element
from wavespeed import runner

from .test_create_on_kling import create_on_kling, run_element_tasks

pytestmark = pytest.mark.django_db

KLING_ELEMENTS = "/api/v3/kwaivgi/kling-elements"


@pytest.fixture(autouse=True)
def _no_patience(settings) -> None:
    settings.STALE_AFTER_SECONDS = 0


def submits(sim) -> list[dict]:
    return sim.posts(KLING_ELEMENTS)


def test_the_one_beat_entry_sweeps_element_creations_too(settings) -> None:
    from wavespeed.tasks import sweep_jobs

    # The provider's sweepers (notifications to a team's tools have their own, in hooks/).
    provider_apps = {"wavespeed", "generations", "elements"}
    sweeps = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if "sweep" in entry["task"] and entry["task"].split(".")[0] in provider_apps
    ]
    assert sweeps == [sweep_jobs.name]
    assert "element_submit" in runner.sweep()


def overdue(element: Element) -> None:
    Element.objects.filter(pk=element.pk).update(next_step_at=timezone.now() - timedelta(seconds=1))


def test_a_lost_submit_is_queued_again_and_the_element_is_created(
    client, user, sim, pipeline
) -> None:
    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    assert element.next_step_at is not None
    pipeline.queued.clear()  # the message was lost
    overdue(element)

    counts = runner.sweep()  # what the beat entry runs

    assert counts["element_submit"] == 1
    assert pipeline.names() == ["submit_job"]
    element = run_element_tasks(pipeline, element)
    assert element.creation == Creation.DONE and element.kling_element_id
    assert len(submits(sim)) == 1


def test_a_lost_poll_is_queued_again_without_a_second_submit(client, user, sim, pipeline) -> None:
    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    pipeline.run_next()  # submitted; the first poll is queued...
    pipeline.queued.clear()  # ...and lost
    overdue(element)

    assert runner.sweep()["element_follow"] == 1
    assert pipeline.names() == ["follow_job"]
    assert run_element_tasks(pipeline, element).creation == Creation.DONE
    assert len(submits(sim)) == 1


@pytest.mark.parametrize("claimed", [False, True])
def test_a_step_not_yet_due_is_left_alone(client, user, pipeline, claimed) -> None:
    client.force_login(user)
    create_on_kling(client)
    pipeline.queued.clear()
    # Claimed: a worker is uploading and submitting right now.
    Element.objects.update(
        submit_claimed_at=timezone.now() if claimed else None,
        next_step_at=timezone.now() + timedelta(seconds=30),
    )
    assert not any(runner.sweep_kind(ELEMENT_CREATION).values())
    assert pipeline.queued == []
    assert Element.objects.get().creation == Creation.QUEUED


def test_a_submit_claim_is_due_back_only_after_every_upload_and_the_request(settings) -> None:
    from elements.creation import MAX_EXTRA_VIEWS, _submit_lease

    settings.WAVESPEED_UPLOAD_TIMEOUT, settings.WAVESPEED_SUBMIT_TIMEOUT = 120, 60
    assert _submit_lease() == timedelta(seconds=(1 + MAX_EXTRA_VIEWS) * 120 + 60)


def test_a_submit_whose_worker_died_is_failed_not_sent_again(client, user, sim, pipeline) -> None:
    client.force_login(user)
    create_on_kling(client)
    pipeline.queued.clear()
    # Claimed by a worker that died mid-request; its lease ran out.
    lease = ELEMENT_CREATION.timings().submit_lease
    Element.objects.update(submit_claimed_at=timezone.now() - timedelta(seconds=lease + 1))
    overdue(Element.objects.get())

    runner.sweep()

    element = Element.objects.get()
    assert element.creation == Creation.FAILED
    assert "may have reached Kling" in element.creation_error
    assert pipeline.queued == [] and submits(sim) == []


def test_a_creation_past_its_limit_is_failed(client, user, pipeline) -> None:
    client.force_login(user)
    create_on_kling(client)
    pipeline.queued.clear()
    Element.objects.update(created_at=timezone.now() - timedelta(seconds=GIVE_UP_SECONDS + 1))

    counts = runner.sweep_kind(ELEMENT_CREATION)
    assert counts.pop("element_given_up") == 1 and not any(counts.values())

    element = Element.objects.get()
    assert element.creation == Creation.FAILED
    assert "after an hour" in element.creation_error
    assert pipeline.queued == []
