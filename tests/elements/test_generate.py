"""Elements in the Generate form, in what reaches WaveSpeed, and on the generation's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from elements.models import GenerationElement
from generations.models import Generation, Status
from projects.models import Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def post_generate(client, *, prompt: str, elements=(), project: str = "", follow: bool = False):
    return client.post(
        reverse("generations:generate"),
        {
            "project": project,
            "prompt": prompt,
            "aspect_ratio": "1:1",
            "resolution": "1k",
            "result_type": "single",
            "num_images": 1,
            "elements": [str(e.uuid) for e in elements],
        },
        follow=follow,
    )


def test_the_picker_offers_the_live_elements_i_may_use(
    client, user, outsider, make_element
) -> None:
    mine = make_element(user, name="My Cat", preview=True)
    archived = make_element(user, name="Old Cat")
    archived.archived_at = archived.created_at
    archived.save()
    editing = make_project(outsider, "Studio")
    add_member(editing, user, Role.EDITOR)
    in_studio = make_element(outsider, project=editing, name="Studio Lamp")
    viewing = make_project(outsider, "Gallery")
    add_member(viewing, user, Role.VIEWER)
    make_element(outsider, project=viewing, name="Viewed Vase")
    make_element(outsider, name="Mallory Own")
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert f'name="elements" value="{mine.uuid}" data-name="My Cat"' in html
    assert f'value="{in_studio.uuid}"' in html and f'data-library="{editing.uuid}"' in html
    assert reverse("elements:preview", args=[mine.uuid]) in html
    assert "Insert name" in html and "js/elements.js" in html
    for hidden in ("Old Cat", "Viewed Vase", "Mallory Own"):
        assert hidden not in html


def test_no_picker_without_elements(client, user) -> None:
    client.force_login(user)
    html = client.get(reverse("generations:generate")).content.decode()
    assert "data-element-picker" not in html


def test_a_fourth_element_is_refused(client, user, make_element) -> None:
    elements = [make_element(user, name=f"Thing {n}") for n in range(4)]
    client.force_login(user)
    response = post_generate(client, prompt="Thing 0 Thing 1 Thing 2 Thing 3", elements=elements)
    assert response.status_code == 200
    assert "Pick at most 3 elements: Kling Image O3 takes 3." in response.content.decode()
    assert not Generation.objects.exists()


def test_an_element_of_another_project_is_refused(client, user, outsider, make_element) -> None:
    here = make_project(user, "Here")
    there = make_project(user, "There")
    theirs = make_element(user, project=there, name="There Dog")
    client.force_login(user)
    for project in ("", str(here.uuid)):
        response = post_generate(
            client, prompt="There Dog runs", elements=[theirs], project=project
        )
        assert "“There Dog” is an element of the project There" in response.content.decode()
    assert not Generation.objects.exists()
    # In its own project it is fine.
    post_generate(client, prompt="There Dog runs", elements=[theirs], project=str(there.uuid))
    assert Generation.objects.get().project == there


def test_someone_elses_element_cannot_be_picked(client, user, outsider, make_element) -> None:
    theirs = make_element(outsider, name="Not Yours")
    client.force_login(user)
    response = post_generate(client, prompt="Not Yours", elements=[theirs])
    assert "That element is not one you can use (any more)." in response.content.decode()
    assert not Generation.objects.exists()


def test_an_archived_element_cannot_be_picked(client, user, make_element) -> None:
    element = make_element(user, name="Gone")
    client.force_login(user)
    client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "1"})
    response = post_generate(client, prompt="Gone", elements=[element])
    assert "That element is not one you can use (any more)." in response.content.decode()


def test_the_provider_receives_element_list_in_order(
    client, user, make_element, sim, pipeline
) -> None:
    project = make_project(user, "Harbour")
    first = make_element(user, name="Zed", kling_element_id="900000000000000001")
    second = make_element(user, project=project, name="Amy", kling_element_id="900000000000000002")
    client.force_login(user)
    post_generate(
        client, prompt="Amy meets Zed", elements=[second, first], project=str(project.uuid)
    )
    generation = Generation.objects.get()
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    [submit] = sim.submits()
    assert submit["json"]["element_list"] == [
        {"element_id": "900000000000000002"},
        {"element_id": "900000000000000001"},
    ]
    assert submit["json"] == generation.request_payload
    links = GenerationElement.objects.filter(generation=generation)
    assert [(link.position, link.element) for link in links] == [(0, second), (1, first)]


def test_no_element_list_is_sent_without_elements(client, user, sim, pipeline) -> None:
    client.force_login(user)
    post_generate(client, prompt="a plain boat")
    pipeline.run_next()
    [submit] = sim.submits()
    assert "element_list" not in submit["json"]


def test_a_prompt_that_never_names_an_element_warns_but_still_generates(
    client, user, make_element
) -> None:
    named = make_element(user, name="Mira")
    unnamed = make_element(user, name="Harbour Cat")
    client.force_login(user)
    response = post_generate(
        client, prompt="mira walks along the pier", elements=[named, unnamed], follow=True
    )
    html = response.content.decode()
    assert Generation.objects.filter(prompt="mira walks along the pier").exists()
    assert "The prompt never names the element “Harbour Cat”" in html
    assert "never names the element “Mira”" not in html


def test_generate_again_ticks_the_same_elements(client, user, make_element) -> None:
    used = make_element(user, name="Mira")
    other = make_element(user, name="Other")
    client.force_login(user)
    post_generate(client, prompt="Mira", elements=[used])
    generation = Generation.objects.get()
    html = client.get(reverse("generations:generate") + f"?again={generation.uuid}").content
    html = html.decode()
    assert f'value="{used.uuid}" data-name="Mira" checked' in html
    assert f'value="{other.uuid}" data-name="Other">' in html


def test_the_generation_page_shows_its_elements_even_once_archived(
    client, user, django_user_model, make_element
) -> None:
    colleague = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    project = make_project(user, "Harbour")
    add_member(project, colleague, Role.VIEWER)
    element = make_element(user, name="Mira", preview=True)  # ada's personal element
    client.force_login(user)
    post_generate(client, prompt="Mira at sea", elements=[element], project=str(project.uuid))
    generation = Generation.objects.get()
    client.post(reverse("elements:archive", args=[element.uuid]), {"archive": "1"})

    client.force_login(colleague)  # sees the generation, not ada's personal library
    html = client.get(reverse("generations:generation_detail", args=[generation.uuid])).content
    html = html.decode()
    assert "Mira" in html and "archived" in html and element.kling_element_id in html
    via = reverse("generations:generation_element_preview", args=[generation.uuid, element.uuid])
    assert via in html
    assert client.get(via).status_code == 200
    assert client.get(reverse("elements:preview", args=[element.uuid])).status_code == 404


def test_a_preview_through_a_generation_needs_that_generation(
    client, user, outsider, make_element
) -> None:
    element = make_element(user, name="Mira", preview=True)
    client.force_login(user)
    post_generate(client, prompt="Mira", elements=[element])
    post_generate(client, prompt="no elements here")
    with_it, without_it = Generation.objects.order_by("created_at", "id")

    def preview(generation: Generation) -> str:
        return reverse(
            "generations:generation_element_preview", args=[generation.uuid, element.uuid]
        )

    assert client.get(preview(with_it)).status_code == 200
    assert client.get(preview(without_it)).status_code == 404
    client.force_login(outsider)
    assert client.get(preview(with_it)).status_code == 404
