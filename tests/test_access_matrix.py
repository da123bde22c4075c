"""Every page, partial, file and action, tried by each kind of person.

alice owns the project, bob edits in it, carol views it, dave belongs to another project, and
a stranger is signed out. Nobody outside learns that an object exists: 404, never 403.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from projects.models import Membership, Role
from tests.factories import add_member, make_element, make_image, make_project

pytestmark = pytest.mark.django_db

PEOPLE = ("alice", "bob", "carol", "dave", "stranger")
LOGIN = "login"  # a redirect to the login page


@dataclass
class World:
    users: dict
    project: object
    other_project: object
    project_image: object  # made by bob in the project
    personal_image: object  # alice's, in no project


@pytest.fixture
def world(django_user_model) -> World:
    users = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-1234")
        for name in PEOPLE[:-1]
    }
    project = make_project(users["alice"], "Harbour")
    add_member(project, users["bob"], Role.EDITOR)
    add_member(project, users["carol"], Role.VIEWER)
    other = make_project(users["dave"], "Elsewhere")
    return World(
        users=users,
        project=project,
        other_project=other,
        project_image=make_image(users["bob"], project=project, prompt="shared harbour"),
        personal_image=make_image(users["alice"], prompt="alice alone"),
    )


def client_for(client, world: World, who: str):
    if who != "stranger":
        client.force_login(world.users[who])
    return client


def outcome(response) -> int | str:
    if response.status_code == 302 and "/login/" in response["Location"]:
        return LOGIN
    return response.status_code


READS = {
    # url builder: expected outcome for alice, bob, carol, dave, stranger
    "image page": (
        lambda w: reverse("gallery:image_detail", args=[w.project_image.uuid]),
        (200, 200, 200, 404, LOGIN),
    ),
    "original file": (
        lambda w: reverse("gallery:image_original", args=[w.project_image.uuid]),
        (200, 200, 200, 404, LOGIN),
    ),
    "download": (
        lambda w: reverse("gallery:image_original", args=[w.project_image.uuid]) + "?download=1",
        (200, 200, 200, 404, LOGIN),
    ),
    "thumbnail": (
        lambda w: reverse("gallery:image_thumbnail", args=[w.project_image.uuid, 256]),
        (200, 200, 200, 404, LOGIN),
    ),
    "generation page": (
        lambda w: reverse("generations:generation_detail", args=[w.project_image.generation.uuid]),
        (200, 200, 200, 404, LOGIN),
    ),
    "generation status partial": (
        lambda w: reverse("generations:generation_detail", args=[w.project_image.generation.uuid]),
        (286, 286, 286, 404, LOGIN),
    ),
    "generate again": (
        lambda w: reverse("generations:generate") + f"?again={w.project_image.generation.uuid}",
        (200, 200, 200, 404, LOGIN),
    ),
    "personal image page": (
        lambda w: reverse("gallery:image_detail", args=[w.personal_image.uuid]),
        (200, 404, 404, 404, LOGIN),
    ),
    "personal original": (
        lambda w: reverse("gallery:image_original", args=[w.personal_image.uuid]),
        (200, 404, 404, 404, LOGIN),
    ),
    "personal thumbnail": (
        lambda w: reverse("gallery:image_thumbnail", args=[w.personal_image.uuid, 512]),
        (200, 404, 404, 404, LOGIN),
    ),
    "project gallery": (
        lambda w: reverse("projects:detail", args=[w.project.uuid]),
        (200, 200, 200, 404, LOGIN),
    ),
    "project settings": (
        lambda w: reverse("projects:settings", args=[w.project.uuid]),
        (200, 403, 403, 404, LOGIN),
    ),
    "my gallery": (lambda w: reverse("gallery:gallery"), (200, 200, 200, 200, LOGIN)),
    # Everyone may list the people they share a project with (the outsider: only themself).
    "gallery author options": (
        lambda w: reverse("gallery:gallery_author_options"),
        (200, 200, 200, 200, LOGIN),
    ),
    "recent partial": (lambda w: reverse("generations:recent"), (286, 286, 286, 286, LOGIN)),
    # The studio (issue 11): a run's card, and the poll behind the tab title and the toasts.
    "run card partial": (
        lambda w: reverse("generations:run", args=[w.project_image.generation.uuid]),
        (286, 286, 286, 404, LOGIN),
    ),
    "personal run card partial": (
        lambda w: reverse("generations:run", args=[w.personal_image.generation.uuid]),
        (286, 404, 404, 404, LOGIN),
    ),
    "runs in flight": (lambda w: reverse("generations:runs_active"), (200, 200, 200, 200, LOGIN)),
    "projects list": (lambda w: reverse("projects:list"), (200, 200, 200, 200, LOGIN)),
    "my spend": (lambda w: reverse("spend:mine"), (200, 200, 200, 200, LOGIN)),
    "project spend": (
        lambda w: reverse("spend:project", args=[w.project.uuid]),
        (200, 403, 403, 404, LOGIN),
    ),
    # Nobody in this world is staff.
    "cost review": (lambda w: reverse("spend:review"), (404, 404, 404, 404, LOGIN)),
    # The gallery's views: a filter naming a project one is not in is a 400 that names nothing.
    "gallery favourites": (
        lambda w: reverse("gallery:gallery") + "?starred=1",
        (200, 200, 200, 200, LOGIN),
    ),
    "gallery trash": (
        lambda w: reverse("gallery:gallery") + "?status=trash",
        (200, 200, 200, 200, LOGIN),
    ),
    "gallery of the project": (
        lambda w: reverse("gallery:gallery") + f"?project={w.project.uuid}",
        (200, 200, 200, 400, LOGIN),
    ),
    "gallery next page partial": (
        lambda w: reverse("gallery:gallery") + "?after=" + _cursor_after(w.personal_image),
        (200, 200, 200, 200, LOGIN),
    ),
}


def _cursor_after(image) -> str:
    from config.cursors import encode_cursor

    return encode_cursor(image.created_at, image.pk)


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("view", list(READS))
def test_reads(client, world: World, view: str, who: str) -> None:
    url_for, expected = READS[view]
    headers = {"HX-Request": "true"} if "partial" in view else {}
    response = client_for(client, world, who).get(url_for(world), headers=headers)
    assert outcome(response) == expected[PEOPLE.index(who)]


@pytest.mark.parametrize("who", PEOPLE)
def test_listings_show_nothing_that_is_not_theirs(client, world: World, who: str) -> None:
    c = client_for(client, world, who)
    pages = [
        reverse("gallery:gallery"),
        reverse("generations:recent"),
        reverse("projects:list"),
    ]
    seen = "".join(c.get(url).content.decode() for url in pages)
    assert ("alice alone" in seen or str(world.personal_image.uuid) in seen) == (who == "alice")
    # The gallery shows everything the person may see: the project's image to its members.
    assert (str(world.project_image.uuid) in seen) == (who in ("alice", "bob", "carol"))
    assert ("Harbour" in seen) == (who in ("alice", "bob", "carol"))
    assert ("Elsewhere" in seen) == (who == "dave")


MANAGE = {
    # a POST that only owners may make; expected status for each person
    "invite": lambda w: (
        reverse("projects:invite_create", args=[w.project.uuid]),
        {"role": "viewer", "days": 7},
    ),
    "rename": lambda w: (reverse("projects:settings", args=[w.project.uuid]), {"name": "Renamed"}),
    "archive": lambda w: (reverse("projects:archive", args=[w.project.uuid]), {"archive": "1"}),
    "change role": lambda w: (
        reverse(
            "projects:member_role",
            args=[w.project.uuid, Membership.objects.get(user=w.users["carol"]).uuid],
        ),
        {"role": "owner"},
    ),
    "project budget": lambda w: (
        reverse("spend:project_budget", args=[w.project.uuid]),
        {"monthly_limit": "5"},
    ),
    "remove member": lambda w: (
        reverse(
            "projects:member_remove",
            args=[w.project.uuid, Membership.objects.get(user=w.users["carol"]).uuid],
        ),
        {},
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action", list(MANAGE))
def test_only_owners_manage_a_project(client, world: World, action: str, who: str) -> None:
    url, data = MANAGE[action](world)
    before = _project_state(world)
    response = client_for(client, world, who).post(url, data)
    expected = {"alice": 302, "bob": 403, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected
    if who != "alice":
        assert _project_state(world) == before


def _project_state(world: World) -> tuple:
    world.project.refresh_from_db()
    from spend.models import Budget

    return (
        world.project.name,
        world.project.archived_at,
        Budget.objects.filter(project=world.project).count(),
        world.project.invites.count(),
        tuple(world.project.memberships.order_by("pk").values_list("user_id", "role")),
    )


@pytest.mark.parametrize("who", PEOPLE)
def test_moving_an_image_out_of_the_project(client, world: World, who: str) -> None:
    # Everyone gets editor rights in the other project, so only rights in the source matter.
    for name in ("alice", "bob", "carol"):
        add_member(world.other_project, world.users[name], Role.EDITOR)
    url = reverse("gallery:image_move", args=[world.project_image.uuid])
    response = client_for(client, world, who).post(url, {"project": world.other_project.uuid})
    world.project_image.refresh_from_db()
    moved = world.project_image.project == world.other_project
    assert moved == (who in ("alice", "bob"))
    assert outcome(response) == {"dave": 404, "stranger": LOGIN}.get(who, 302)


@pytest.mark.parametrize("who", ["bob", "carol", "dave"])
def test_nobody_generates_into_a_project_they_cannot_edit(client, world: World, who: str) -> None:
    from generations.models import Generation

    client.force_login(world.users[who])
    response = client.post(
        reverse("generations:generate"),
        {
            "project": str(world.project.uuid),
            "prompt": "sneaky",
            "aspect_ratio": "auto",
            "resolution": "1k",
            "result_type": "single",
            "num_images": 1,
        },
    )
    created = Generation.objects.filter(prompt="sneaky", project=world.project).exists()
    assert created == (who == "bob")
    if who != "bob":
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_sharing_the_project_image(client, world: World, who: str) -> None:
    from generations.models import ShareLink

    url = reverse("gallery:image_share", args=[world.project_image.uuid])
    response = client_for(client, world, who).post(url, {"expires": "7"})
    created = ShareLink.objects.filter(image=world.project_image).exists()
    assert created == (who in ("alice", "bob"))
    expected = {"alice": 302, "bob": 302, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_revoking_a_share_link(client, world: World, who: str) -> None:
    from gallery.services.sharing import share_create

    # bob (the author) shares; the owner, the author and the link's maker may revoke.
    link = share_create(
        user=world.users["bob"], image=world.project_image, expires_in_days=None, show_prompt=False
    )
    url = reverse("gallery:share_revoke", args=[world.project_image.uuid, link.token])
    response = client_for(client, world, who).post(url)
    link.refresh_from_db()
    assert (link.revoked_at is not None) == (who in ("alice", "bob"))
    expected = {"alice": 302, "bob": 302, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


# --- Kling elements (issue 5) ----------------------------------------------------------------


@pytest.fixture
def elements(world: World) -> dict:
    """bob's element in the project's library, alice's personal one (both with a preview),
    which the project's image was generated with."""
    made = {
        "project": make_element(
            world.users["bob"],
            project=world.project,
            name="Harbour Cat",
            kling_element_id="1001",
            preview=True,
        ),
        "personal": make_element(
            world.users["alice"], name="Alice Own", kling_element_id="1002", preview=True
        ),
    }
    world.project_image.generation.element_links.create(element=made["personal"], position=0)
    return made


ELEMENT_READS = {
    "element library": (lambda w, e: reverse("elements:library"), (200, 200, 200, 200, LOGIN)),
    "project element preview": (
        lambda w, e: reverse("elements:preview", args=[e["project"].uuid]),
        (200, 200, 200, 404, LOGIN),
    ),
    "project element edit page": (
        lambda w, e: reverse("elements:edit", args=[e["project"].uuid]),
        (200, 200, 403, 404, LOGIN),
    ),
    "new project element page": (
        lambda w, e: reverse("elements:create_in_project", args=[w.project.uuid]),
        (200, 200, 403, 404, LOGIN),
    ),
    "new personal element page": (
        lambda w, e: reverse("elements:create"),
        (200, 200, 200, 200, LOGIN),
    ),
    "personal element preview": (
        lambda w, e: reverse("elements:preview", args=[e["personal"].uuid]),
        (200, 404, 404, 404, LOGIN),
    ),
    "personal element edit page": (
        lambda w, e: reverse("elements:edit", args=[e["personal"].uuid]),
        (200, 404, 404, 404, LOGIN),
    ),
    # On the page of a generation that used it, the generation's rights apply.
    "personal element preview on a project generation": (
        lambda w, e: reverse(
            "generations:generation_element_preview",
            args=[w.project_image.generation.uuid, e["personal"].uuid],
        ),
        (200, 200, 200, 404, LOGIN),
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("view", list(ELEMENT_READS))
def test_element_reads(client, world: World, elements: dict, view: str, who: str) -> None:
    url_for, expected = ELEMENT_READS[view]
    response = client_for(client, world, who).get(url_for(world, elements))
    assert outcome(response) == expected[PEOPLE.index(who)]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("which", ["project", "personal"])
def test_archiving_an_element(client, world: World, elements: dict, which: str, who: str) -> None:
    element = elements[which]
    url = reverse("elements:archive", args=[element.uuid])
    response = client_for(client, world, who).post(url, {"archive": "1"})
    element.refresh_from_db()
    allowed = ("alice", "bob") if which == "project" else ("alice",)
    assert element.is_archived == (who in allowed)
    refused = {"project": {"carol": 403}, "personal": {"bob": 404, "carol": 404}}[which]
    expected = 302 if who in allowed else refused.get(who, {"stranger": LOGIN}.get(who, 404))
    assert outcome(response) == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_creating_a_project_element(client, world: World, who: str) -> None:
    from elements.models import Element

    url = reverse("elements:create_in_project", args=[world.project.uuid])
    data = {"name": f"By {who}", "kling_element_id": "77", "note": ""}
    response = client_for(client, world, who).post(url, data)
    created = Element.objects.filter(project=world.project, name=f"By {who}").exists()
    assert created == (who in ("alice", "bob"))
    expected = {"alice": 302, "bob": 302, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_zipping_the_project_image(client, world: World, who: str) -> None:
    url = reverse("gallery:bulk_zip")
    response = client_for(client, world, who).post(url, {"images": [world.project_image.uuid]})
    expected = {"dave": 404, "stranger": LOGIN}.get(who, 200)
    assert outcome(response) == expected
    if expected == 200:
        assert b"".join(response.streaming_content).startswith(b"PK")


@pytest.mark.parametrize("who", PEOPLE)
def test_moving_many_out_of_the_project(client, world: World, who: str) -> None:
    for name in ("alice", "bob", "carol"):
        add_member(world.other_project, world.users[name], Role.EDITOR)
    url = reverse("gallery:bulk_move")
    data = {"images": [world.project_image.uuid], "project": world.other_project.uuid}
    response = client_for(client, world, who).post(url, data)
    world.project_image.refresh_from_db()
    assert (world.project_image.project == world.other_project) == (who in ("alice", "bob"))
    assert outcome(response) == {"dave": 404, "stranger": LOGIN}.get(who, 302)


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action", ["bulk_trash", "bulk_restore"])
def test_trashing_and_restoring_the_project_image(
    client, world: World, action: str, who: str
) -> None:
    from gallery.services.trash import images_trash

    image = world.project_image
    if action == "bulk_restore":
        images_trash(user=world.users["bob"], images=[image])
    url = reverse(f"gallery:{action}")
    response = client_for(client, world, who).post(url, {"images": [image.uuid]})
    image.refresh_from_db()
    acted = (image.deleted_at is not None) == (action == "bulk_trash")
    assert acted == (who in ("alice", "bob"))
    expected = {"alice": 302, "bob": 302, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


# --- the gallery (issue 6) ------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_starring_the_project_image(client, world: World, who: str) -> None:
    from generations.models import Favourite

    url = reverse("gallery:image_favourite", args=[world.project_image.uuid])
    response = client_for(client, world, who).post(url)
    # A star is personal: anyone who may see the image may star it.
    starred = Favourite.objects.filter(image=world.project_image).exists()
    assert starred == (who in ("alice", "bob", "carol"))
    assert outcome(response) == {"dave": 404, "stranger": LOGIN}.get(who, 302)


@pytest.mark.parametrize("who", PEOPLE)
def test_the_trash_lists_only_what_the_person_may_see(client, world: World, who: str) -> None:
    from gallery.services.trash import images_trash

    images_trash(user=world.users["bob"], images=[world.project_image])
    images_trash(user=world.users["alice"], images=[world.personal_image])
    seen = client_for(client, world, who).get(reverse("gallery:gallery") + "?status=trash")
    html = seen.content.decode()
    assert (str(world.project_image.uuid) in html) == (who in ("alice", "bob", "carol"))
    assert (str(world.personal_image.uuid) in html) == (who == "alice")


# --- the audit trail and moves back (issue 12) ------------------------------------------------


@pytest.fixture
def moved_out(world: World):
    """A batch of moves out of the project: alice moved an image of hers to another project."""
    from gallery.services.moving import image_move, moves_out_of

    elsewhere = make_project(world.users["alice"], "Alice's other")
    image = make_image(world.users["alice"], project=world.project, prompt="taken out")
    image_move(user=world.users["alice"], image=image, target=elsewhere)
    [batch] = moves_out_of(project=world.project)
    return image, batch


AUDIT_READS = {
    "project audit trail": (
        lambda w, b: reverse("projects:trail", args=[w.project.uuid]),
        (200, 403, 403, 404, LOGIN),
    ),
    "moves back confirmation": (
        lambda w, b: reverse("projects:moves_undo", args=[w.project.uuid, b.batch]),
        (200, 403, 403, 404, LOGIN),
    ),
    # Nobody in this world is staff.
    "staff audit trail": (lambda w, b: reverse("audit:trail"), (404, 404, 404, 404, LOGIN)),
    "staff audit trail as CSV": (
        lambda w, b: reverse("audit:trail") + "?format=csv",
        (404, 404, 404, 404, LOGIN),
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("view", list(AUDIT_READS))
def test_audit_reads(client, world: World, moved_out, view: str, who: str) -> None:
    url_for, expected = AUDIT_READS[view]
    response = client_for(client, world, who).get(url_for(world, moved_out[1]))
    assert outcome(response) == expected[PEOPLE.index(who)]


def test_staff_read_the_whole_trail(client, world: World, staff) -> None:
    client.force_login(staff)
    assert client.get(reverse("audit:trail")).status_code == 200
    assert client.get(reverse("audit:trail") + "?format=csv").status_code == 200
    assert client.get(reverse("admin:audit_entry_changelist")).status_code == 200


@pytest.mark.parametrize("who", PEOPLE)
def test_moving_images_back(client, world: World, moved_out, who: str) -> None:
    image, batch = moved_out
    url = reverse("projects:moves_undo", args=[world.project.uuid, batch.batch])
    response = client_for(client, world, who).post(url, {"confirm": "yes"})
    image.refresh_from_db()
    assert (image.project == world.project) == (who == "alice")
    expected = {"alice": 302, "bob": 403, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


# --- people who left: removed, demoted to viewer, deactivated (issue 12, finding 4) -----------
# bob made the project image and was its project's editor. Each row is what he may still do.

FORMER = ("removed", "demoted", "deactivated")


def _make_former(world: World, how: str) -> None:
    from accounts.services import users_deactivate
    from projects.services import member_remove, member_set_role

    membership = Membership.objects.get(project=world.project, user=world.users["bob"])
    if how == "removed":
        member_remove(membership=membership, by=world.users["alice"])
    elif how == "demoted":
        member_set_role(membership=membership, role=Role.VIEWER, by=world.users["alice"])
    else:
        users_deactivate(user_ids=[world.users["bob"].pk], by=world.users["alice"])


FORMER_READS = {
    # url builder: expected outcome when bob is removed, demoted, deactivated
    "image page": (
        lambda w: reverse("gallery:image_detail", args=[w.project_image.uuid]),
        (404, 200, LOGIN),
    ),
    "original": (
        lambda w: reverse("gallery:image_original", args=[w.project_image.uuid]),
        (404, 200, LOGIN),
    ),
    "download": (
        lambda w: reverse("gallery:image_original", args=[w.project_image.uuid]) + "?download=1",
        (404, 200, LOGIN),
    ),
    "thumbnail": (
        lambda w: reverse("gallery:image_thumbnail", args=[w.project_image.uuid, 256]),
        (404, 200, LOGIN),
    ),
    "generation page": (
        lambda w: reverse("generations:generation_detail", args=[w.project_image.generation.uuid]),
        (404, 200, LOGIN),
    ),
    "generate again": (
        lambda w: reverse("generations:generate") + f"?again={w.project_image.generation.uuid}",
        (404, 200, LOGIN),
    ),
}


@pytest.mark.parametrize("how", FORMER)
@pytest.mark.parametrize("view", list(FORMER_READS))
def test_former_members_reads(client, world: World, view: str, how: str) -> None:
    client.force_login(world.users["bob"])
    _make_former(world, how)
    url_for, expected = FORMER_READS[view]
    assert outcome(client.get(url_for(world))) == expected[FORMER.index(how)]


def _trash(world: World) -> None:
    from gallery.services.trash import images_trash

    images_trash(user=world.users["alice"], images=[world.project_image])


FORMER_ACTIONS = {
    # (url, data, set-up, did it happen?): expected outcome when removed, demoted, deactivated
    "ZIP": (
        lambda w: (reverse("gallery:bulk_zip"), {"images": [w.project_image.uuid]}),
        None,
        None,
        (404, 200, LOGIN),
    ),
    "share": (
        lambda w: (reverse("gallery:image_share", args=[w.project_image.uuid]), {}),
        None,
        lambda w: w.project_image.share_links.exists(),
        (404, 403, LOGIN),
    ),
    "trash": (
        lambda w: (reverse("gallery:bulk_trash"), {"images": [w.project_image.uuid]}),
        None,
        lambda w: _reload(w.project_image).deleted_at is not None,
        (404, 403, LOGIN),
    ),
    "restore": (
        lambda w: (reverse("gallery:bulk_restore"), {"images": [w.project_image.uuid]}),
        _trash,
        lambda w: _reload(w.project_image).deleted_at is None,
        (404, 403, LOGIN),
    ),
    "move out": (
        lambda w: (
            reverse("gallery:image_move", args=[w.project_image.uuid]),
            {"project": w.other_project.uuid},
        ),
        None,
        lambda w: _reload(w.project_image).project_id == w.other_project.pk,
        (404, 302, LOGIN),  # demoted: back to the image page with the refusal
    ),
    "bulk move out": (
        lambda w: (
            reverse("gallery:bulk_move"),
            {"images": [w.project_image.uuid], "project": w.other_project.uuid},
        ),
        None,
        lambda w: _reload(w.project_image).project_id == w.other_project.pk,
        (404, 302, LOGIN),
    ),
}


def _reload(image):
    from generations.models import OutputImage

    return OutputImage.objects.get(pk=image.pk)


@pytest.mark.parametrize("how", FORMER)
@pytest.mark.parametrize("action", list(FORMER_ACTIONS))
def test_former_members_actions(client, world: World, action: str, how: str) -> None:
    # bob may put images into the other project, so only his rights in his old one matter.
    add_member(world.other_project, world.users["bob"], Role.EDITOR)
    url_for, set_up, happened, expected = FORMER_ACTIONS[action]
    if set_up is not None:
        set_up(world)
    client.force_login(world.users["bob"])
    _make_former(world, how)
    url, data = url_for(world)
    response = client.post(url, data)
    assert outcome(response) == expected[FORMER.index(how)]
    if happened is not None:
        assert not happened(world)


@pytest.mark.parametrize("how", FORMER)
def test_former_members_links_stop_working(client, world: World, how: str) -> None:
    from gallery.services.sharing import share_create

    link = share_create(
        user=world.users["bob"], image=world.project_image, expires_in_days=None, show_prompt=False
    )
    page = reverse("gallery:shared_image", args=[link.token])
    assert client.get(page).status_code == 200
    _make_former(world, how)
    assert client.get(page).status_code == 410


# --- the studio (issue 11) ------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_running_the_project_generation_again(client, world: World, who: str, pipeline) -> None:
    from generations.models import Generation

    source = world.project_image.generation
    url = reverse("generations:generation_again", args=[source.uuid])
    response = client_for(client, world, who).post(url)
    made = Generation.objects.filter(prompt="shared harbour").exclude(pk=source.pk)
    # Only those who may generate in the project run it again there; it is theirs.
    assert [g.owner.username for g in made] == ([who] if who in ("alice", "bob") else [])
    assert outcome(response) == {"dave": 404, "stranger": LOGIN}.get(who, 302)


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action", ["image_trash", "image_restore"])
def test_deleting_and_undoing_from_a_run(client, world: World, action: str, who: str) -> None:
    from gallery.services.trash import images_trash

    image = world.project_image
    if action == "image_restore":
        images_trash(user=world.users["bob"], images=[image])
    url = reverse(f"gallery:{action}", args=[image.uuid])
    response = client_for(client, world, who).post(url)
    image.refresh_from_db()
    acted = (image.deleted_at is not None) == (action == "image_trash")
    assert acted == (who in ("alice", "bob"))
    expected = {"alice": 302, "bob": 302, "carol": 403, "dave": 404, "stranger": LOGIN}[who]
    assert outcome(response) == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_the_runs_in_flight_are_only_ones_own(client, world: World, who: str) -> None:
    from generations.models import Generation, Status

    Generation.objects.filter(pk=world.project_image.generation_id).update(status=Status.PROCESSING)
    response = client_for(client, world, who).get(reverse("generations:runs_active"))
    if who == "stranger":
        assert outcome(response) == LOGIN
        return
    # bob made it: only bob's title counts it, though alice and carol can see it.
    assert len(response.json()["runs"]) == (1 if who == "bob" else 0)
