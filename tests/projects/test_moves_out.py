"""Images in a project are the project's (issue 12, finding 3): who may take them out, the
record of every move, and the owners moving images back."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import Entry
from gallery.services.moving import generation_move, image_move, moves_out_of
from gallery.services.trash import images_trash
from generations.models import ImageMove, OutputImage
from projects import services as project_services
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(django_user_model) -> dict:
    """Harbour: alice owns it, bob and carol edit in it. Bob also owns a private project."""
    people = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-123456")
        for name in ("alice", "bob", "carol")
    }
    harbour = make_project(people["alice"], "Harbour")
    add_member(harbour, people["bob"], Role.EDITOR)
    add_member(harbour, people["carol"], Role.EDITOR)
    private = make_project(people["bob"], "Bob's corner")
    return {**people, "harbour": harbour, "private": private}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def project_of(image: OutputImage):
    return OutputImage.objects.get(pk=image.pk).project


def test_finding_3_an_editor_cannot_take_other_members_images_out_of_a_project(
    client, team
) -> None:
    """Bob, an editor, bulk-moves Carol's and Alice's images into his private project: those are
    refused with a message that says why, his own image moves, and the move is recorded. On the
    old code all three moved and nothing recorded it."""
    carols = [make_image(team["carol"], project=team["harbour"]) for _ in range(2)]
    alices = make_image(team["alice"], project=team["harbour"])
    bobs = make_image(team["bob"], project=team["harbour"], prompt="bob's own boat")
    client.force_login(team["bob"])

    response = client.post(
        reverse("gallery:bulk_move"),
        {
            "images": [str(i.uuid) for i in (*carols, alices, bobs)],
            "project": str(team["private"].uuid),
        },
    )

    assert response.status_code == 302
    assert [project_of(i) for i in (*carols, alices)] == [team["harbour"]] * 3
    assert project_of(bobs) == team["private"]
    assert messages_of(response) == [
        "Moved 1; 3 could not be moved: Images in Harbour belong to the project: only its "
        "owners can move other people's images out of it. (3 images)"
    ]
    [move] = ImageMove.objects.all()
    assert (move.image, move.from_project, move.to_project, move.moved_by) == (
        bobs,
        team["harbour"],
        team["private"],
        team["bob"],
    )
    [entry] = Entry.objects.filter(action="image.moved")
    assert (entry.actor, entry.project, entry.object_id) == (
        team["bob"],
        team["harbour"],
        str(bobs.uuid),
    )
    assert (entry.before, entry.after) == ({"project": "Harbour"}, {"project": "Bob's corner"})
    assert entry.address == "127.0.0.1"


def test_the_image_page_refuses_it_too(client, team) -> None:
    carols = make_image(team["carol"], project=team["harbour"])
    client.force_login(team["bob"])
    page = client.get(reverse("gallery:image_detail", args=[carols.uuid])).content.decode()
    assert reverse("gallery:image_move", args=[carols.uuid]) not in page  # no Move form
    response = client.post(
        reverse("gallery:image_move", args=[carols.uuid]),
        {"project": str(team["private"].uuid)},
    )
    assert project_of(carols) == team["harbour"]
    assert "only its owners can move other people's images out of it" in messages_of(response)[0]


def test_an_owner_moves_anyones_image_out_and_an_author_their_own(team) -> None:
    add_member(team["private"], team["alice"], Role.EDITOR)
    carols = make_image(team["carol"], project=team["harbour"])
    bobs = make_image(team["bob"], project=team["harbour"])
    image_move(user=team["alice"], image=carols, target=team["private"])
    image_move(user=team["bob"], image=bobs, target=team["private"])
    assert project_of(carols) == project_of(bobs) == team["private"]


def test_an_author_demoted_to_viewer_no_longer_moves_their_image_out(team) -> None:
    from gallery.services.moving import MoveRefused

    bobs = make_image(team["bob"], project=team["harbour"])
    membership = team["harbour"].memberships.get(user=team["bob"])
    project_services.member_set_role(membership=membership, role=Role.VIEWER, by=team["alice"])
    with pytest.raises(MoveRefused, match="editor of Harbour"):
        image_move(user=team["bob"], image=bobs, target=team["private"])


def test_every_move_is_recorded(team) -> None:
    personal = make_image(team["bob"], prompt="from home")
    image_move(user=team["bob"], image=personal, target=team["harbour"])
    generated = make_image(team["bob"], project=team["harbour"], prompt="a whole run")
    generation_move(user=team["bob"], generation=generated.generation, target=team["private"])

    moves = list(ImageMove.objects.order_by("pk"))
    assert [(m.image, m.from_project, m.to_project, m.moved_by) for m in moves] == [
        (personal, None, team["harbour"], team["bob"]),
        (generated, team["harbour"], team["private"], team["bob"]),
    ]
    assert all(m.moved_at is not None for m in moves)
    entries = list(Entry.objects.filter(action="image.moved").order_by("pk"))
    assert [(e.project, e.before, e.after) for e in entries] == [
        (team["harbour"], {"project": "(personal)"}, {"project": "Harbour"}),
        (team["harbour"], {"project": "Harbour"}, {"project": "Bob's corner"}),
    ]


# Moving back.


def _bobs_batch(team, count: int = 2) -> list[OutputImage]:
    images = [make_image(team["bob"], project=team["harbour"]) for _ in range(count)]
    from gallery.services.bulk import images_move

    memberships = {m.project_id: m for m in team["bob"].memberships.select_related("project")}
    loaded = list(
        OutputImage.objects.filter(pk__in=[i.pk for i in images]).select_related(
            "generation", "project"
        )
    )
    images_move(user=team["bob"], images=loaded, target=team["private"], memberships=memberships)
    return images


def test_the_owner_sees_the_moves_out_and_moves_them_back(client, team) -> None:
    images = _bobs_batch(team)
    [batch] = moves_out_of(project=team["harbour"])
    settings_url = reverse("projects:settings", args=[team["harbour"].uuid])
    undo_url = reverse("projects:moves_undo", args=[team["harbour"].uuid, batch.batch])
    client.force_login(team["alice"])

    page = client.get(settings_url).content.decode()
    assert "Images moved out" in page and "Bob&#x27;s corner" in page and undo_url in page
    confirm = client.get(undo_url)
    assert confirm.status_code == 200
    assert "moved 2 images from Harbour to Bob&#x27;s corner" in confirm.content.decode()

    # Without the confirmation ticked nothing happens.
    refused = client.post(undo_url)
    assert refused.status_code == 302
    assert messages_of(refused) == ["Tick the box to confirm, then move them back."]
    client.get(refused["Location"])  # shows (and so uses up) the message
    assert [project_of(i) for i in images] == [team["private"]] * 2

    done = client.post(undo_url, {"confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == settings_url
    assert messages_of(done) == ["Moved 2 images back."]
    assert [project_of(i) for i in images] == [team["harbour"]] * 2
    undos = ImageMove.objects.filter(undoes__isnull=False)
    assert {(u.from_project, u.to_project, u.moved_by) for u in undos} == {
        (team["private"], team["harbour"], team["alice"])
    }
    entries = Entry.objects.filter(action="image.move_undone")
    assert {(e.actor, e.project) for e in entries} == {(team["alice"], team["harbour"])}
    assert entries.count() == 2
    # Done: not offered again, and a second POST moves nothing.
    [batch] = moves_out_of(project=team["harbour"])
    assert not batch.undoable
    assert undo_url not in client.get(settings_url).content.decode()
    again = client.post(undo_url, {"confirm": "yes"})
    assert messages_of(again) == ["Moved 0 images back."]
    assert ImageMove.objects.filter(undoes__isnull=False).count() == 2


def test_only_what_is_still_where_the_move_put_it_comes_back(team) -> None:
    from gallery.services.moving import moves_undo

    kept, trashed, moved_on = _bobs_batch(team, 3)
    images_trash(user=team["bob"], images=[OutputImage.objects.get(pk=trashed.pk)])
    elsewhere = make_project(team["bob"], "Elsewhere")
    image_move(user=team["bob"], image=OutputImage.objects.get(pk=moved_on.pk), target=elsewhere)
    [batch] = moves_out_of(project=team["harbour"])

    report = moves_undo(user=team["alice"], project=team["harbour"], batch=batch.batch)

    assert report.moved_back == 1
    assert report.refusals == {"in the trash": 1, "moved again since": 1}
    assert str(report).startswith("Moved 1 image back. Not moved back: ")
    assert [project_of(i) for i in (kept, trashed, moved_on)] == [
        team["harbour"],
        team["private"],
        elsewhere,
    ]


def test_an_undo_is_never_undone(client, team) -> None:
    """The undo is a move out of Bob's project, but it is no batch he can undo: otherwise he
    would take the images again."""
    from gallery.services.moving import moves_undo

    _bobs_batch(team)
    [batch] = moves_out_of(project=team["harbour"])
    moves_undo(user=team["alice"], project=team["harbour"], batch=batch.batch)
    assert moves_out_of(project=team["private"]) == []
    undo = ImageMove.objects.filter(undoes__isnull=False).first()
    client.force_login(team["bob"])
    url = reverse("projects:moves_undo", args=[team["private"].uuid, undo.batch])
    assert client.post(url, {"confirm": "yes"}).status_code == 404


def test_moving_back_waits_for_the_project_to_leave_the_archive(client, team) -> None:
    images = _bobs_batch(team, 1)
    project_services.project_set_archived(project=team["harbour"], archived=True)
    [batch] = moves_out_of(project=team["harbour"])
    client.force_login(team["alice"])
    url = reverse("projects:moves_undo", args=[team["harbour"].uuid, batch.batch])
    response = client.post(url, {"confirm": "yes"})
    assert messages_of(response) == ["Harbour is archived: restore it first to move images back."]
    assert project_of(images[0]) == team["private"]
