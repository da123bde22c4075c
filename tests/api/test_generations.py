"""Creating, reading and listing generations through the API: the Generate form's checks and
budget check, Idempotency-Key, the per-token limits, keyset pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Action, Entry
from generations.models import Generation, Status
from spend.models import Budget, LedgerEntry

V1 = "/api/v1"


def body(world, **fields):
    return {"prompt": "a harbour at dawn", "project": str(world.project.uuid), **fields}


def test_a_create_records_every_form_parameter_and_the_request_sent(api, world, pipeline):
    response = api.post(
        f"{V1}/generations",
        body(
            world,
            aspect_ratio="16:9",
            resolution="4k",
            num_images=3,
            elements=[str(world.element.uuid)],
            prompt="Mira in a harbour",
        ),
    )
    assert response.status_code == 201, response.content
    made = response.json()
    generation = Generation.objects.get(uuid=made["uuid"])
    assert (generation.aspect_ratio, generation.resolution, generation.num_images) == (
        "16:9",
        "4k",
        3,
    )
    assert generation.project == world.project
    assert made["request"] == generation.request_payload
    assert made["request"]["element_list"] == [{"element_id": world.element.kling_element_id}]
    assert made["elements"] == [str(world.element.uuid)]
    assert made["status"] == "queued" and made["state"] == "active"
    assert made["held"] == "0.1680"
    assert Entry.objects.filter(action=Action.GENERATION_CREATED).count() == 1
    assert [t.task.name for t in pipeline.queued] == ["wavespeed.tasks.submit_due"]


def test_the_forms_refusals_come_back_as_field_errors(api, world, pipeline):
    response = api.post(f"{V1}/generations", body(world, prompt="", num_images=12))
    assert response.status_code == 422
    errors = response.json()["error"]["field_errors"]
    assert "prompt" in errors and "num_images" in errors
    unknown = api.post(f"{V1}/generations", body(world, references=[str(uuid.uuid4())]))
    assert unknown.status_code == 422
    assert "references" in unknown.json()["error"]["field_errors"]
    assert not Generation.objects.filter(prompt="a harbour at dawn").exists()


def test_a_value_outside_the_models_choices_is_refused_before_the_form(api, world):
    response = api.post(f"{V1}/generations", body(world, resolution="8k"))
    assert response.status_code == 422
    assert "resolution" in response.json()["error"]["field_errors"]


def test_a_budget_refusal_names_the_cap_and_what_is_left(api, world, pipeline):
    Budget.objects.create(person=world.users["alice"], monthly_limit=Decimal("0.05"))
    response = api.post(f"{V1}/generations", body(world, num_images=3))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert "$0.05 a month" in error["message"] and "your monthly budget" in error["message"]
    assert not Generation.objects.filter(prompt="a harbour at dawn").exists()
    # The quote says the same before anything is sent.
    quote = api.get(f"{V1}/quote", num_images=3, project=str(world.project.uuid)).json()
    assert quote["refusal"] == error["message"]


def test_the_same_idempotency_key_twice_makes_one_generation_and_one_hold(api, world, pipeline):
    headers = {"Idempotency-Key": "row-17"}
    first = api.post(f"{V1}/generations", body(world), headers=headers)
    again = api.post(f"{V1}/generations", body(world), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["uuid"] == again.json()["uuid"]
    assert Generation.objects.filter(prompt="a harbour at dawn").count() == 1
    assert LedgerEntry.objects.filter(generation__prompt="a harbour at dawn").count() == 1
    assert len(pipeline.queued) == 1


def test_the_same_key_with_another_body_is_refused(api, world, pipeline):
    headers = {"Idempotency-Key": "row-18"}
    assert api.post(f"{V1}/generations", body(world), headers=headers).status_code == 201
    other = api.post(f"{V1}/generations", body(world, num_images=2), headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Generation.objects.count() == 3  # two made by the factories, one here


def test_a_key_is_per_token(api, world, pipeline):
    headers = {"Idempotency-Key": "row-19"}
    mine = api.post(f"{V1}/generations", body(world), headers=headers)
    bobs = api.post(f"{V1}/generations", body(world), as_="bob", headers=headers)
    assert (mine.status_code, bobs.status_code) == (201, 201)
    assert mine.json()["uuid"] != bobs.json()["uuid"]


def test_a_refused_create_leaves_its_key_free_for_the_retry(api, world, pipeline):
    budget = Budget.objects.create(person=world.users["alice"], monthly_limit=Decimal("0.01"))
    headers = {"Idempotency-Key": "row-20"}
    assert api.post(f"{V1}/generations", body(world), headers=headers).status_code == 422
    budget.delete()
    assert api.post(f"{V1}/generations", body(world), headers=headers).status_code == 201


def test_generations_per_minute_are_limited_with_retry_after(api, world, pipeline, settings):
    settings.DARKROOM_API_GENERATIONS_PER_MINUTE = 2
    answers = [api.post(f"{V1}/generations", body(world)).status_code for _ in range(3)]
    assert answers == [201, 201, 429]
    over = api.post(f"{V1}/generations", body(world))
    assert over.status_code == 429
    assert 1 <= int(over["Retry-After"]) <= 60
    assert over.json()["error"]["code"] == "rate_limited"
    # Reads are not generations.
    assert api.get(f"{V1}/projects").status_code == 200


def test_requests_per_minute_are_limited_per_token(api, world, settings):
    settings.DARKROOM_API_REQUESTS_PER_MINUTE = 3
    answers = [api.get(f"{V1}/projects").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert api.get(f"{V1}/projects", as_="bob").status_code == 200


def test_the_quote_is_the_generate_pages_quote(api, world):
    client = Client()
    client.force_login(world.users["alice"])
    page = client.get("/generate/quote/", {"resolution": "4k", "num_images": 2})
    quote = api.get(f"{V1}/quote", resolution="4k", num_images=2).json()
    assert quote["total"] == "0.1120"
    assert f"${quote['total']}" in page.content.decode()
    series = api.get(f"{V1}/quote", result_type="series").json()
    assert series["series"] and series["hold"] == "0.2520"


def test_a_generation_reads_back_with_its_outputs(api, world):
    generation = world.project_image.generation
    got = api.get(f"{V1}/generations/{generation.uuid}", as_="carol").json()
    assert got["status"] == "done" and got["state"] == "done"
    assert [o["uuid"] for o in got["outputs"]] == [str(world.project_image.uuid)]
    assert got["outputs"][0]["sha256"] == world.project_image.sha256
    assert got["url"] == f"/generations/{generation.uuid}/"


def test_pages_cost_the_same_queries_at_any_depth_and_size(api, world):
    from tests.factories import make_image

    for n in range(9):
        make_image(world.users["alice"], project=world.project, prompt=f"n{n}")

    def queries(limit: int, cursor: str | None) -> tuple[int, str | None]:
        with CaptureQueriesContext(connection) as done:
            page = api.get(
                f"{V1}/generations", limit=limit, **({"cursor": cursor} if cursor else {})
            )
        return len(done), page.json()["next_cursor"]

    api.get(f"{V1}/projects")  # the minute's request counter exists from here on
    first, cursor = queries(2, None)
    deeper, cursor = queries(2, cursor)
    deepest, _ = queries(2, queries(2, cursor)[1])
    wider, _ = queries(5, None)
    assert first == deeper == deepest == wider


def test_every_generation_once_through_the_pages(api, world):
    from tests.factories import make_image

    for n in range(5):
        make_image(world.users["alice"], prompt=f"p{n}")
    seen, cursor = [], None
    while True:
        page = api.get(f"{V1}/generations", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [g["uuid"] for g in page.json()["items"]]
        if not (cursor := page.json()["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 7


def test_a_broken_cursor_is_422(api, world):
    response = api.get(f"{V1}/generations", cursor="%%%")
    assert response.status_code == 422
    assert "cursor" in response.json()["error"]["field_errors"]


def test_the_list_narrows_by_project_and_status(api, world, pipeline):
    api.post(f"{V1}/generations", body(world))
    queued = api.get(f"{V1}/generations", status="queued").json()["items"]
    assert [g["status"] for g in queued] == ["queued"]
    in_project = api.get(f"{V1}/generations", project=str(world.project.uuid)).json()["items"]
    assert {g["project"] for g in in_project} == {str(world.project.uuid)}
    assert len(in_project) == 2
    assert api.get(f"{V1}/generations", status="lost").status_code == 422


# --- the gallery's filters ----------------------------------------------------------------------


def _runs(api, as_="alice", **params):
    response = api.get(f"{V1}/generations", as_=as_, **params)
    assert response.status_code == 200, response.json()
    return [g["prompt"] for g in response.json()["items"]]


def test_the_list_takes_the_gallerys_filters(api, world):
    from tests.factories import make_image

    make_image(world.users["alice"], prompt="a lighthouse at night", resolution="4k")
    make_image(world.users["alice"], prompt="a lighthouse by day", aspect_ratio="16:9")
    old = make_image(world.users["alice"], project=world.project, prompt="last year's harbour")
    Generation.objects.filter(pk=old.generation_id).update(
        created_at=timezone.now() - timedelta(days=400)
    )

    assert _runs(api, q="lighthouse") == ["a lighthouse by day", "a lighthouse at night"]
    assert _runs(api, q="lighthouse -night") == ["a lighthouse by day"]
    assert _runs(api, project="personal", resolution="4k") == ["a lighthouse at night"]
    assert _runs(api, ratio="16:9") == ["a lighthouse by day"]
    assert _runs(api, project=str(world.project.uuid)) == ["shared harbour", "last year's harbour"]
    assert _runs(api, author="bob") == ["shared harbour"]
    assert _runs(api, author="bob", q="lighthouse") == []
    since = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert "last year's harbour" not in _runs(api, **{"from": since})
    before = (timezone.now() - timedelta(days=300)).date().isoformat()
    assert _runs(api, to=before) == ["last year's harbour"]
    assert _runs(api, q="harbour", status="done") == ["shared harbour", "last year's harbour"]
    assert _runs(api, q="harbour", status="failed") == []
    # As the gallery: bob sees the project's runs, not alice's personal ones.
    assert _runs(api, as_="bob", q="lighthouse") == []


def test_a_runs_filters_are_refused_as_the_images_are(api, world):
    """The same form reads both lists: the same field errors for the same values."""
    hostile = [
        {"project": str(world.other_project.uuid)},
        {"project": "not-a-uuid"},
        {"author": "nobody"},
        {"author": "dave"},  # shares no project with bob
        {"ratio": "5:4"},
        {"resolution": "8k"},
        {"from": "not a day"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"to": "0001-01-01"},
        {"q": "x" * 201},
    ]
    for params in hostile:
        runs = api.get(f"{V1}/generations", as_="bob", **params)
        images = api.get(f"{V1}/images", as_="bob", **params)
        assert runs.status_code == images.status_code == 422, params
        assert runs.json()["error"] == images.json()["error"], params
    for path in ("generations", "images"):
        broken = api.get(f"{V1}/{path}", cursor="nonsense!").json()["error"]["field_errors"]
        assert broken["cursor"][0].startswith("This page link is broken or out of date")
    assert api.get(f"{V1}/generations", status="trash").json()["error"]["field_errors"] == {
        "status": [f"One of: {', '.join(Status.values)}."]
    }


def test_starred_and_nsfw_are_an_images_and_refused_for_runs(api, world):
    from generations.models import Favourite

    Favourite.objects.create(user=world.users["alice"], image=world.personal_image)
    for name, value in (("starred", "1"), ("nsfw", "only"), ("nsfw", "hide"), ("starred", "0")):
        response = api.get(f"{V1}/generations", **{name: value})
        assert response.status_code == 422
        (message,) = response.json()["error"]["field_errors"][name]
        assert "GET /api/v1/images" in message
    assert api.get(f"{V1}/images", starred="1").status_code == 200


def test_a_token_limited_to_a_project_lists_only_its_runs(api, world):
    from tests.factories import make_image

    mine = make_image(world.users["dave"], project=world.other_project, prompt="elsewhere")
    assert _runs(api, as_="alice:other-project") == ["elsewhere"]
    assert _runs(api, as_="alice:other-project", q="harbour") == []
    personal = api.get(f"{V1}/generations", project="personal", as_="alice:other-project")
    assert personal.status_code == 403
    outside = api.get(
        f"{V1}/generations", project=str(world.project.uuid), as_="alice:other-project"
    )
    assert outside.status_code == 422 and "project" in outside.json()["error"]["field_errors"]
    listed = api.get(f"{V1}/generations", as_="alice:other-project").json()["items"]
    assert [g["uuid"] for g in listed] == [str(mine.generation.uuid)]


def test_a_token_limited_to_a_project_sees_only_its_images_of_a_run(api, world):
    from generations.models import OutputImage
    from tests.factories import make_image

    # A run in dave's project (alice views it) whose second image was moved into alice's.
    stays = make_image(world.users["dave"], project=world.other_project, prompt="elsewhere")
    moved = make_image(world.users["dave"], project=world.other_project)
    OutputImage.objects.filter(pk=moved.pk).update(
        generation=stays.generation, index=1, project=world.project
    )
    run = f"{V1}/generations/{stays.generation.uuid}"

    def outputs(answer: dict) -> list[str]:
        return [o["uuid"] for o in answer["outputs"]]

    detail = api.get(run, as_="alice:other-project").json()
    assert outputs(detail) == [str(stays.uuid)]
    listed = api.get(f"{V1}/generations", as_="alice:other-project").json()["items"]
    assert [g for g in listed if g["uuid"] == detail["uuid"]] == [detail]
    # Alice sees both with a token for all her work, as on the run's page.
    assert outputs(api.get(run, as_="alice").json()) == [str(stays.uuid), str(moved.uuid)]


def test_filtered_pages_cost_the_same_queries_at_any_depth(
    api, world, django_assert_max_num_queries
):
    from tests.factories import make_image

    start = timezone.now() - timedelta(days=1)
    made = []
    for n in range(12):
        image = make_image(
            world.users["bob"],
            project=world.project,
            prompt=f"kite {n}",
            resolution="2k",
            aspect_ratio="1:1",
        )
        Generation.objects.filter(pk=image.generation_id).update(
            created_at=start + timedelta(minutes=n)
        )
        made.append(image.generation)
    params = {
        "q": "kite",
        "project": str(world.project.uuid),
        "author": "bob",
        "ratio": "1:1",
        "resolution": "2k",
        "from": (start - timedelta(days=1)).date().isoformat(),
        "to": timezone.now().date().isoformat(),
        "status": "done",
        "limit": 3,
    }
    api.get(f"{V1}/projects")  # the minute's request counter exists from here on
    pages, cursors = [], [None]
    while True:
        cursor = {"cursor": cursors[-1]} if cursors[-1] else {}
        with CaptureQueriesContext(connection) as queries:
            got = api.get(f"{V1}/generations", **params, **cursor)
        assert got.status_code == 200, got.json()
        own = [
            q["sql"]
            for q in queries.captured_queries
            if not any(w in q["sql"] for w in ("windowcount", "SAVEPOINT", "accesstoken"))
        ]
        pages.append((got.json()["items"], len(queries), len(own)))
        if not got.json()["next_cursor"]:
            break
        cursors.append(got.json()["next_cursor"])
    seen = [g["uuid"] for items, _, _ in pages for g in items]
    assert seen == [str(g.uuid) for g in reversed(made)]
    counts = [count for _, count, _ in pages]
    assert len(counts) == 4 and len(set(counts)) == 1, counts
    # The memberships, the authors, the page, and its images, references and elements (then the
    # token's look-up and its rate-limit counter).
    assert [own for _, _, own in pages] == [6, 6, 6, 6]
    for deep in (cursors[0], cursors[-1]):  # the first page and the deepest
        with django_assert_max_num_queries(counts[0]):
            api.get(f"{V1}/generations", **params, **({"cursor": deep} if deep else {}))
