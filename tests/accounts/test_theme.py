"""The colour theme: a cookie the toggle sets and the server writes onto <html data-theme>, so
the page is painted in the chosen theme from the first frame."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_page_follows_the_system_until_a_theme_is_chosen(client, user) -> None:
    client.force_login(user)

    html = client.get(reverse("generations:generate")).content.decode()

    assert '<html lang="en" data-theme="auto">' in html
    assert 'name="theme" value="auto" aria-pressed="true"' in html


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_chosen_theme_is_on_the_html_element(client, user, theme: str) -> None:
    client.force_login(user)
    client.cookies["theme"] = theme

    html = client.get(reverse("generations:generate")).content.decode()

    assert f'<html lang="en" data-theme="{theme}">' in html
    assert f'name="theme" value="{theme}" aria-pressed="true"' in html


def test_a_cookie_the_server_does_not_know_is_the_system_setting(client) -> None:
    client.cookies["theme"] = '"><script>'

    html = client.get(reverse("login")).content.decode()

    assert 'data-theme="auto"' in html
    assert '<script>"' not in html


def test_the_switch_without_javascript_remembers_the_choice_and_goes_back(client) -> None:
    response = client.post(
        reverse("accounts:theme"), {"theme": "light", "next": "/login/?next=/gallery/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/gallery/"
    cookie = response.cookies["theme"]
    assert cookie.value == "light"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["samesite"] == "Lax"
    assert client.get(reverse("login")).content.decode().count('data-theme="light"') == 1


def test_the_switch_goes_back_only_to_this_site(client) -> None:
    response = client.post(
        reverse("accounts:theme"), {"theme": "dark", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_the_switch_refuses_a_theme_it_does_not_know(client) -> None:
    response = client.post(reverse("accounts:theme"), {"theme": "sepia"})

    assert response.status_code == 400
    assert "theme" not in response.cookies


def test_the_switch_is_a_post(client) -> None:
    assert client.get(reverse("accounts:theme")).status_code == 405
