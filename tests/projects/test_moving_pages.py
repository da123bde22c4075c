"""The image page's Move form: the move rules as the page applies them."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from gallery.services.trash import images_trash
from generations.models import OutputImage
from tests.factories import make_image, make_project

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def move(client, image: OutputImage, project_key: str):
    return client.post(reverse("gallery:image_move", args=[image.uuid]), {"project": project_key})


def project_of(image: OutputImage):
    return OutputImage.objects.get(pk=image.pk).project


def test_a_trashed_image_offers_no_move_and_refuses_one(client, user) -> None:
    studio = make_project(user, "Studio")
    image = make_image(user)
    images_trash(user=user, images=[image])
    client.force_login(user)

    page = client.get(reverse("gallery:image_detail", args=[image.uuid]))
    assert page.context["move_targets"] == []
    assert b"move-form" not in page.content

    response = move(client, image, str(studio.uuid))
    assert response.status_code == 302
    assert project_of(image) is None
    assert messages_of(response) == ["It is in the trash: restore it first."]


def test_once_restored_it_moves_again(client, user) -> None:
    from gallery.services.trash import images_restore

    studio = make_project(user, "Studio")
    image = make_image(user)
    images_trash(user=user, images=[image])
    images_restore(user=user, images=[image])
    client.force_login(user)
    page = client.get(reverse("gallery:image_detail", args=[image.uuid]))
    assert page.context["move_targets"] == [studio]
    move(client, image, str(studio.uuid))
    assert project_of(image) == studio


def test_a_strangers_project_is_not_named_and_nonsense_is_refused(client, user, outsider) -> None:
    secret = make_project(outsider, "Secret plans")
    image = make_image(user)
    client.force_login(user)
    response = move(client, image, str(secret.uuid))
    assert project_of(image) is None
    assert messages_of(response) == ["Choose a project to move it to."]
    response = move(client, image, "nonsense")
    assert response.status_code == 302
    assert messages_of(response)[-1] == "Choose a project to move it to."
