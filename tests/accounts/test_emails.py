"""Issue 12, finding 1: one active account per e-mail address (compared case-insensitively),
so nobody at their personal cap makes a second account with the same address and spends on."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.models import InvitationState
from projects import services as project_services
from projects.models import Role
from tests.factories import make_project

from .conftest import signup_data

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user(
        "ada", email="Ada@Example.com", password="pw-ada-123456"
    )


def test_a_second_account_cannot_reuse_an_email(client, ada, make_invitation) -> None:
    invitation = make_invitation()
    url = reverse("accounts:join", kwargs={"token": invitation.token})

    response = client.post(url, signup_data("ada2", email="ada@example.COM"))

    assert response.status_code == 200
    assert "Another account already uses this e-mail address." in response.content.decode()
    assert not User.objects.filter(username="ada2").exists()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN


def test_open_signup_refuses_an_email_in_use(client, ada, settings) -> None:
    settings.DARKROOM_OPEN_SIGNUP = True
    response = client.post(reverse("accounts:signup"), signup_data("ada2", email=ada.email))
    assert "Another account already uses this e-mail address." in response.content.decode()
    assert not User.objects.filter(username="ada2").exists()


def test_a_project_link_refuses_an_email_in_use(client, ada, staff) -> None:
    project = make_project(staff, "Harbour")
    invite = project_services.invite_create(project=project, role=Role.EDITOR, created_by=staff)
    response = client.post(
        reverse("projects:join", args=[invite.token]), signup_data("ada2", email=ada.email)
    )
    assert "Another account already uses this e-mail address." in response.content.decode()
    assert not User.objects.filter(username="ada2").exists()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_a_deactivated_accounts_email_can_be_used_again(client, ada, make_invitation) -> None:
    ada.is_active = False
    ada.save(update_fields=["is_active"])
    invitation = make_invitation()
    client.post(
        reverse("accounts:join", kwargs={"token": invitation.token}),
        signup_data("ada2", email=ada.email),
    )
    assert User.objects.get(username="ada2").email == ada.email


def test_the_database_refuses_a_second_active_account_with_an_email(ada) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ada2", email="ADA@example.com")
    # Accounts without an address, and inactive ones, are not counted.
    User.objects.create_user("nobody1", email="")
    User.objects.create_user("nobody2", email="")
    User.objects.create_user("old-ada", email="ada@example.com", is_active=False)
    # Reactivating that one would make two.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(username="old-ada").update(is_active=True)


def test_the_admin_refuses_an_email_in_use(client, ada, staff) -> None:
    other = User.objects.create_user("babbage", email="charles@example.com")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-12345"))
    url = reverse("admin:auth_user_change", args=[other.pk])
    form = {
        "username": "babbage",
        "email": "ada@example.com",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "12:00:00",
        "profile-TOTAL_FORMS": "0",
        "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "Another account already uses this e-mail address." in response.content.decode()
    other.refresh_from_db()
    assert other.email == "charles@example.com"
    # Their own address, in another case, is fine.
    assert client.post(url, {**form, "email": "Charles@example.com"}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_that_share_an_email_migrate() -> None:
    """Before the index, two active accounts could share an address: the earliest keeps it, the
    later one's is emptied (it still logs in), and the index is then created."""
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    try:
        first = User.objects.create_user("first", email="Same@example.com", password="pw-1234567")
        second = User.objects.create_user("second", email="same@EXAMPLE.com")
        gone = User.objects.create_user("gone", email="same@example.com", is_active=False)
        other = User.objects.create_user("other", email="other@example.com")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    emails = dict(User.objects.values_list("username", "email"))
    assert emails == {
        first.username: "Same@example.com",
        second.username: "",
        gone.username: "same@example.com",
        other.username: "other@example.com",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=second.pk).update(email="SAME@example.com")
