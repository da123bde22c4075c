"""Issue 12, finding 1: while sign-up is closed, a project's link is not a way around it.

Anyone with an account can create a project and an invitation link to it, so only links that
staff made (or every link, when staff allow it) create accounts; the others add people who
already have one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from projects import services
from projects.models import Membership, ProjectInvite, Role
from tests.factories import make_project

pytestmark = pytest.mark.django_db
User = get_user_model()

NEWCOMER = {
    "username": "newcomer",
    "display_name": "New Comer",
    "email": "new@example.com",
    "password1": "a-long-Passphrase-42",
    "password2": "a-long-Passphrase-42",
}


@pytest.fixture(autouse=True)
def _closed_signup(settings) -> None:
    settings.DARKROOM_OPEN_SIGNUP = False
    settings.DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS = False


def link_made_by(client, maker) -> str:
    """A project of `maker`'s and an editor's link to it, made through the settings page."""
    project = make_project(maker, "Harbour")
    client.force_login(maker)
    client.post(
        reverse("projects:invite_create", args=[project.uuid]), {"role": "editor", "days": 7}
    )
    html = client.get(reverse("projects:settings", args=[project.uuid])).content.decode()
    [link] = re.findall(r'value="http://testserver(/projects/join/[0-9a-f-]+/)"', html)
    client.logout()
    return link


def test_closed_signup_a_project_owners_link_creates_no_account(client, user) -> None:
    link = link_made_by(client, user)

    page = client.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Log in to join" in html
    assert f'href="{reverse("login")}?next={link}"' in html
    assert 'name="password1"' not in html

    response = client.post(link, NEWCOMER)
    assert 'name="password1"' not in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()
    assert ProjectInvite.objects.get().used_at is None


def test_closed_signup_a_project_owners_link_tells_nothing_about_usernames(
    client, user, outsider
) -> None:
    link = link_made_by(client, user)
    response = client.post(link, {**NEWCOMER, "username": outsider.username})
    assert "already exists" not in response.content.decode()


def test_closed_signup_the_service_refuses_a_project_owners_link(user) -> None:
    project = make_project(user, "Harbour")
    invite = services.invite_create(project=project, role=Role.EDITOR, created_by=user)
    with pytest.raises(services.ProjectError, match="log in"):
        services.invite_accept_new_account(token=invite.token, form_data=NEWCOMER)
    assert not User.objects.filter(username="newcomer").exists()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_closed_signup_a_project_owners_link_still_adds_an_existing_account(
    client, user, outsider
) -> None:
    link = link_made_by(client, user)
    client.force_login(outsider)
    client.post(link)
    assert Membership.objects.get(user=outsider).role == Role.EDITOR


def test_closed_signup_the_owner_is_told_their_links_add_existing_accounts(client, user) -> None:
    project = make_project(user, "Harbour")
    client.force_login(user)
    html = client.get(reverse("projects:settings", args=[project.uuid])).content.decode()
    assert "add people who already have a Darkroom account" in html


def test_closed_signup_a_staff_members_link_creates_an_account(client, user) -> None:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    link = link_made_by(client, user)
    assert "Create my account and join" in client.get(link).content.decode()
    client.post(link, NEWCOMER)
    newcomer = User.objects.get(username="newcomer")
    assert Membership.objects.get(user=newcomer).role == Role.EDITOR


def test_closed_signup_a_link_stops_creating_accounts_when_its_maker_leaves_staff(
    client, user
) -> None:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    link = link_made_by(client, user)
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    client.post(link, NEWCOMER)
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize(
    "setting", ["DARKROOM_PROJECT_LINKS_CREATE_ACCOUNTS", "DARKROOM_OPEN_SIGNUP"]
)
def test_staff_can_let_every_owners_link_create_accounts(client, user, settings, setting) -> None:
    setattr(settings, setting, True)
    link = link_made_by(client, user)
    assert "Create my account and join" in client.get(link).content.decode()
    client.post(link, NEWCOMER)
    assert Membership.objects.get(user__username="newcomer").role == Role.EDITOR
