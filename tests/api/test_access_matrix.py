"""Every API operation × every kind of caller: the same answers the pages give (404 for what a
caller may not know exists, 403 for too small a role), plus the token's own limits (401 without
a usable token, 403 without the scope, nothing outside a token's project). At the end, each
read and create that has a page is asked of that page too, by each person signed in, and the
two answers compared."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from generations.models import Generation

CALLERS = (
    "alice",  # owns the project
    "bob",  # edits in it
    "carol",  # views it
    "dave",  # member of another project
    "erin",  # in no project
    "alice:read-only",
    "alice:generate-only",
    "alice:expired",
    "alice:revoked",
    None,  # no token
    "alice:other-project",  # limited to dave's project
    "staff",  # runs the site, in no project
)

V1 = "/api/v1"

READS = {
    # path builder: expected status for each caller, in CALLERS' order
    "quote in the project": (
        lambda w: f"{V1}/quote?project={w.project.uuid}&resolution=4k",
        (200, 200, 403, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "personal quote": (
        lambda w: f"{V1}/quote",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 403, 200),
    ),
    "projects": (
        lambda w: f"{V1}/projects",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 200, 200),
    ),
    "project": (
        lambda w: f"{V1}/projects/{w.project.uuid}",
        (200, 200, 200, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "members": (
        lambda w: f"{V1}/projects/{w.project.uuid}/members",
        (200, 403, 403, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "project spend": (
        lambda w: f"{V1}/projects/{w.project.uuid}/spend",
        (200, 403, 403, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "my spend": (
        lambda w: f"{V1}/spend/me",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 403, 200),
    ),
    "spend review": (
        lambda w: f"{V1}/spend/review",
        (404, 404, 404, 404, 404, 404, 403, 401, 401, 401, 404, 200),
    ),
    "elements": (
        lambda w: f"{V1}/elements",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 200, 200),
    ),
    "project generation": (
        lambda w: f"{V1}/generations/{w.project_image.generation.uuid}",
        (200, 200, 200, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "personal generation": (
        lambda w: f"{V1}/generations/{w.personal_image.generation.uuid}",
        (200, 404, 404, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "generations": (
        lambda w: f"{V1}/generations",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 200, 200),
    ),
    "references": (
        lambda w: f"{V1}/references",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 200, 200),
    ),
    "images": (
        lambda w: f"{V1}/images",
        (200, 200, 200, 200, 200, 200, 403, 401, 401, 401, 200, 200),
    ),
    "project image": (
        lambda w: f"{V1}/images/{w.project_image.uuid}",
        (200, 200, 200, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "personal image": (
        lambda w: f"{V1}/images/{w.personal_image.uuid}",
        (200, 404, 404, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "project image's original": (
        lambda w: f"{V1}/images/{w.project_image.uuid}/original",
        (200, 200, 200, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "personal image's original": (
        lambda w: f"{V1}/images/{w.personal_image.uuid}/original",
        (200, 404, 404, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
    "project image's thumbnail": (
        lambda w: f"{V1}/images/{w.project_image.uuid}/thumbnails/256",
        (200, 200, 200, 404, 404, 200, 403, 401, 401, 401, 404, 404),
    ),
}

# Changes, each asked by every caller in turn, last caller first (so that alice, who may do
# each, comes last and the others meet the state the world started in).
WRITES = {
    "star a project image": (
        "put",
        lambda w: (f"{V1}/images/{w.project_image.uuid}/star", None),
        (200, 200, 200, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
    "unstar a project image": (
        "delete",
        lambda w: (f"{V1}/images/{w.project_image.uuid}/star", None),
        (200, 200, 200, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
    "move a personal image into the project": (
        "post",
        lambda w: (f"{V1}/images/{w.personal_image.uuid}/move", {"project": str(w.project.uuid)}),
        (200, 404, 404, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
    "trash a project image": (
        "post",
        lambda w: (f"{V1}/images/{w.project_image.uuid}/trash", {}),
        (200, 200, 403, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
    "retry a failed project generation": (
        "post",
        lambda w: (f"{V1}/generations/{_in_status(w, 'failed')}/retry", {}),
        (201, 201, 403, 404, 404, 403, 201, 401, 401, 401, 404, 404),
    ),
    "cancel a queued project generation (bob's)": (
        "post",
        lambda w: (f"{V1}/generations/{_in_status(w, 'queued')}/cancel", {}),
        (403, 200, 403, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
    "restore a project image": (
        "post",
        lambda w: (f"{V1}/images/{w.project_image.uuid}/restore", {}),
        (200, 200, 403, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    ),
}


def _in_status(world, status: str) -> str:
    """The project image's generation (bob's), put in `status`."""
    generation = world.project_image.generation
    Generation.objects.filter(pk=generation.pk).update(status=status, error_kind="provider")
    return str(generation.uuid)


@pytest.mark.parametrize("name", list(WRITES))
def test_changes_answer_each_caller_as_the_pages_do(api, world, pipeline, name):
    method, build, expected = WRITES[name]
    path, body = build(world)
    got = {}
    for caller in reversed(CALLERS):
        headers = api._headers(caller, None)
        if method == "post":
            response = api.post(path, body, as_=caller)
        else:
            response = getattr(api.client, method)(path, headers=headers)
        got[caller] = response.status_code
    assert got == dict(zip(CALLERS, expected, strict=True))


@pytest.mark.parametrize("name", list(READS))
def test_reads_answer_each_caller_as_the_pages_do(api, world, name):
    build, expected = READS[name]
    got = tuple(api.get(build(world), as_=caller).status_code for caller in CALLERS)
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


def test_creates_answer_each_caller_as_the_generate_page_does(api, world, pipeline):
    expected = (201, 201, 403, 404, 404, 403, 201, 401, 401, 401, 404, 404)
    body = {"prompt": "a harbour at dawn", "project": str(world.project.uuid)}
    got = tuple(api.post(f"{V1}/generations", body, as_=caller).status_code for caller in CALLERS)
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


ELEMENT_CREATES = {
    # where: expected status for each caller, in CALLERS' order
    "project": (201, 201, 403, 404, 404, 403, 403, 401, 401, 401, 404, 404),
    "personal": (201, 201, 201, 201, 201, 403, 403, 401, 401, 401, 403, 201),
}


@pytest.mark.parametrize("where", list(ELEMENT_CREATES))
def test_element_creates_answer_each_caller_as_the_library_page_does(api, world, where):
    project = str(world.project.uuid) if where == "project" else None
    got = tuple(
        api.post(
            f"{V1}/elements",
            {"name": f"Nora {n}", "kling_element_id": f"9000{n}", "project": project},
            as_=caller,
        ).status_code
        for n, caller in enumerate(CALLERS)
    )
    expected = ELEMENT_CREATES[where]
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


def test_uploads_answer_each_caller_as_the_generate_page_does(api, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import image_bytes

    expected = (201, 201, 201, 201, 201, 403, 201, 401, 401, 401, 201, 201)
    got = []
    for caller in CALLERS:
        picture = SimpleUploadedFile("kite.png", image_bytes(size=(640, 480)), "image/png")
        response = api.client.post(
            f"{V1}/references", {"files": [picture]}, headers=api._headers(caller, None)
        )
        got.append(response.status_code)
    assert dict(zip(CALLERS, got, strict=True)) == dict(zip(CALLERS, expected, strict=True))


def test_every_refusal_has_the_one_error_shape(api, world):
    for caller in CALLERS:
        response = api.get(f"{V1}/projects/{world.project.uuid}/spend", as_=caller)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) == {"code", "message", "field_errors"}
            assert error["message"]


def test_401_challenges_with_bearer(api, world):
    for caller in (None, "alice:expired", "alice:revoked", "drk_not-a-token", "Basic abc"):
        response = api.get(f"{V1}/projects", as_=caller)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert api.get(f"{V1}/projects", as_="alice:expired").json()["error"]["code"] == (
        "token_expired"
    )
    assert api.get(f"{V1}/projects", as_="alice:revoked").json()["error"]["code"] == (
        "token_revoked"
    )


def test_too_small_a_scope_is_403_naming_the_scope(api, world):
    response = api.get(f"{V1}/projects", as_="alice:generate-only")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_token_limited_to_a_project_lists_only_that_project(api, world):
    listed = api.get(f"{V1}/projects", as_="alice:other-project").json()
    assert [p["uuid"] for p in listed] == [str(world.other_project.uuid)]
    assert api.get(f"{V1}/elements", as_="alice:other-project").json() == []
    assert api.get(f"{V1}/generations", as_="alice:other-project").json()["items"] == []


def test_lists_hold_only_what_the_caller_may_see(api, world):
    assert api.get(f"{V1}/projects", as_="dave").json()[0]["name"] == "Elsewhere"
    assert api.get(f"{V1}/generations", as_="dave").json()["items"] == []
    uuids = {g["uuid"] for g in api.get(f"{V1}/generations", as_="bob").json()["items"]}
    assert uuids == {str(world.project_image.generation.uuid)}
    assert [e["name"] for e in api.get(f"{V1}/elements", as_="carol").json()] == ["Mira"]
    assert api.get(f"{V1}/elements", as_="erin").json() == []


def test_rights_are_read_at_each_call(api, world):
    """Removing bob from the project ends what his token sees there, at once."""
    path = f"{V1}/projects/{world.project.uuid}"
    assert api.get(path, as_="bob").status_code == 200
    world.project.memberships.filter(user=world.users["bob"]).delete()
    assert api.get(path, as_="bob").status_code == 404


def test_a_deactivated_persons_token_stops_working_even_before_the_revoke(api, world):
    world.users["erin"].is_active = False
    world.users["erin"].save(update_fields=["is_active"])
    assert api.get(f"{V1}/projects", as_="erin").status_code == 401


def test_paths_and_methods_the_api_does_not_have_answer_in_the_one_shape(api, world):
    missing = api.get(f"{V1}/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    refused = api.client.delete(f"{V1}/projects")
    assert refused.status_code == 405 and refused["Allow"] == "GET"
    assert refused.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_cannot_be_read_is_400_in_the_one_shape(api, world):
    response = api.client.post(
        f"{V1}/generations",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {world.tokens['alice']}"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "field_errors"}


# --- against the pages: tests/test_access_matrix.py's answers, asked of the same world ------------
# Each person signs in to the studio and asks the page; their token with every scope asks the
# API: both must give the same answer (a page's 200 or a file's 302 to storage ⇔ the API's
# 200/302, 403 ⇔ 403, 404 ⇔ 404). A signed-out visitor's redirect to the login has no person to
# compare; tokens short of something are the API's own (the matrix above).

PEOPLE = ("alice", "bob", "carol", "dave", "erin", "staff")

PAGES = {
    # READS' row → the page that shows the same thing
    "projects": lambda w: reverse("projects:list"),
    "project": lambda w: reverse("projects:detail", args=[w.project.uuid]),
    "members": lambda w: reverse("projects:settings", args=[w.project.uuid]),
    "project spend": lambda w: reverse("spend:project", args=[w.project.uuid]),
    "my spend": lambda w: reverse("spend:mine"),
    "spend review": lambda w: reverse("spend:review"),
    "elements": lambda w: reverse("elements:library"),
    "project generation": lambda w: reverse(
        "generations:generation_detail", args=[w.project_image.generation.uuid]
    ),
    "personal generation": lambda w: reverse(
        "generations:generation_detail", args=[w.personal_image.generation.uuid]
    ),
    "images": lambda w: reverse("gallery:gallery"),
    "project image": lambda w: reverse("gallery:image_detail", args=[w.project_image.uuid]),
    "personal image": lambda w: reverse("gallery:image_detail", args=[w.personal_image.uuid]),
    "project image's original": lambda w: reverse(
        "gallery:image_original", args=[w.project_image.uuid]
    ),
    "personal image's original": lambda w: reverse(
        "gallery:image_original", args=[w.personal_image.uuid]
    ),
    "project image's thumbnail": lambda w: reverse(
        "gallery:image_thumbnail", args=[w.project_image.uuid, 256]
    ),
}


def _signed_in(world, who: str) -> Client:
    client = Client()
    client.force_login(world.users[who])
    return client


def test_every_page_counterpart_is_in_the_matrix():
    assert set(PAGES) <= set(READS)


@pytest.mark.parametrize("name", list(PAGES))
def test_reads_answer_each_person_as_the_page_does(api, world, name):
    page_url, api_path = PAGES[name](world), READS[name][0](world)
    pages = {who: _signed_in(world, who).get(page_url).status_code for who in PEOPLE}
    answers = {who: api.get(api_path, as_=who).status_code for who in PEOPLE}
    assert answers == pages


ELEMENT_PAGES = {
    "project": lambda w: reverse("elements:create_in_project", args=[w.project.uuid]),
    "personal": lambda w: reverse("elements:create"),
}


@pytest.mark.parametrize("where", list(ELEMENT_PAGES))
def test_element_creates_answer_each_person_as_the_library_page_does(api, world, where):
    """The page's 302 back to the library ⇔ the API's 201; its refusals ⇔ the same refusals."""
    project = str(world.project.uuid) if where == "project" else None
    pages, answers = {}, {}
    for n, who in enumerate(PEOPLE):
        form = {"name": f"Page {n}", "kling_element_id": f"7000{n}", "note": ""}
        response = _signed_in(world, who).post(ELEMENT_PAGES[where](world), form)
        pages[who] = {302: 201}.get(response.status_code, response.status_code)
        body = {"name": f"Api {n}", "kling_element_id": f"8000{n}", "project": project}
        answers[who] = api.post(f"{V1}/elements", body, as_=who).status_code
    assert answers == pages
