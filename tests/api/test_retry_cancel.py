"""Retrying a failed generation and cancelling a queued one through the API."""

from __future__ import annotations

from django.utils import timezone

from audit.models import Action, Entry
from generations import state
from generations.models import ErrorKind, Generation, Status
from spend.models import EntryKind, LedgerEntry

V1 = "/api/v1"


def _create(api, world, as_="alice"):
    body = {"prompt": "a harbour at dawn", "project": str(world.project.uuid), "num_images": 2}
    response = api.post(f"{V1}/generations", body, as_=as_)
    assert response.status_code == 201, response.content
    return Generation.objects.get(uuid=response.json()["uuid"])


def test_a_queued_generation_is_cancelled_and_its_hold_freed(api, world, pipeline):
    generation = _create(api, world)
    assert api.post(f"{V1}/generations/{generation.uuid}/cancel", {}, as_="bob").status_code == 403
    response = api.post(f"{V1}/generations/{generation.uuid}/cancel", {})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "failed"
    assert response.json()["failure"]["kind"] == ErrorKind.CANCELLED
    generation.refresh_from_db()
    assert generation.status == Status.FAILED and generation.finished_at is not None
    kinds = sorted(LedgerEntry.objects.filter(generation=generation).values_list("kind", flat=True))
    assert kinds == sorted([EntryKind.HOLD, EntryKind.RELEASE])
    entry = Entry.objects.get(action=Action.GENERATION_FAILED)
    assert entry.actor_name == "alice" and "Cancelled by alice" in entry.reason
    again = api.post(f"{V1}/generations/{generation.uuid}/cancel", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_queued"
    # The submit queued before the cancel finds nothing to send.
    pipeline.run_next()
    assert Generation.objects.get(pk=generation.pk).provider_id is None


def test_a_generation_whose_submit_is_under_way_is_not_cancelled(api, world, pipeline):
    generation = _create(api, world)
    Generation.objects.filter(pk=generation.pk).update(submit_claimed_at=timezone.now())
    response = api.post(f"{V1}/generations/{generation.uuid}/cancel", {})
    assert response.status_code == 409
    assert Generation.objects.get(pk=generation.pk).status == Status.QUEUED
    assert not LedgerEntry.objects.filter(generation=generation, kind=EntryKind.RELEASE).exists()


def test_a_failed_generation_is_retried_as_a_new_one(api, world, pipeline):
    generation = _create(api, world)
    done = api.post(f"{V1}/generations/{generation.uuid}/retry", {})
    assert done.status_code == 409 and done.json()["error"]["code"] == "not_failed"
    state.fail(generation.pk, kind=ErrorKind.PROVIDER, message="The provider broke.")
    assert api.post(f"{V1}/generations/{generation.uuid}/retry", {}, as_="carol").status_code == 403
    response = api.post(f"{V1}/generations/{generation.uuid}/retry", {}, as_="bob")
    assert response.status_code == 201, response.content
    retried = Generation.objects.get(uuid=response.json()["uuid"])
    assert retried.pk != generation.pk and retried.owner == world.users["bob"]
    assert (retried.prompt, retried.num_images, retried.project) == (
        "a harbour at dawn",
        2,
        world.project,
    )
    assert retried.status == Status.QUEUED
    assert api.post(f"{V1}/generations/{generation.uuid}/retry", {}, as_="dave").status_code == 404


def test_a_retry_sent_again_with_its_key_makes_one_new_run(api, world, pipeline):
    generation = _create(api, world)
    state.fail(generation.pk, kind=ErrorKind.PROVIDER, message="The provider broke.")
    path = f"{V1}/generations/{generation.uuid}/retry"
    key = {"Idempotency-Key": "retry-row-3"}
    first = api.post(path, {}, headers=key)
    again = api.post(path, {}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["uuid"] == again.json()["uuid"]
    assert Generation.objects.filter(prompt="a harbour at dawn").count() == 2  # failed + retry
    # The same key on another request is refused, as on a create.
    other = api.post(f"{V1}/generations", {"prompt": "a new one"}, headers=key)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
