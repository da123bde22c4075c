"""Invitations in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Invitation, InvitationState

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root"))
    return client


def test_an_admin_creates_an_invitation_signed_with_their_name(admin_client_) -> None:
    response = admin_client_.post(
        reverse("admin:accounts_invitation_add"),
        {
            "email": "newton@example.com",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "12:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    invitation = Invitation.objects.get()
    assert invitation.created_by.username == "root"
    page = admin_client_.get(reverse("admin:accounts_invitation_change", args=[invitation.pk]))
    assert invitation.get_absolute_url() in page.content.decode()


def test_the_revoke_action_expires_invitations(admin_client_) -> None:
    invitation = Invitation.objects.create(created_by=User.objects.get(username="root"))
    admin_client_.post(
        reverse("admin:accounts_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.EXPIRED


def test_the_invitation_admin_is_for_staff_only(client, user) -> None:
    client.force_login(user)
    response = client.get(reverse("admin:accounts_invitation_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
