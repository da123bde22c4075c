"""Who may use and see the enhancer, and how an accepted suggestion reaches the generation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Generation, PromptEnhancement
from generations.services.enhancing import enhancement_create
from projects.models import Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

ORIGINAL = "a lighthouse in fog"
ENHANCED = "a lighthouse in fog, photorealistic, soft golden-hour lighting, highly detailed."


def form_data(**extra: str) -> dict[str, object]:
    return {
        "prompt": ENHANCED,
        "aspect_ratio": "auto",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 1,
        **extra,
    }


def test_a_stranger_is_sent_to_log_in(client, user, pipeline) -> None:
    enhancement = enhancement_create(owner=user, project=None, text=ORIGINAL, style="default")
    for response in (
        client.post(reverse("generations:enhance"), {"prompt": ORIGINAL}),
        client.get(reverse("generations:enhancement", args=[enhancement.uuid])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert PromptEnhancement.objects.count() == 1


def test_another_persons_enhancement_does_not_exist_for_me(client, user, outsider, pipeline):
    enhancement = enhancement_create(owner=user, project=None, text="secret idea", style="default")
    client.force_login(outsider)
    response = client.get(reverse("generations:enhancement", args=[enhancement.uuid]))
    assert response.status_code == 404
    assert b"secret idea" not in response.content


def test_even_a_fellow_project_member_cannot_see_my_enhancement(client, user, outsider, pipeline):
    project = make_project(user)
    add_member(project, outsider, Role.EDITOR)
    enhancement = enhancement_create(owner=user, project=project, text=ORIGINAL, style="default")
    client.force_login(outsider)
    response = client.get(reverse("generations:enhancement", args=[enhancement.uuid]))
    assert response.status_code == 404


def test_enhancing_for_a_project_needs_the_right_to_generate_there(
    client, user, outsider, pipeline
) -> None:
    project = make_project(user)
    client.force_login(outsider)
    url = reverse("generations:enhance")
    data = {"prompt": ORIGINAL, "project": str(project.uuid)}

    assert client.post(url, data).status_code == 404  # a stranger to the project
    assert client.post(url, {**data, "project": "not-a-uuid"}).status_code == 404
    add_member(project, outsider, Role.VIEWER)
    assert client.post(url, data).status_code == 403  # a viewer may not generate there
    assert not PromptEnhancement.objects.exists()

    client.force_login(user)
    assert client.post(url, data).status_code == 200
    assert PromptEnhancement.objects.get().project == project


def test_the_enhancer_only_takes_posts(client, user) -> None:
    client.force_login(user)
    assert client.get(reverse("generations:enhance")).status_code == 405


def test_an_accepted_suggestion_records_both_prompts(client, user, pipeline) -> None:
    client.force_login(user)
    response = client.post(
        reverse("generations:generate"), form_data(prompt_original=ORIGINAL), follow=True
    )
    assert response.status_code == 200
    generation = Generation.objects.get()
    assert generation.prompt == ENHANCED
    assert generation.prompt_original == ORIGINAL
    assert generation.request_payload["prompt"] == ENHANCED  # only the enhanced one is sent

    detail = client.get(reverse("generations:generation_detail", args=[generation.uuid]))
    html = detail.content.decode()
    assert "Your prompt" in html and "Enhanced prompt" in html
    assert ORIGINAL in html and ENHANCED in html

    again = client.get(reverse("generations:generate"), {"again": str(generation.uuid)})
    html = again.content.decode()
    assert f'value="{ORIGINAL}"' in html  # the hidden original
    assert f"{ENHANCED}</textarea>" in html


def test_a_prompt_never_enhanced_shows_once(client, user, pipeline) -> None:
    client.force_login(user)
    client.post(reverse("generations:generate"), form_data())
    generation = Generation.objects.get()
    assert generation.prompt_original == ""
    html = client.get(
        reverse("generations:generation_detail", args=[generation.uuid])
    ).content.decode()
    assert "Your prompt" not in html and "Enhanced prompt" not in html


def test_an_oversized_original_is_refused_and_the_rest_kept(client, user, pipeline) -> None:
    client.force_login(user)
    response = client.post(reverse("generations:generate"), form_data(prompt_original="x" * 2501))
    assert response.status_code == 200
    html = response.content.decode()
    assert "over 2,500" in html
    assert f"{ENHANCED}</textarea>" in html
    assert not Generation.objects.exists()
