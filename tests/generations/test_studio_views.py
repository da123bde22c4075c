"""The studio's views: Generate through htmx keeps the form, runs poll for themselves, Run again
and Retry, deleting with Undo, and the poll behind the tab title and the toasts."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from gallery.services.sharing import share_create
from gallery.services.trash import images_trash
from generations.models import ErrorKind, Generation, Status
from generations.runs import run_of
from spend.models import Budget
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
FORM = {
    "prompt": "neon alley in the rain",
    "aspect_ratio": "21:9",
    "resolution": "2k",
    "result_type": "single",
    "num_images": 3,
}


def failed_generation(owner, **fields) -> Generation:
    image = make_image(owner, prompt="a lighthouse at dusk", aspect_ratio="2:3", num_images=2)
    generation = image.generation
    image.delete()
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.FAILED,
        error_kind=ErrorKind.PREDICTION,
        error_message="WaveSpeed could not make the images (code 1001): content flagged",
        cost=0,
        **fields,
    )
    generation.refresh_from_db()
    return generation


# --- Generate ----------------------------------------------------------------------------------


def test_generate_through_htmx_answers_with_the_new_run_and_leaves_the_form(
    client, user, pipeline
) -> None:
    client.force_login(user)
    response = client.post(reverse("generations:generate"), FORM, headers=HTMX)
    generation = Generation.objects.get()
    assert (generation.prompt, generation.aspect_ratio, generation.num_images) == (
        "neon alley in the rain",
        "21:9",
        3,
    )
    html = response.content.decode()
    assert f'id="run-{generation.uuid}"' in html
    assert html.count('class="placeholder r-21-9"') == 3
    assert "Sending to WaveSpeed" in html
    assert 'id="generate-form"' not in html  # the form in the page keeps what it holds
    assert json.loads(response["HX-Trigger"]) == {
        "darkroom:run-started": {"uuid": str(generation.uuid)}
    }


def test_generate_without_javascript_comes_back_with_the_form_filled(
    client, user, pipeline
) -> None:
    client.force_login(user)
    response = client.post(reverse("generations:generate"), FORM)
    generation = Generation.objects.get()
    assert response["Location"] == reverse("generations:generate") + f"?again={generation.uuid}"
    html = client.get(response["Location"]).content.decode()
    assert "neon alley in the rain</textarea>" in html
    assert 'value="21:9" selected' in html
    assert 'name="num_images" value="3"' in html
    assert re.search(r'name="resolution" value="2k"[^>]*checked', html)
    assert f'id="run-{generation.uuid}"' in html


def test_an_invalid_generate_through_htmx_puts_the_form_back_with_its_errors(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"), {**FORM, "num_images": 12}, headers=HTMX
    )
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#generate-form", "outerHTML")
    html = response.content.decode()
    assert 'id="generate-form"' in html
    assert 'id="runs"' not in html
    assert "Kling Image O3 makes at most 9 images per run." in html
    assert "neon alley in the rain" in html
    assert not Generation.objects.exists()


def test_reuse_settings_gets_the_form_alone_filled_with_the_run(client, user) -> None:
    image = make_image(user, prompt="a paper boat", aspect_ratio="3:2", num_images=2)
    client.force_login(user)
    response = client.get(
        reverse("generations:generate"),
        {"again": str(image.generation.uuid)},
        headers={**HTMX, "HX-Target": "generate-form"},
    )
    html = response.content.decode()
    assert 'id="generate-form"' in html
    assert "a paper boat</textarea>" in html
    assert 'value="3:2" selected' in html
    assert 'id="runs"' not in html


# --- A run's card ------------------------------------------------------------------------------


def test_a_running_card_is_answered_204_while_nothing_changes(client, user) -> None:
    generation = failed_generation(user)
    Generation.objects.filter(pk=generation.pk).update(status=Status.PROCESSING, error_kind="")
    generation.refresh_from_db()
    client.force_login(user)
    url = reverse("generations:run", args=[generation.uuid])
    first = client.get(url, headers=HTMX)
    assert first.status_code == 200
    assert 'hx-trigger="every 1500ms"' in first.content.decode()
    token = run_of(Generation.objects.get(pk=generation.pk)).token
    assert client.get(url, {"seen": token}, headers=HTMX).status_code == 204
    assert client.get(url, {"seen": "stale"}, headers=HTMX).status_code == 200


def test_a_final_card_ends_the_polling(client, user) -> None:
    image = make_image(user)
    client.force_login(user)
    url = reverse("generations:run", args=[image.generation.uuid])
    response = client.get(url, {"seen": "whatever"}, headers=HTMX)
    assert response.status_code == 286
    html = response.content.decode()
    assert "hx-trigger" not in html.split(">", 2)[1]  # the card itself no longer polls
    assert "Reuse settings" in html and "Run again" in html


def test_a_failed_card_says_what_happened_and_offers_retry(client, user) -> None:
    generation = failed_generation(user)
    client.force_login(user)
    html = client.get(reverse("generations:run", args=[generation.uuid])).content.decode()
    assert "The model could not make these images." in html
    assert "Nothing was charged." in html
    assert "content flagged" in html
    assert ">Retry</button>" in html.replace("</svg> ", "</svg>")


# --- Run again and Retry -------------------------------------------------------------------------


def test_retry_makes_a_new_run_with_the_same_parameters(client, user, pipeline) -> None:
    source = failed_generation(user)
    client.force_login(user)
    response = client.post(
        reverse("generations:generation_again", args=[source.uuid]), headers=HTMX
    )
    new = Generation.objects.exclude(pk=source.pk).get()
    assert response.status_code == 200
    assert f'id="run-{new.uuid}"' in response.content.decode()
    assert (new.prompt, new.aspect_ratio, new.num_images, new.resolution, new.owner) == (
        source.prompt,
        source.aspect_ratio,
        source.num_images,
        source.resolution,
        user,
    )
    assert new.status == Status.QUEUED
    assert new.quoted_cost == new.price_per_image * 2  # a new quote, held again


def test_run_again_without_javascript_comes_back_to_the_form(client, user, pipeline) -> None:
    image = make_image(user, prompt="a paper boat")
    client.force_login(user)
    response = client.post(reverse("generations:generation_again", args=[image.generation.uuid]))
    new = Generation.objects.exclude(pk=image.generation_id).get()
    assert response["Location"] == reverse("generations:generate") + f"?again={new.uuid}"


def test_run_again_is_refused_over_budget_and_says_so(client, user, pipeline) -> None:
    source = failed_generation(user)
    Budget.objects.create(person=user, monthly_limit=Decimal("0.01"))
    client.force_login(user)
    response = client.post(
        reverse("generations:generation_again", args=[source.uuid]), headers=HTMX
    )
    assert response["HX-Retarget"] == "#studio-notice"
    assert "Could not run it again" in response.content.decode()
    assert Generation.objects.count() == 1


def test_a_viewer_cannot_run_a_project_run_again_in_that_project(
    client, user, outsider, pipeline
) -> None:
    project = make_project(user, "Harbour")
    add_member(project, outsider, "viewer")
    image = make_image(user, project=project)
    client.force_login(outsider)
    response = client.post(
        reverse("generations:generation_again", args=[image.generation.uuid]), headers=HTMX
    )
    assert "you cannot generate in the project Harbour" in response.content.decode()
    assert Generation.objects.count() == 1


# --- Delete with Undo ----------------------------------------------------------------------------


def test_deleting_a_runs_image_offers_undo(client, user) -> None:
    image = make_image(user)
    client.force_login(user)
    response = client.post(reverse("gallery:image_trash", args=[image.uuid]), headers=HTMX)
    image.refresh_from_db()
    assert image.deleted_at is not None
    html = response.content.decode()
    assert "In the trash" in html and "Undo" in html
    assert reverse("gallery:image_restore", args=[image.uuid]) in html

    response = client.post(reverse("gallery:image_restore", args=[image.uuid]), headers=HTMX)
    image.refresh_from_db()
    assert image.deleted_at is None
    assert 'class="run-tile"' in response.content.decode()


def test_deleting_a_shared_image_says_its_link_stopped_and_undo_says_it_stays_off(
    client, user
) -> None:
    image = make_image(user)
    share_create(user=user, image=image, expires_in_days=None, show_prompt=False)
    client.force_login(user)
    response = client.post(reverse("gallery:image_trash", args=[image.uuid]), headers=HTMX)
    assert "Its share link stopped working." in response.content.decode()

    response = client.post(reverse("gallery:image_restore", args=[image.uuid]), headers=HTMX)
    html = response.content.decode()
    assert 'class="run-tile"' in html
    assert 'id="studio-notice"' in html and 'hx-swap-oob="true"' in html
    assert "1 share link revoked when it went to the trash stays revoked" in html


def test_deleting_without_javascript_goes_back(client, user) -> None:
    image = make_image(user)
    client.force_login(user)
    response = client.post(reverse("gallery:image_trash", args=[image.uuid]), {"next": "/gallery/"})
    assert response["Location"] == "/gallery/"


# --- Use as reference, from a run ----------------------------------------------------------------


def test_use_as_reference_through_htmx_answers_with_the_tile(client, user) -> None:
    from tests.generations.test_references_pages import big_image

    image = big_image(user)
    client.force_login(user)
    response = client.post(
        reverse("generations:image_use_as_reference", args=[image.uuid]), headers=HTMX
    )
    html = response.content.decode()
    assert 'class="reference-tile"' in html
    assert 'name="references"' in html


# --- The poll behind the title and the toasts ----------------------------------------------------


def test_the_active_poll_reports_runs_in_flight_and_how_watched_ones_ended(
    client, user, outsider
) -> None:
    running = failed_generation(user)
    Generation.objects.filter(pk=running.pk).update(status=Status.PROCESSING)
    done = make_image(user, prompt="finished kite").generation
    theirs = make_image(outsider).generation
    client.force_login(user)
    url = reverse("generations:runs_active")
    watch = ",".join(str(u) for u in (done.uuid, theirs.uuid, "not-a-uuid"))
    runs = {run["uuid"]: run for run in client.get(url, {"watch": watch}).json()["runs"]}
    assert set(runs) == {str(running.uuid), str(done.uuid)}  # never someone else's
    assert runs[str(running.uuid)]["state"] == "active"
    finished = runs[str(done.uuid)]
    assert finished["state"] == "done"
    assert finished["prompt"] == "finished kite"
    assert finished["url"] == reverse("generations:generation_detail", args=[done.uuid])
    image = done.images.get()
    assert finished["thumb"] == reverse("gallery:image_thumbnail", args=[image.uuid, 256])


def test_the_active_poll_is_one_query_while_nothing_finished(
    client, user, django_assert_max_num_queries
) -> None:
    running = failed_generation(user)
    Generation.objects.filter(pk=running.pk).update(status=Status.PROCESSING)
    client.force_login(user)
    client.get(reverse("generations:runs_active"))  # the session and user, loaded once
    with django_assert_max_num_queries(3):  # session, user, and the one query
        response = client.get(reverse("generations:runs_active"))
    assert [run["state"] for run in response.json()["runs"]] == ["active"]


def test_pages_poll_only_after_the_person_started_a_run(client, user, pipeline) -> None:
    client.force_login(user)
    watch = 'id="run-watch"'
    assert "data-in-flight" not in client.get(reverse("gallery:gallery")).content.decode()
    client.post(reverse("generations:generate"), FORM, headers=HTMX)
    html = client.get(reverse("gallery:gallery")).content.decode()
    assert watch in html and "data-in-flight" in html
    # Once the poll finds nothing in flight, pages stop polling.
    Generation.objects.update(status=Status.DONE)
    client.get(reverse("generations:runs_active"))
    assert "data-in-flight" not in client.get(reverse("gallery:gallery")).content.decode()


@pytest.mark.parametrize("name", ["run", "generation_again", "image_trash", "image_restore"])
def test_an_outsider_gets_not_found(client, user, outsider, name, pipeline) -> None:
    image = make_image(user)
    images_trash(user=user, images=[image]) if name == "image_restore" else None
    key = image.uuid if name.startswith("image") else image.generation.uuid
    client.force_login(outsider)
    method = client.get if name == "run" else client.post
    app = "gallery" if name.startswith("image") else "generations"
    assert method(reverse(f"{app}:{name}", args=[key])).status_code == 404
    assert Generation.objects.count() == 1
