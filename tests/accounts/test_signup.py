"""Open sign-up: off unless DARKROOM_OPEN_SIGNUP says so."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from .conftest import signup_data

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_open_signup_is_off_by_default() -> None:
    from django.conf import settings

    assert settings.DARKROOM_OPEN_SIGNUP is False


def test_when_off_the_page_is_not_found_and_creates_nothing(client, settings) -> None:
    settings.DARKROOM_OPEN_SIGNUP = False
    assert client.get(reverse("accounts:signup")).status_code == 404
    assert client.post(reverse("accounts:signup"), signup_data()).status_code == 404
    assert not User.objects.filter(username="newton").exists()
    assert reverse("accounts:signup") not in client.get(reverse("login")).content.decode()


def test_when_on_anyone_can_create_an_account(client, settings) -> None:
    settings.DARKROOM_OPEN_SIGNUP = True
    assert reverse("accounts:signup") in client.get(reverse("login")).content.decode()
    response = client.post(reverse("accounts:signup"), signup_data(), follow=True)
    user = User.objects.get(username="newton")
    assert response.context["user"] == user
    assert user.profile.display_name == "Isaac N."


def test_when_on_the_form_still_validates(client, settings, user) -> None:
    settings.DARKROOM_OPEN_SIGNUP = True
    response = client.post(reverse("accounts:signup"), signup_data("ada"))
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.filter(username="ada").count() == 1
