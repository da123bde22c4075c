"""Uploading references happens before the submit is claimed.

Uploads may take minutes (ten references, 120 s each at worst). The sweeper takes a submit claim
older than SUBMIT_LEASE for a worker that died mid-request and asks the history, which would not
find a request never sent, and the generation would be sent twice or parked.
"""

from __future__ import annotations

import pytest

from generations import jobs, services
from generations.jobs import GENERATION
from generations.models import Generation, Status
from generations.references import reference_create
from generations.services.submission import GenerationParams
from wavespeed import runner

from .reference_images import png

pytestmark = pytest.mark.django_db


def test_references_are_uploaded_while_the_submit_is_unclaimed(
    user, sim, pipeline, monkeypatch
) -> None:
    refs = [
        reference_create(owner=user, data=png((640, 480), colour), name=f"{colour}.png")
        for colour in ("teal", "orange")
    ]
    generation = services.generation_create(
        owner=user,
        params=GenerationParams(prompt="two refs", references=tuple(r.pk for r in refs)),
    )
    claims_seen_by_uploads = []
    upload = jobs.reference_provider_url

    def watching_upload(*, reference):
        claims_seen_by_uploads.append(
            Generation.objects.values_list("submit_claimed_at", flat=True).get(pk=generation.pk)
        )
        return upload(reference=reference)

    monkeypatch.setattr(jobs, "reference_provider_url", watching_upload)
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)

    assert claims_seen_by_uploads == [None, None]
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    assert generation.submit_attempts == 1
    assert len(sim.submits()) == 1


def test_a_second_submit_task_after_the_claim_uploads_nothing_more(user, sim, pipeline) -> None:
    ref = reference_create(owner=user, data=png((640, 480), "navy"), name="navy.png")
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="one ref", references=(ref.pk,))
    )
    runner.submit(GENERATION, generation.pk)
    runner.submit(GENERATION, generation.pk)  # a duplicate message

    uploads = [r for r in sim.requests("/api/v3/media/upload") if r["method"] == "POST"]
    assert len(uploads) == 1
    assert len(sim.submits()) == 1
