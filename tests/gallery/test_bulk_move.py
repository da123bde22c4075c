"""Moving many images into a project: each by the image page's rules, refusals reported."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from gallery.services.trash import images_trash
from generations.models import OutputImage
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

MOVE_URL = reverse("gallery:bulk_move")


def move(client, images: list[OutputImage], project, **extra: object):
    data = {"images": [str(i.uuid) for i in images], "project": str(project.uuid), **extra}
    return client.post(MOVE_URL, data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def projects_of(images: list[OutputImage]) -> list[object]:
    return [OutputImage.objects.get(pk=i.pk).project for i in images]


@pytest.fixture
def target(user):
    return make_project(user, "Studio")


def test_personal_images_move_into_a_project(client, user, target) -> None:
    images = [make_image(user, prompt=f"kite {n}") for n in range(3)]
    client.force_login(user)
    response = move(client, images, target, next="/gallery/")
    assert response.status_code == 302
    assert response["Location"] == "/gallery/"
    assert projects_of(images) == [target] * 3
    assert messages_of(response) == ["Moved 3 images to the project."]


def test_some_refused_the_rest_moved(client, user, django_user_model, target) -> None:
    grace = django_user_model.objects.create_user("grace", password="pw-grace-12345")
    harbour = make_project(grace, "Harbour")
    add_member(harbour, user, Role.VIEWER)
    own = make_image(user)
    graces = [make_image(grace, project=harbour) for _ in range(2)]
    trashed = make_image(user, prompt="in the trash")
    images_trash(user=user, images=[trashed])
    client.force_login(user)

    response = move(client, [own, *graces, trashed], target)

    assert response.status_code == 302
    assert projects_of([own, *graces, trashed]) == [target, harbour, harbour, None]
    assert messages_of(response) == [
        "Moved 1; 3 could not be moved: You need to be an editor of Harbour to move images out "
        "of it. (2 images); It is in the trash: restore it first."
    ]


def test_a_project_the_mover_does_not_belong_to_is_not_named(client, user, outsider) -> None:
    secret = make_project(outsider, "Secret plans")
    image = make_image(user)
    client.force_login(user)
    response = move(client, [image], secret)
    assert projects_of([image]) == [None]
    assert messages_of(response) == ["Choose a project to move them to."]
    response = client.post(MOVE_URL, {"images": [str(image.uuid)], "project": "nonsense"})
    assert messages_of(response)[-1] == "Choose a project to move them to."


def test_an_outsider_cannot_move_and_nothing_moves(client, user, outsider) -> None:
    image = make_image(user)
    theirs = make_project(outsider, "Mine now")
    client.force_login(outsider)
    assert move(client, [image], theirs).status_code == 404
    assert projects_of([image]) == [None]


def test_one_invisible_image_refuses_the_whole_move(client, user, outsider, target) -> None:
    own = make_image(user)
    strangers = make_image(outsider)
    client.force_login(user)
    assert move(client, [own, strangers], target).status_code == 404
    assert projects_of([own, strangers]) == [None, None]


def _move_queries(client, user, target, count: int) -> int:
    """Queries of a bulk move of `count` images: half personal, half in a project the mover
    edits (so both the personal and the project-to-project rules are checked)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    source = make_project(user, f"Source {count}")
    images = [
        make_image(user, project=source if n % 2 else None, prompt=f"kite {n}")
        for n in range(count)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = move(client, images, target)
    assert messages_of(response)[-1] == f"Moved {count} images to the project."
    assert projects_of(images) == [target] * count
    return len(queries)


def test_moving_more_images_takes_no_more_queries(client, user, target) -> None:
    client.force_login(user)
    assert _move_queries(client, user, target, 5) == _move_queries(client, user, target, 50)
