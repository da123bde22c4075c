"""The 403, 404, 500 and CSRF failure pages: Darkroom's look, words a person understands, and
a way home; the 500 page renders with no request and no database."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import Client
from django.urls import path, reverse

from tests.factories import make_image


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom)]


@pytest.mark.django_db
def test_a_bad_address_is_the_styled_404_with_a_way_home(client, user) -> None:
    client.force_login(user)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "css/palette.css" in html and "css/darkroom.css" in html
    assert '<p class="error-code">404</p>' in html
    assert "<h1>Nothing here</h1>" in html
    assert f'href="{reverse("generations:generate")}">Back to the studio</a>' in html
    assert 'class="topbar"' in html  # the app's bar: the rest of Darkroom is a click away


@pytest.mark.django_db
def test_an_image_that_is_not_yours_is_the_same_404(client, user, outsider) -> None:
    image = make_image(user)
    client.force_login(outsider)

    response = client.get(reverse("gallery:image_detail", args=[image.uuid]))

    assert response.status_code == 404
    assert "<h1>Nothing here</h1>" in response.content.decode()


@pytest.mark.django_db
def test_a_forbidden_page_is_the_styled_403(client, user) -> None:
    client.force_login(user)  # not staff: inviting is refused

    response = client.get(reverse("accounts:invite"))

    assert response.status_code == 403
    html = response.content.decode()
    assert '<p class="error-code">403</p>' in html
    assert "<h1>Not allowed</h1>" in html
    assert "Back to the studio</a>" in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_crash_is_the_styled_500() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert "css/palette.css" in html
    assert 'href="/">Back to the studio</a>' in html
    assert "a bug" not in html


def test_the_500_page_needs_no_request_and_no_database() -> None:
    # No django_db mark: any query here fails the test. Django renders it with no context.
    html = loader.get_template("500.html").render()

    assert "<h1>Something went wrong on our side</h1>" in html
    assert 'data-theme="auto"' in html
    assert "js/theme.js" in html  # applies the theme cookie, which no server read


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_is_the_styled_expired_page() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))  # the CSRF cookie, but the form's token is left out

    response = client.post(reverse("login"), {"username": "a", "password": "b"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>This form has expired</h1>" in html
    assert "reload the page" in html
    assert "cookies" in html  # the other common cause
    assert "css/palette.css" in html
