"""The whole studio with real parts: the form, the broker, a Celery worker process (with its
scheduler), the simulator over HTTP, storage, and the pages that show the result."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from generations.models import Generation, Status
from tests.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def submit_through_the_form(client, **fields) -> Generation:
    data = {
        "prompt": "a lighthouse in a storm",
        "aspect_ratio": "16:9",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 2,
        **fields,
    }
    response = client.post(reverse("generations:generate"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.latest("created_at")


def status_of(generation: Generation) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation.pk)


def test_a_generation_runs_through_a_real_worker_into_the_gallery(
    client, user, sim, start_worker
) -> None:
    start_worker()
    client.force_login(user)
    generation = submit_through_the_form(client, aspect_ratio="9:16", num_images=2)

    wait_for(lambda: status_of(generation) in ("done", "failed"), timeout=60, what="done")
    generation.refresh_from_db()
    assert generation.status == Status.DONE, generation.error_message

    html = client.get(reverse("gallery:gallery")).content.decode()
    shown = set(re.findall(r"/images/([0-9a-f-]{36})/", html))
    images = list(generation.images.all())
    assert {str(image.uuid) for image in images} <= shown
    for image in images:
        with default_storage.open(image.file.name) as fp, Image.open(fp) as decoded:
            assert decoded.size == (768, 1360)  # 9:16 at 1k, read from the file
        assert (image.width, image.height) == (768, 1360)
        page = client.get(reverse("gallery:image_detail", args=[image.uuid])).content.decode()
        assert "768 × 1360 px" in page
    assert len(sim.submits()) == 1


def test_a_generation_survives_its_worker_being_killed(client, user, sim, start_worker) -> None:
    sim.configure(latency=4.0)
    first = start_worker()
    client.force_login(user)
    generation = submit_through_the_form(client, num_images=1, prompt="survivor")

    wait_for(lambda: status_of(generation) == "processing", timeout=30, what="processing")
    first.kill()
    start_worker()

    wait_for(lambda: status_of(generation) in ("done", "failed"), timeout=60, what="done")
    generation.refresh_from_db()
    assert generation.status == Status.DONE, generation.error_message
    assert generation.images.count() == 1
    assert len(sim.submits()) == 1  # submitted once, whatever happened to the worker
