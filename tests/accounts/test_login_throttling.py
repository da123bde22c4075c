"""Against password guessing: django-axes locks a username out from one address after
AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME; accounts/throttling.py adds wider limits per
address (across usernames) and per username (across addresses)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from config.addresses import client_ip

pytestmark = pytest.mark.django_db

WRONG = "not-my-password"


def log_in(client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_defaults_are_five_failures_and_fifteen_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AUTHENTICATION_BACKENDS[0].startswith(("axes.", "tests.accounts."))


def test_a_few_failures_only_say_the_password_is_wrong(client, user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, "ada", WRONG)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    assert log_in(client, "ada", "pw-ada-123456").status_code == 302


def test_too_many_failures_lock_the_login_with_a_clear_message(client, user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "ada", WRONG)
    locked = log_in(client, "ada", WRONG)
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Too many failed logins" in html
    assert "Try again in 15 minutes" in html
    assert reverse("accounts:password_reset") in html

    # Even the right password is refused while locked.
    right = log_in(client, "ada", "pw-ada-123456")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(client, user, outsider) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ada", WRONG)
    assert log_in(client, "ada", "pw-ada-123456").status_code == 429
    assert log_in(client, "mallory", "pw-mallory-123456").status_code == 302
    client.logout()
    assert log_in(client, "ada", "pw-ada-123456", ip="198.51.100.9").status_code == 302


def test_the_lock_ends_after_the_cool_off(client, user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ada", WRONG)
    assert log_in(client, "ada", "pw-ada-123456").status_code == 429
    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=attempt.attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert log_in(client, "ada", "pw-ada-123456").status_code == 302


def test_a_success_resets_the_count(client, user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "ada", WRONG)
    assert log_in(client, "ada", "pw-ada-123456").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "ada", WRONG).status_code == 200


def test_the_admin_login_is_throttled_too(client, user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("admin:login"), {"username": "ada", "password": WRONG})
    assert log_in(client, "ada", "pw-ada-123456", ip="127.0.0.1").status_code == 429


def test_a_limit_from_the_settings_is_honoured(client, user, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    assert log_in(client, "ada", WRONG).status_code == 200
    assert log_in(client, "ada", WRONG).status_code == 429


# --- Issue 12, finding 6: throttling was per (username, address) only -------------------------


def test_the_wider_limits_are_twenty_per_address_and_ten_per_username() -> None:
    assert settings.DARKROOM_LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert settings.DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT == 10
    assert settings.AXES_HANDLER == "accounts.throttling.LoginThrottle"


def test_guessing_across_usernames_from_one_address_is_locked(client, user, outsider) -> None:
    # Four tries each at five usernames: never the pair limit, but twenty from one address.
    names = ["root", "admin", "grace", "bob", "carol"]
    answers = [log_in(client, name, WRONG).status_code for name in names for _ in range(4)]
    assert answers[:-1] == [200] * 19
    assert answers[-1] == 429
    locked = log_in(client, "mallory", "pw-mallory-123456")  # a right password, a new name
    assert locked.status_code == 429
    assert "Logging in from your address is paused" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Elsewhere, nobody is held back.
    assert log_in(client, "mallory", "pw-mallory-123456", ip="198.51.100.9").status_code == 302


def test_guessing_one_username_from_many_addresses_is_locked(client, user) -> None:
    # ada logged in from home once: that address stays open to her.
    assert log_in(client, "ada", "pw-ada-123456", ip="192.0.2.10").status_code == 302
    client.logout()
    answers = [log_in(client, "ada", WRONG, ip=f"203.0.113.{n}").status_code for n in range(10)]
    assert answers == [200] * 9 + [429]
    locked = log_in(client, "ada", "pw-ada-123456", ip="198.51.100.77")
    assert locked.status_code == 429
    assert "is paused after too many failed attempts from several places" in (
        locked.content.decode()
    )
    assert log_in(client, "ada", "pw-ada-123456", ip="192.0.2.10").status_code == 302


def test_the_wider_limits_end_after_the_cool_off(client, user) -> None:
    for n in range(settings.DARKROOM_LOGIN_USERNAME_FAILURE_LIMIT):
        log_in(client, "ada", WRONG, ip=f"203.0.113.{n}")
    assert log_in(client, "ada", "pw-ada-123456", ip="198.51.100.1").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert log_in(client, "ada", "pw-ada-123456", ip="198.51.100.1").status_code == 302


# --- Which address counts ------------------------------------------------------------------------


def test_the_client_address_is_remote_addr_without_trusted_proxies(settings) -> None:
    settings.DARKROOM_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_ip(request) == "10.0.0.2"


def test_behind_a_proxy_the_address_it_appended_counts(settings) -> None:
    settings.DARKROOM_TRUSTED_PROXY_COUNT = 1
    # The client wrote the first entry itself; the proxy appended the real address.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    assert client_ip(request) == "203.0.113.7"
    settings.DARKROOM_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"
    settings.DARKROOM_TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"


def test_client_login_still_works_in_tests(client, user) -> None:
    """The test settings let Django's Client.login() (no request) through axes."""
    assert client.login(username="ada", password="pw-ada-123456")
    assert not client.login(username="ada", password=WRONG)
