"""Issue 12, finding 6: display names cannot impersonate. Nobody may be shown by another
person's display name or username (compared case-insensitively), in the profile form, at sign-up
or in the admin; the database refuses a shared display name too."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts import services
from accounts.models import InvitationState, Profile

from .conftest import signup_data

pytestmark = pytest.mark.django_db
User = get_user_model()

TAKEN = "Someone else is already shown by that name: choose another display name."
A_USERNAME = "That is someone else&#x27;s username: choose a display name of your own."


@pytest.fixture
def grace(staff):
    """The staff member, shown as "Grace Hopper"."""
    Profile.objects.create(user=staff, display_name="Grace Hopper")
    return staff


def _set_display_name(client, user, name: str):
    client.force_login(user)
    return client.post(reverse("accounts:profile"), {"display_name": name})


def test_a_display_name_cannot_impersonate_another_persons_display_name(
    client, user, grace
) -> None:
    response = _set_display_name(client, user, "grace HOPPER")
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert not Profile.objects.filter(user=user).exists()


def test_a_display_name_cannot_be_another_persons_username(client, user, grace) -> None:
    response = _set_display_name(client, user, "Grace")  # grace's username, in another case
    assert A_USERNAME in response.content.decode()
    assert not Profile.objects.filter(user=user).exists()


def test_a_deactivated_persons_name_stays_theirs(client, user, grace) -> None:
    grace.is_active = False
    grace.save(update_fields=["is_active"])
    assert TAKEN in _set_display_name(client, user, "Grace Hopper").content.decode()


def test_a_person_may_be_shown_by_their_own_username_or_keep_their_name(
    client, user, grace
) -> None:
    assert _set_display_name(client, user, "ADA").status_code == 302
    assert Profile.objects.get(user=user).display_name == "ADA"
    assert _set_display_name(client, grace, "Grace Hopper").status_code == 302
    assert _set_display_name(client, grace, "").status_code == 302
    assert _set_display_name(client, user, "").status_code == 302  # many may have none


def test_the_service_refuses_too(user, grace) -> None:
    with pytest.raises(services.DisplayNameRefused, match="already shown by that name"):
        services.profile_update(user=user, display_name=" grace hopper ")


def test_sign_up_refuses_an_impersonating_display_name(client, grace, make_invitation) -> None:
    invitation = make_invitation()
    url = reverse("accounts:join", kwargs={"token": invitation.token})
    for name, message in (("GRACE HOPPER", TAKEN), ("grace", A_USERNAME)):
        response = client.post(url, signup_data("newton", display_name=name))
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not User.objects.filter(username="newton").exists()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN


def test_sign_up_refuses_a_username_that_is_someone_elses_display_name(
    client, grace, make_invitation
) -> None:
    """Without a display name of their own, "lovelace" would be shown as grace is."""
    Profile.objects.filter(user=grace).update(display_name="Lovelace")
    invitation = make_invitation()
    response = client.post(
        reverse("accounts:join", kwargs={"token": invitation.token}),
        signup_data("lovelace", display_name=""),
    )
    assert "Someone else is shown by that name: choose another username." in (
        response.content.decode()
    )
    assert not User.objects.filter(username="lovelace").exists()


def test_the_admin_refuses_an_impersonating_display_name(client, user, grace) -> None:
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root-12345"))
    response = client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "ada",
            "email": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "12:00:00",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-display_name": "Grace hopper",
            "profile-0-user": str(user.pk),
        },
    )
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert not Profile.objects.filter(user=user).exists()


def test_the_database_refuses_a_shared_display_name(user, grace) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=user, display_name="GRACE hopper")


@pytest.mark.django_db(transaction=True)
def test_existing_impersonating_display_names_migrate() -> None:
    """Before the rule, names could be shared: the earliest-joined account keeps a shared one,
    a name that is another person's username is emptied, and the index is then created."""
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_one_active_account_per_email")])
    try:
        old = executor.loader.project_state([("accounts", "0002_one_active_account_per_email")])
        OldProfile = old.apps.get_model("accounts", "Profile")
        people = {name: User.objects.create_user(name) for name in ("ada", "bob", "cy", "dan")}
        for name, shown in (("ada", "Boss"), ("bob", "boss"), ("cy", "ADA"), ("dan", "Dan D.")):
            OldProfile.objects.create(user_id=people[name].pk, display_name=shown)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    shown = dict(Profile.objects.values_list("user__username", "display_name"))
    assert shown == {"ada": "Boss", "bob": "", "cy": "", "dan": "Dan D."}
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user__username="bob").update(display_name="BOSS")
