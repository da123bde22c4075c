"""“Create on Kling”: pictures uploaded, `kwaivgi/kling-elements` submitted and followed, the
element id stored; failures said; rights checked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from elements.models import Creation, Element
from projects.models import Role
from references.models import ReferenceImage
from tests.factories import add_member, image_bytes, make_project

pytestmark = pytest.mark.django_db


def picture(name: str, color_size: tuple[int, int] = (400, 500)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", color_size), content_type="image/png")


def create_on_kling(client, url: str | None = None, **overrides: object):
    data = {
        "name": "Captain Mira",
        "description": "a sailor in a red coat",
        "front": picture("front.png"),
        "views": [picture("left.png", (420, 500)), picture("back.png", (440, 500))],
        **overrides,
    }
    return client.post(url or reverse("elements:create_on_kling"), data)


def run_element_tasks(pipeline, element: Element) -> Element:
    """Run the queued tasks until the element's creation ends."""
    pipeline.run_until(lambda: not Element.objects.get(pk=element.pk).is_being_created)
    element.refresh_from_db()
    return element


def test_an_element_is_created_on_kling_and_gets_its_id(client, user, sim, pipeline) -> None:
    client.force_login(user)
    response = create_on_kling(client)
    element = Element.objects.get()
    assert response.status_code == 302
    assert (element.creation, element.kling_element_id, element.owner) == (
        Creation.QUEUED,
        "",
        user,
    )
    front = ReferenceImage.objects.get(pk=element.creation_inputs["image"])
    # The front view's tile, from the one decode that made the reference.
    assert element.preview.read() == front.preview.read()
    assert pipeline.names() == ["submit_job"]
    # Not offered while Kling works on it.
    assert str(element.uuid) not in client.get(reverse("generations:generate")).content.decode()

    element = run_element_tasks(pipeline, element)

    assert element.creation == Creation.DONE
    [submit] = [r for r in sim.requests("/api/v3/kwaivgi/kling-elements") if r["method"] == "POST"]
    body = submit["json"]
    assert (body["name"], body["description"]) == ("Captain Mira", "a sailor in a red coat")
    uploads = [r for r in sim.requests("/api/v3/media/upload") if r["method"] == "POST"]
    assert len(uploads) == 3
    assert body["image"].startswith(sim.base_url) and len(body["element_refer_list"]) == 2
    assert len({body["image"], *body["element_refer_list"]}) == 3
    [prediction] = [p for p in sim.predictions() if p["model"] == "kwaivgi/kling-elements"]
    assert element.kling_element_id == prediction["outputs"][0]["element_id"]
    html = client.get(reverse("generations:generate")).content.decode()
    assert f'value="{element.uuid}" data-name="Captain Mira"' in html


def test_a_failed_creation_is_said_and_the_element_is_not_offered(
    client, user, sim, pipeline
) -> None:
    sim.fault("fail_prediction", model="kwaivgi/kling-elements", code=1401, error="Bad views")
    client.force_login(user)
    create_on_kling(client)
    element = run_element_tasks(pipeline, Element.objects.get())
    assert element.creation == Creation.FAILED
    assert element.kling_element_id == ""
    assert "Kling could not create the element (code 1401): Bad views" in element.creation_error
    assert "Bad views" in client.get(reverse("elements:library")).content.decode()
    assert str(element.uuid) not in client.get(reverse("generations:generate")).content.decode()


def test_a_submit_that_may_have_arrived_is_not_sent_again(client, user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=500)
    client.force_login(user)
    create_on_kling(client)
    element = run_element_tasks(pipeline, Element.objects.get())
    assert element.creation == Creation.FAILED
    assert "may have reached Kling" in element.creation_error
    submits = [r for r in sim.requests("/api/v3/kwaivgi/kling-elements") if r["method"] == "POST"]
    assert len(submits) == 1


def test_a_refused_submit_is_sent_again(client, user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=429, retry_after=1)
    client.force_login(user)
    create_on_kling(client)
    element = run_element_tasks(pipeline, Element.objects.get())
    assert element.creation == Creation.DONE
    assert element.submit_attempts == 2


def test_running_a_task_twice_submits_once(client, user, sim, pipeline) -> None:
    from wavespeed import tasks

    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    tasks.submit_job.run("element", element.pk)
    tasks.submit_job.run("element", element.pk)
    submits = [r for r in sim.requests("/api/v3/kwaivgi/kling-elements") if r["method"] == "POST"]
    assert len(submits) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"views": []}, "Add at least one more view: Kling needs it."),
        (
            {"views": [picture(f"v{n}.png") for n in range(4)]},
            "You added 4 more views; use at most 3.",
        ),
        (
            {"views": [SimpleUploadedFile("fake.png", b"not a picture", "image/png")]},
            "“fake.png”",
        ),
        ({"front": picture("tiny.png", (100, 100))}, "“tiny.png”"),
        ({"description": "x" * 101}, "Kling Elements allows at most 100 characters here."),
    ],
)
def test_bad_inputs_are_refused_with_a_message(client, user, overrides, message) -> None:
    client.force_login(user)
    response = create_on_kling(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Captain Mira" in response.content.decode()  # the rest is kept
    assert not Element.objects.exists()


def test_a_taken_name_is_refused_before_anything_is_stored(client, user, make_element) -> None:
    from references.models import ReferenceImage

    make_element(user, name="Captain Mira")
    client.force_login(user)
    response = create_on_kling(client)
    assert "already has an element called “Captain Mira”" in response.content.decode()
    assert not ReferenceImage.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(Role.EDITOR, 302), (Role.VIEWER, 403), (None, 404)])
def test_only_editors_create_on_kling_in_a_project(
    client, user, outsider, pipeline, role, status
) -> None:
    project = make_project(outsider, "Harbour")
    if role:
        add_member(project, user, role)
    client.force_login(user)
    url = reverse("elements:create_on_kling_in_project", args=[project.uuid])
    assert client.get(url).status_code == {302: 200}.get(status, status)
    response = create_on_kling(client, url)
    assert response.status_code == status
    assert Element.objects.filter(project=project).exists() == (status == 302)


def test_the_card_polls_until_kling_is_done(client, user, outsider, sim, pipeline) -> None:
    client.force_login(user)
    create_on_kling(client)
    element = Element.objects.get()
    card = reverse("elements:card", args=[element.uuid])
    polling = client.get(card, headers={"HX-Request": "true"})
    assert polling.status_code == 200 and 'hx-trigger="every 2s"' in polling.content.decode()
    run_element_tasks(pipeline, element)
    done = client.get(card, headers={"HX-Request": "true"})
    assert done.status_code == 286 and element.kling_element_id not in ("",)
    client.force_login(outsider)
    assert client.get(card).status_code == 404
