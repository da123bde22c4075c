"""Display names, and the profile page where a person sets theirs."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse

from accounts.models import Profile
from accounts.selectors import display_name_of

pytestmark = pytest.mark.django_db


def test_display_name_falls_back_to_the_username(user) -> None:
    assert display_name_of(user) == "ada"
    Profile.objects.create(user=user, display_name="")
    user.refresh_from_db()
    assert display_name_of(user) == "ada"


def test_display_name_is_the_profiles_when_set(user) -> None:
    Profile.objects.create(user=user, display_name="Ada Lovelace")
    user.refresh_from_db()
    assert display_name_of(user) == "Ada Lovelace"


def test_the_template_filter_shows_the_display_name(user) -> None:
    Profile.objects.create(user=user, display_name="Ada <L>")
    user.refresh_from_db()
    html = Template("{% load accounts_tags %}{{ author|display_name }}").render(
        Context({"author": user})
    )
    assert html == "Ada &lt;L&gt;"


def test_the_profile_page_needs_a_login(client) -> None:
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_profile_page_shows_username_and_email(client, user) -> None:
    user.email = "ada@example.com"
    user.save()
    client.force_login(user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "ada@example.com" in html
    assert "<dd>ada</dd>" in html
    assert 'name="display_name"' in html
    assert not Profile.objects.exists(), "Viewing the page creates nothing."


def test_a_person_sets_their_display_name_and_the_nav_shows_it(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"), {"display_name": "  Ada Lovelace "}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert Profile.objects.get(user=user).display_name == "Ada Lovelace"
    html = response.content.decode()
    assert "Profile saved." in html
    assert f'href="{reverse("accounts:profile")}"' in html
    assert "Ada Lovelace</a>" in html


def test_a_too_long_display_name_is_refused(client, user) -> None:
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": "x" * 81})
    assert response.status_code == 200
    assert "at most 80 characters" in response.content.decode()
    assert not Profile.objects.exists()


def test_the_profile_form_needs_the_csrf_token(user) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"display_name": "Forged"})
    assert response.status_code == 403
    assert not Profile.objects.exists()
