"""Rights that hold when people come and go (issue 12, finding 4): removed, demoted and
deactivated people lose their power over a project's images, and the share links they made stop
working, revoked with the reason and shown to the project's owners in the trail.

The access matrix (tests/test_access_matrix.py) tries every page and action as each of them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.services import users_deactivate
from audit.models import Entry
from gallery.services.moving import image_move
from gallery.services.sharing import share_create
from generations.models import OutputImage, ShareLink
from projects.models import Membership, Role
from projects.services import member_remove, member_set_role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(django_user_model) -> dict:
    """Harbour: alice owns it, bob edits. bob made an image there, alice another; bob shared
    both, and a personal image of his."""
    people = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-123456")
        for name in ("alice", "bob")
    }
    harbour = make_project(people["alice"], "Harbour")
    add_member(harbour, people["bob"], Role.EDITOR)
    bobs = make_image(people["bob"], project=harbour, prompt="bob's boat")
    alices = make_image(people["alice"], project=harbour, prompt="alice's lighthouse")
    personal = make_image(people["bob"], prompt="bob at home")
    links = {
        name: share_create(user=people["bob"], image=image, expires_in_days=None, show_prompt=False)
        for name, image in (("own", bobs), ("others", alices), ("personal", personal))
    }
    return {**people, "harbour": harbour, "bobs": bobs, "alices": alices, "links": links}


def works(client, link: ShareLink) -> bool:
    status = client.get(reverse("gallery:shared_image", args=[link.token])).status_code
    assert status in (200, 410)
    return status == 200


def bob_in(team) -> Membership:
    return Membership.objects.get(project=team["harbour"], user=team["bob"])


def test_finding_4_a_removed_member_loses_every_right_and_their_links(client, team) -> None:
    """Before, bob kept opening, downloading, sharing, trashing and restoring his images in the
    project after he was removed, and his links stayed live."""
    client.force_login(team["bob"])
    member_remove(membership=bob_in(team), by=team["alice"])

    for url in (
        reverse("gallery:image_detail", args=[team["bobs"].uuid]),
        reverse("gallery:image_original", args=[team["bobs"].uuid]) + "?download=1",
    ):
        assert client.get(url).status_code == 404
    for url, data in (
        (reverse("gallery:image_share", args=[team["bobs"].uuid]), {}),
        (reverse("gallery:bulk_trash"), {"images": [team["bobs"].uuid]}),
        (reverse("gallery:bulk_zip"), {"images": [team["bobs"].uuid]}),
    ):
        assert client.post(url, data).status_code == 404
    assert OutputImage.objects.get(pk=team["bobs"].pk).deleted_at is None
    # His gallery no longer shows it; the project keeps it.
    assert str(team["bobs"].uuid) not in client.get(reverse("gallery:gallery")).content.decode()
    assert OutputImage.objects.get(pk=team["bobs"].pk).project == team["harbour"]

    client.logout()
    links = team["links"]
    assert not works(client, links["own"]) and not works(client, links["others"])
    assert works(client, links["personal"])  # his own, outside the project
    for name in ("own", "others"):
        links[name].refresh_from_db()
        assert (links[name].revoked_reason, links[name].revoked_by) == (
            "member_removed",
            team["alice"],
        )


def test_finding_4_the_owners_see_the_removal_and_the_revoked_links_in_the_trail(
    client, team
) -> None:
    member_remove(membership=bob_in(team), by=team["alice"])
    entries = list(Entry.objects.filter(project=team["harbour"]).order_by("pk"))
    removed = [e for e in entries if e.action == "member.removed"]
    revoked = [e for e in entries if e.action == "share.revoked"]
    assert [(e.actor, e.object_repr, e.before) for e in removed] == [
        (team["alice"], "bob", {"role": "editor"})
    ]
    assert len(revoked) == 2
    assert all(e.actor == team["alice"] and "left the project" in e.reason for e in revoked)

    client.force_login(team["alice"])
    page = client.get(reverse("projects:settings", args=[team["harbour"].uuid])).content.decode()
    assert "Member removed" in page and "Share link revoked" in page
    assert "made by bob" in page


def test_finding_4_a_member_demoted_to_viewer_keeps_looking_but_not_sharing(client, team) -> None:
    member_set_role(membership=bob_in(team), role=Role.VIEWER, by=team["alice"])
    client.force_login(team["bob"])
    assert client.get(reverse("gallery:image_detail", args=[team["bobs"].uuid])).status_code == 200
    share = reverse("gallery:image_share", args=[team["bobs"].uuid])
    assert client.post(share, {}).status_code == 403
    trash = client.post(reverse("gallery:bulk_trash"), {"images": [team["bobs"].uuid]})
    assert trash.status_code == 403
    client.logout()
    assert not works(client, team["links"]["own"])
    assert not works(client, team["links"]["others"])
    team["links"]["own"].refresh_from_db()
    assert team["links"]["own"].revoked_reason == "member_demoted"
    assert Entry.objects.filter(
        project=team["harbour"], action="member.role_changed", after={"role": "viewer"}
    ).exists()


def test_an_owner_becoming_an_editor_keeps_their_links(client, team) -> None:
    add_member(team["harbour"], get_user_model().objects.create_user("carol"), Role.OWNER)
    Membership.objects.filter(pk=bob_in(team).pk).update(role=Role.OWNER)
    member_set_role(membership=bob_in(team), role=Role.EDITOR, by=team["alice"])
    assert works(client, team["links"]["own"])


def test_finding_4_a_deactivated_persons_links_stop_working_everywhere(client, team) -> None:
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    users_deactivate(user_ids=[team["bob"].pk], by=staff)
    assert not any(works(client, link) for link in team["links"].values())
    assert set(ShareLink.objects.values_list("revoked_reason", flat=True)) == {"deactivated"}
    assert Entry.objects.filter(action="account.deactivated", actor=staff).count() == 1
    # The project's owners see their project's links go; the personal one is staff's to see.
    revoked = Entry.objects.filter(action="share.revoked")
    assert sorted(e.project_id or 0 for e in revoked) == sorted(
        [0, team["harbour"].pk, team["harbour"].pk]
    )


def test_the_admin_form_deactivates_through_the_same_service(client, team) -> None:
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(staff)
    url = reverse("admin:auth_user_change", args=[team["bob"].pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "is_active"}
    data.update(
        {
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "last_login_0": "",
            "last_login_1": "",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
        }
    )
    data.pop("groups", None), data.pop("user_permissions", None), data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    team["bob"].refresh_from_db()
    assert not team["bob"].is_active
    assert not works(client, team["links"]["own"])
    assert Entry.objects.filter(action="account.deactivated", actor=staff).exists()


def test_a_link_stops_even_when_a_change_bypasses_the_services(client, team) -> None:
    """The rule is checked when the link is opened, not only when the services revoke: a
    membership deleted in the admin's inline or an account switched off in the database."""
    Membership.objects.filter(pk=bob_in(team).pk).delete()
    assert not works(client, team["links"]["own"])
    assert works(client, team["links"]["personal"])
    get_user_model().objects.filter(pk=team["bob"].pk).update(is_active=False)
    assert not works(client, team["links"]["personal"])


def test_a_link_made_by_someone_who_stays_keeps_working(client, team) -> None:
    alices_link = share_create(
        user=team["alice"], image=team["bobs"], expires_in_days=None, show_prompt=False
    )
    member_remove(membership=bob_in(team), by=team["alice"])
    assert works(client, alices_link)


def test_a_move_revokes_the_links_of_makers_without_rights_where_it_went(client, team) -> None:
    studio = make_project(team["alice"], "Studio")
    image_move(user=team["alice"], image=team["alices"], target=studio)
    assert not works(client, team["links"]["others"])
    team["links"]["others"].refresh_from_db()
    assert team["links"]["others"].revoked_reason == "moved"
