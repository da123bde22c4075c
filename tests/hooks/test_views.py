"""The endpoint pages: who may see and change what, and what each does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import Action, Entry
from hooks.models import Delivery, DeliveryStatus, Endpoint, Event
from projects.models import Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(user, outsider, django_user_model):
    """ada owns Harbour, which has an endpoint with one failed delivery; eve edits it, vic
    views it; mallory is outside. ada also has an endpoint of her own."""
    harbour = make_project(user, "Harbour")
    editor = django_user_model.objects.create_user("eve", password="pw-eve-123456")
    viewer = django_user_model.objects.create_user("vic", password="pw-vic-123456")
    add_member(harbour, editor, Role.EDITOR)
    add_member(harbour, viewer, Role.VIEWER)
    endpoint = Endpoint.objects.create(
        project=harbour, url="https://hooks.example.com/darkroom", events=[Event.BUDGET_80]
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event=Event.BUDGET_80,
        payload={},
        status=DeliveryStatus.FAILED,
        attempts=3,
        response_code=500,
        duration_ms=42,
    )
    own = Endpoint.objects.create(person=user, url="https://me.example.com/", events=[])
    return {
        "harbour": harbour,
        "endpoint": endpoint,
        "delivery": delivery,
        "own": own,
        "owner": user,
        "editor": editor,
        "viewer": viewer,
        "outsider": outsider,
    }


def views_of(endpoint: Endpoint, delivery: Delivery | None) -> list[tuple[str, str]]:
    """(method, url) of every view that acts on one endpoint."""
    args = [endpoint.uuid]
    urls = [
        ("get", reverse("hooks:detail", args=args)),
        ("get", reverse("hooks:edit", args=args)),
        ("post", reverse("hooks:edit", args=args)),
        ("post", reverse("hooks:delete", args=args)),
        ("post", reverse("hooks:rotate", args=args)),
        ("post", reverse("hooks:resume", args=args)),
        ("post", reverse("hooks:test", args=args)),
    ]
    if delivery is not None:
        urls.append(("post", reverse("hooks:resend", args=[endpoint.uuid, delivery.uuid])))
    return urls


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("editor", 403), ("viewer", 403)])
def test_only_a_projects_owners_reach_its_endpoint(client, world, who, status, queued) -> None:
    client.force_login(world[who])
    for method, url in views_of(world["endpoint"], world["delivery"]):
        assert getattr(client, method)(url).status_code == status, (method, url)
    assert Endpoint.objects.filter(pk=world["endpoint"].pk).exists()
    assert queued == []


@pytest.mark.parametrize("who", ["outsider", "editor", "viewer"])
def test_a_persons_endpoint_is_theirs_alone(client, world, who) -> None:
    client.force_login(world[who])
    for method, url in views_of(world["own"], None):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_a_delivery_of_another_endpoint_is_not_found(client, world) -> None:
    client.force_login(world["owner"])
    url = reverse("hooks:resend", args=[world["own"].uuid, world["delivery"].uuid])
    assert client.post(url).status_code == 404


def test_signed_out_visitors_are_sent_to_log_in(client, world) -> None:
    for method, url in [
        ("get", reverse("hooks:list")),
        ("get", reverse("hooks:create")),
        *views_of(world["endpoint"], world["delivery"]),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_list_shows_ones_own_and_owned_projects_endpoints(client, world) -> None:
    client.force_login(world["owner"])
    html = client.get(reverse("hooks:list")).content.decode()
    assert "hooks.example.com/darkroom" in html and "me.example.com" in html
    client.force_login(world["editor"])
    html = client.get(reverse("hooks:list")).content.decode()
    assert "hooks.example.com" not in html and "No endpoint yet." in html


def test_the_endpoint_page_shows_deliveries_and_the_secret(client, world) -> None:
    client.force_login(world["owner"])
    html = client.get(reverse("hooks:detail", args=[world["endpoint"].uuid])).content.decode()
    assert world["endpoint"].secret in html
    assert f'id="delivery-{world["delivery"].uuid}"' in html
    assert "42 ms" in html and "500" in html and "Resend" in html and "Send test event" in html


def test_an_owner_adds_a_project_endpoint_recorded_in_the_trail(client, world) -> None:
    client.force_login(world["owner"])
    response = client.post(
        reverse("hooks:create"),
        {
            "owner": str(world["harbour"].uuid),
            "url": "https://tools.example.com/in",
            "events": [Event.GENERATION_FINISHED, Event.IMAGE_SHARED],
            "format": "slack",
        },
    )
    endpoint = Endpoint.objects.get(url="https://tools.example.com/in")
    assert response.status_code == 302 and response["Location"].endswith(f"/{endpoint.uuid}/")
    assert endpoint.project == world["harbour"] and endpoint.person is None
    assert endpoint.events == [Event.GENERATION_FINISHED, Event.IMAGE_SHARED]
    assert endpoint.created_by == world["owner"] and not endpoint.allow_private
    entry = Entry.objects.get(action=Action.ENDPOINT_CREATED)
    assert entry.project_id == world["harbour"].pk and entry.object_id == str(endpoint.uuid)
    # The host only: a Slack webhook URL's path is its secret, and the trail is exported.
    assert entry.object_repr == "tools.example.com" and "/in" not in str(entry.after)


def test_an_editor_cannot_add_an_endpoint_to_the_project(client, world) -> None:
    client.force_login(world["editor"])
    response = client.post(
        reverse("hooks:create"),
        {
            "owner": str(world["harbour"].uuid),
            "url": "https://x.example.com/",
            "events": [Event.BUDGET_80],
            "format": "json",
        },
    )
    assert response.status_code == 200 and "owner" in response.context["form"].errors
    assert not Endpoint.objects.filter(url="https://x.example.com/").exists()


def test_someone_adds_an_endpoint_for_their_own_runs(client, world) -> None:
    client.force_login(world["viewer"])
    client.post(
        reverse("hooks:create"),
        {
            "owner": "mine",
            "url": "https://vic.example.com/",
            "events": [Event.BUDGET_100],
            "format": "json",
        },
    )
    endpoint = Endpoint.objects.get(url="https://vic.example.com/")
    assert endpoint.person == world["viewer"] and endpoint.project is None


@pytest.mark.parametrize(
    "url",
    [
        "http://tools.example.com/",
        "https://127.0.0.1/",
        "https://localhost:8000/",
        "https://[fd00::1]/",
        "https://u:p@tools.example.com/",
    ],
)
def test_private_plain_or_credentialled_urls_are_refused(client, world, url) -> None:
    client.force_login(world["owner"])
    response = client.post(
        reverse("hooks:create"),
        {"owner": "mine", "url": url, "events": [Event.BUDGET_100], "format": "json"},
    )
    assert response.status_code == 200 and "url" in response.context["form"].errors


def test_staff_allowing_private_addresses_lets_an_owner_use_one(client, world) -> None:
    endpoint = world["endpoint"]
    Endpoint.objects.filter(pk=endpoint.pk).update(allow_private=True)
    client.force_login(world["owner"])
    client.post(
        reverse("hooks:edit", args=[endpoint.uuid]),
        {"url": "http://10.0.0.7:9000/in", "events": [Event.BUDGET_80], "format": "json"},
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "http://10.0.0.7:9000/in"


def test_the_owner_edits_rotates_tests_resends_and_deletes(client, world, queued) -> None:
    endpoint, delivery = world["endpoint"], world["delivery"]
    client.force_login(world["owner"])
    client.post(
        reverse("hooks:edit", args=[endpoint.uuid]),
        {"url": "https://hooks.example.com/v2", "events": [Event.BUDGET_100], "format": "json"},
    )
    old_secret = endpoint.secret
    client.post(reverse("hooks:rotate", args=[endpoint.uuid]))
    endpoint.refresh_from_db()
    assert endpoint.url.endswith("/v2") and endpoint.events == [Event.BUDGET_100]
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")
    client.post(reverse("hooks:test", args=[endpoint.uuid]))
    test_event = Delivery.objects.get(event=Event.TEST)
    assert queued == [test_event.pk]
    client.post(reverse("hooks:resend", args=[endpoint.uuid, delivery.uuid]))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.uuid == world["delivery"].uuid
    client.post(reverse("hooks:delete", args=[endpoint.uuid]))
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert Entry.objects.filter(action=Action.ENDPOINT_DELETED, object_id=str(endpoint.uuid))
