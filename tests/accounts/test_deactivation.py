"""A deactivated person cannot log in, their session stops working, and nothing is deleted."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts import services

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_a_deactivated_person_cannot_log_in(client, user) -> None:
    services.users_deactivate(user_ids=[user.pk], by=User.objects.create_superuser("root"))
    response = client.post(reverse("login"), {"username": "ada", "password": "pw-ada-123456"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_deactivated_persons_session_stops_working(client, user) -> None:
    client.force_login(user)
    assert client.get(reverse("accounts:profile")).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_admin_action_deactivates_and_keeps_the_rows(client, user, outsider) -> None:
    admin = User.objects.create_superuser("root", password="pw-root-123456")
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [user.pk, outsider.pk, admin.pk]},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 person(s) deactivated." in html
    assert "You cannot deactivate yourself." in html
    assert list(User.objects.filter(is_active=False).order_by("username")) == [user, outsider]
    assert User.objects.get(pk=admin.pk).is_active
    assert User.objects.count() == 3


def test_the_user_admin_shows_and_edits_the_display_name(client, user) -> None:
    from accounts.models import Profile

    Profile.objects.create(user=user, display_name="Ada L.")
    client.force_login(User.objects.create_superuser("root"))
    assert "Ada L." in client.get(reverse("admin:auth_user_changelist")).content.decode()
    page = client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()
    assert 'name="profile-0-display_name"' in page
