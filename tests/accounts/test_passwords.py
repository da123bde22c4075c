"""Changing a password, and resetting a forgotten one by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-river-stone-97"


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_password_pages_need_a_login(client) -> None:
    for name in ("accounts:password_change", "accounts:password_change_done"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_person_changes_their_password_and_stays_logged_in(client, user) -> None:
    client.force_login(user)
    page = client.get(reverse("accounts:password_change"))
    assert 'name="old_password"' in page.content.decode()
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "pw-ada-123456",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_change_done")
    assert "Password changed" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The session survives the change.
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_a_wrong_old_password_changes_nothing(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("pw-ada-123456")


def test_a_weak_new_password_is_refused_by_djangos_validators(client, user) -> None:
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "pw-ada-123456", "new_password1": "1234", "new_password2": "1234"},
    )
    html = response.content.decode()
    assert "This password is too short" in html
    assert "This password is entirely numeric" in html


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, user) -> None:
    user.email = "ada@example.com"
    user.save()
    login_page = client.get(reverse("login")).content.decode()
    assert reverse("accounts:password_reset") in login_page

    response = client.post(
        reverse("accounts:password_reset"), {"email": "ADA@example.com"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Darkroom password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    # The link leads to a form (Django swaps the token into the session and redirects).
    form_page = client.get(link, follow=True)
    assert 'name="new_password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert done.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")

    assert log_in(client, "ada", "pw-ada-123456").status_code == 200  # the old one: refused
    assert log_in(client, "ada", NEW_PASSWORD)["Location"] == reverse("generations:generate")

    # The link worked once.
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "This reset link is not valid" in again


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, user) -> None:
    response = client.post(
        reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_a_deactivated_person_gets_no_reset_mail(client, user) -> None:
    user.email = "ada@example.com"
    user.is_active = False
    user.save()
    client.post(reverse("accounts:password_reset"), {"email": "ada@example.com"})
    assert mail.outbox == []


# --- Issue 12, finding 6: password-reset mails were not limited ------------------------------


def ask_reset(client, email: str, ip: str = "203.0.113.7"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_reset_mails_are_limited_per_address_without_telling(client, user, settings) -> None:
    assert settings.DARKROOM_PASSWORD_RESETS_PER_ADDRESS == 5
    user.email = "ada@example.com"
    user.save()
    for n in range(5):
        ask_reset(client, f"someone{n}@example.com")
    response = ask_reset(client, "ada@example.com")  # the sixth from this address
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []
    # From another address, ada's own request goes through.
    ask_reset(client, "ada@example.com", ip="198.51.100.9")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_reset_mails_are_limited_per_account_without_telling(client, user, settings) -> None:
    assert settings.DARKROOM_PASSWORD_RESETS_PER_ACCOUNT == 3
    user.email = "ada@example.com"
    user.save()
    answers = [
        ask_reset(client, email, ip=f"203.0.113.{n}")
        for n, email in enumerate(["ada@example.com", "ADA@example.com", "ada@example.com"] * 2)
    ]
    assert len(mail.outbox) == 3
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("accounts:password_reset_done"))
    }


def test_an_address_over_its_limit_does_not_use_up_an_accounts_mails(
    client, user, settings
) -> None:
    settings.DARKROOM_PASSWORD_RESETS_PER_ADDRESS = 1
    user.email = "ada@example.com"
    user.save()
    ask_reset(client, "nobody@example.com", ip="203.0.113.66")
    for _ in range(5):
        ask_reset(client, "ada@example.com", ip="203.0.113.66")  # refused by the address limit
    for n in range(3):
        ask_reset(client, "ada@example.com", ip=f"198.51.100.{n}")
    assert len(mail.outbox) == 3


def test_the_limits_are_counted_in_a_cache_every_process_shares() -> None:
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    assert not isinstance(caches["default"], LocMemCache)
