"""Joining by invitation: one link, one account, before it expires."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import selectors, services
from accounts.models import Invitation, InvitationState, Profile

from .conftest import STRONG_PASSWORD, signup_data

pytestmark = pytest.mark.django_db
User = get_user_model()


def join_url(invitation: Invitation) -> str:
    return reverse("accounts:join", kwargs={"token": invitation.token})


# --- The invite page (staff only) -------------------------------------------------------------


def test_the_invite_page_sends_strangers_to_the_login(client) -> None:
    response = client.get(reverse("accounts:invite"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_invite_page_refuses_people_who_are_not_staff(client, outsider) -> None:
    client.force_login(outsider)
    assert client.get(reverse("accounts:invite")).status_code == 403
    assert client.post(reverse("accounts:invite"), {"email": ""}).status_code == 403
    assert not Invitation.objects.exists()


def test_only_staff_see_invite_in_the_nav(client, user, staff) -> None:
    invite_link = f'href="{reverse("accounts:invite")}"'
    client.force_login(user)
    assert invite_link not in client.get(reverse("accounts:profile")).content.decode()
    client.force_login(staff)
    assert invite_link in client.get(reverse("accounts:profile")).content.decode()


def test_staff_create_an_invitation_and_see_its_link(client, staff, settings) -> None:
    client.force_login(staff)
    response = client.post(reverse("accounts:invite"), {"email": "newton@example.com"}, follow=True)
    invitation = Invitation.objects.get()
    assert (invitation.created_by, invitation.email) == (staff, "newton@example.com")
    assert invitation.used_at is None
    expected_expiry = timezone.now() + timedelta(days=settings.DARKROOM_INVITATION_DAYS)
    assert abs(invitation.expires_at - expected_expiry) < timedelta(minutes=1)
    html = response.content.decode()
    assert f'value="http://testserver{join_url(invitation)}"' in html
    assert "Invitation created" in html


def test_used_and_expired_invitations_are_not_listed(client, staff, make_invitation) -> None:
    open_one = make_invitation()
    expired = make_invitation(expires_in=timedelta(seconds=-1))
    client.force_login(staff)
    html = client.get(reverse("accounts:invite")).content.decode()
    assert str(open_one.token) in html
    assert str(expired.token) not in html


# --- Accepting ----------------------------------------------------------------------------------


def test_the_join_page_shows_the_form_with_the_invited_email(client, make_invitation) -> None:
    invitation = make_invitation(email="newton@example.com")
    html = client.get(join_url(invitation)).content.decode()
    for field in ("username", "display_name", "email", "password1", "password2"):
        assert f'name="{field}"' in html
    assert 'value="newton@example.com"' in html


def test_accepting_creates_the_account_and_logs_it_in(client, make_invitation) -> None:
    invitation = make_invitation()
    response = client.post(join_url(invitation), signup_data(), follow=True)

    user = User.objects.get(username="newton")
    assert user.is_active and not user.is_staff
    assert user.email == "newton@example.com"
    assert user.check_password(STRONG_PASSWORD)
    assert Profile.objects.get(user=user).display_name == "Isaac N."
    invitation.refresh_from_db()
    assert invitation.used_by == user
    assert invitation.used_at is not None
    assert invitation.state == InvitationState.USED

    assert response.redirect_chain[-1][0] == reverse("generations:generate")
    assert response.context["user"] == user
    assert "Welcome to Darkroom, Isaac N." in response.content.decode()


def test_a_used_invitation_is_refused_with_a_clear_message(client, make_invitation) -> None:
    invitation = make_invitation()
    client.post(join_url(invitation), signup_data("first"))
    client.logout()

    page = client.get(join_url(invitation))
    assert page.status_code == 410
    assert "already been used" in page.content.decode()
    second = client.post(join_url(invitation), signup_data("second"))
    assert second.status_code == 410
    assert list(User.objects.filter(username__in=["first", "second"])) == [
        User.objects.get(username="first")
    ]


def test_an_expired_invitation_is_refused(client, make_invitation) -> None:
    invitation = make_invitation(expires_in=timedelta(seconds=-1))
    page = client.get(join_url(invitation))
    assert page.status_code == 410
    assert "has expired" in page.content.decode()
    assert client.post(join_url(invitation), signup_data()).status_code == 410
    assert not User.objects.filter(username="newton").exists()


def test_an_unknown_invitation_is_not_found(client) -> None:
    url = reverse("accounts:join", kwargs={"token": uuid.uuid4()})
    page = client.get(url)
    assert page.status_code == 404
    assert "not valid" in page.content.decode()
    assert client.post(url, signup_data()).status_code == 404
    assert not User.objects.filter(username="newton").exists()
    assert client.get("/accounts/join/not-a-uuid/").status_code == 404


def test_an_invalid_form_keeps_the_invitation_open(client, make_invitation, user) -> None:
    invitation = make_invitation()
    cases = [
        signup_data(password2="something-else-entirely"),
        signup_data(password1="12345678", password2="12345678"),
        signup_data("ada"),  # taken
        signup_data("ADA"),  # taken, in another case
        signup_data(email=""),
    ]
    for data in cases:
        response = client.post(join_url(invitation), data)
        assert response.status_code == 200
        assert 'class="error"' in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN
    assert User.objects.count() == 2  # ada and grace (staff): nobody new


def test_the_join_form_names_a_taken_username_only_to_a_valid_invitation(
    client, make_invitation, user, monkeypatch
) -> None:
    """Issue 12, finding 6: whether a username exists is said only once the invitation is
    claimed. This request loaded the link while it was open, but someone used it before the
    claim: the visitor is refused without learning whether "ada" has an account."""
    invitation = make_invitation()
    loaded_while_open = Invitation.objects.get(pk=invitation.pk)
    services.invitation_accept(invitation=invitation, form_data=signup_data("first"))
    monkeypatch.setattr(selectors, "invitation_by_token", lambda token: loaded_while_open)

    response = client.post(join_url(invitation), signup_data("ada"))

    assert response.status_code == 410
    assert "already exists" not in response.content.decode()
    assert User.objects.filter(username__iexact="ada").count() == 1


def test_a_logged_in_person_is_asked_to_log_out_first(client, user, make_invitation) -> None:
    invitation = make_invitation()
    client.force_login(user)
    html = client.get(join_url(invitation)).content.decode()
    assert "log out first" in html
    assert 'name="password1"' not in html
    client.post(join_url(invitation), signup_data())
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN
    assert not User.objects.filter(username="newton").exists()


def test_a_double_submit_creates_one_account(client, make_invitation) -> None:
    invitation = make_invitation()
    first = client.post(join_url(invitation), signup_data("twin"))
    second = client.post(join_url(invitation), signup_data("twin2"))
    assert first.status_code == 302
    assert second.status_code == 410
    assert User.objects.filter(username__startswith="twin").count() == 1


def test_the_claim_refuses_a_stale_copy_of_a_used_invitation(make_invitation) -> None:
    """Two requests that both loaded the invitation while it was open: only the first claim
    wins, because the claim is a conditional UPDATE, not the state read before it."""
    invitation = make_invitation()
    first_view = Invitation.objects.get(pk=invitation.pk)
    second_view = Invitation.objects.get(pk=invitation.pk)
    services.invitation_accept(invitation=first_view, form_data=signup_data("one"))
    assert second_view.state == InvitationState.OPEN  # what the second request saw
    with pytest.raises(services.InvitationUnusable) as refused:
        services.invitation_accept(invitation=second_view, form_data=signup_data("two"))
    assert refused.value.state == InvitationState.USED
    assert not User.objects.filter(username="two").exists()
    assert Invitation.objects.get().used_by == User.objects.get(username="one")


def test_a_taken_username_rolls_the_claim_back(make_invitation, user) -> None:
    """A username taken between the form check and the insert: no account, link still open."""
    invitation = make_invitation()
    with pytest.raises(services.AccountDetailsTaken):
        services.invitation_accept(invitation=invitation, form_data=signup_data("ada"))
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_the_claim_refuses_an_invitation_that_expired_after_loading(make_invitation) -> None:
    invitation = make_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(services.InvitationUnusable) as refused:
        services.invitation_accept(invitation=invitation, form_data=signup_data())
    assert refused.value.state == InvitationState.EXPIRED
    assert not User.objects.filter(username="newton").exists()


def test_revoking_expires_only_open_invitations(make_invitation) -> None:
    open_one, used = make_invitation(), make_invitation()
    services.invitation_accept(invitation=used, form_data=signup_data())
    assert services.invitations_revoke(invitation_ids=[open_one.pk, used.pk]) == 1
    open_one.refresh_from_db()
    assert open_one.state == InvitationState.EXPIRED
