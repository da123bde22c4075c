"""Project rules: roles, the last owner, invitation links, moving images."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gallery.services.moving import MoveRefused, generation_move, image_move
from generations.models import OutputImage
from projects import services
from projects.models import Membership, ProjectInvite, Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    return {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-1234")
        for name in ("alice", "bob", "carol", "dave")
    }


def test_creating_a_project_makes_its_creator_the_owner(people) -> None:
    project = services.project_create(user=people["alice"], name="  Harbour  ")
    assert project.name == "Harbour"
    [membership] = project.memberships.all()
    assert (membership.user, membership.role) == (people["alice"], Role.OWNER)


def test_the_last_owner_can_be_neither_demoted_nor_removed(people) -> None:
    project = make_project(people["alice"])
    owner = project.memberships.get()
    with pytest.raises(services.ProjectError, match="at least one owner"):
        services.member_set_role(membership=owner, role=Role.EDITOR)
    with pytest.raises(services.ProjectError, match="at least one owner"):
        services.member_remove(membership=owner)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_can_step_down_once_there_is_another(people) -> None:
    project = make_project(people["alice"])
    add_member(project, people["bob"], Role.OWNER)
    alice = project.memberships.get(user=people["alice"])
    services.member_set_role(membership=alice, role=Role.VIEWER)
    bob = project.memberships.get(user=people["bob"])
    with pytest.raises(services.ProjectError):
        services.member_remove(membership=bob)


def test_an_invitation_link_is_single_use(people) -> None:
    project = make_project(people["alice"])
    invite = services.invite_create(project=project, role=Role.VIEWER, created_by=people["alice"])
    membership = services.invite_accept(token=invite.token, user=people["bob"])
    assert (membership.user, membership.role) == (people["bob"], Role.VIEWER)
    with pytest.raises(services.ProjectError, match="used"):
        services.invite_accept(token=invite.token, user=people["carol"])
    assert not Membership.objects.filter(user=people["carol"]).exists()


def test_an_expired_or_withdrawn_link_is_refused(people) -> None:
    project = make_project(people["alice"])
    expired = services.invite_create(project=project, role=Role.EDITOR, created_by=people["alice"])
    ProjectInvite.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    withdrawn = services.invite_create(
        project=project, role=Role.EDITOR, created_by=people["alice"]
    )
    services.invite_revoke(invite=withdrawn)
    for invite in (expired, withdrawn):
        with pytest.raises(services.ProjectError):
            services.invite_accept(token=invite.token, user=people["bob"])
    assert not Membership.objects.filter(user=people["bob"]).exists()


def test_a_member_opening_a_link_keeps_the_link_unused(people) -> None:
    project = make_project(people["alice"])
    invite = services.invite_create(project=project, role=Role.OWNER, created_by=people["alice"])
    membership = services.invite_accept(token=invite.token, user=people["alice"])
    assert membership.role == Role.OWNER
    invite.refresh_from_db()
    assert invite.used_at is None


def test_the_author_moves_a_personal_image_into_a_project_they_edit(people) -> None:
    project = make_project(people["alice"])
    add_member(project, people["bob"], Role.EDITOR)
    image = make_image(people["bob"])
    image_move(user=people["bob"], image=image, target=project)
    image.refresh_from_db()
    assert image.project == project


def test_nobody_else_moves_a_personal_image(people) -> None:
    project = make_project(people["alice"])
    image = make_image(people["bob"])
    with pytest.raises(MoveRefused, match="author"):
        image_move(user=people["alice"], image=image, target=project)


def test_a_viewer_cannot_move_into_a_project(people) -> None:
    project = make_project(people["alice"])
    add_member(project, people["bob"], Role.VIEWER)
    image = make_image(people["bob"])
    with pytest.raises(MoveRefused, match="editor"):
        image_move(user=people["bob"], image=image, target=project)
    image.refresh_from_db()
    assert image.project is None


def test_moving_between_projects_needs_editor_rights_on_both(people) -> None:
    source = make_project(people["alice"], "Source")
    target = make_project(people["alice"], "Target")
    add_member(source, people["bob"], Role.EDITOR)
    add_member(target, people["bob"], Role.VIEWER)
    image = make_image(people["bob"], project=source)
    with pytest.raises(MoveRefused):
        image_move(user=people["bob"], image=image, target=target)
    Membership.objects.filter(project=target, user=people["bob"]).update(role=Role.EDITOR)
    image_move(user=people["bob"], image=image, target=target)
    image.refresh_from_db()
    assert image.project == target


def test_moving_a_generation_moves_its_images(people) -> None:
    project = make_project(people["alice"])
    image = make_image(people["alice"])
    generation_move(user=people["alice"], generation=image.generation, target=project)
    image.refresh_from_db()
    assert image.project == project
    assert image.generation.project == project
    assert OutputImage.objects.filter(project=project).count() == 1


def test_an_archived_project_takes_no_new_images(people) -> None:
    project = make_project(people["alice"])
    services.project_set_archived(project=project, archived=True)
    image = make_image(people["alice"])
    with pytest.raises(MoveRefused, match="archived"):
        image_move(user=people["alice"], image=image, target=project)
