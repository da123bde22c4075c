"""Personal access tokens on the profile page, in the admin and in the audit trail; revoked
when the account is deactivated."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AccessToken
from accounts.services import token_create, token_digest, users_deactivate
from audit.models import Action, Entry

pytestmark = pytest.mark.django_db
SECRET = re.compile(r'value="(drk_[A-Za-z0-9_-]{40,})"')


def make_token(client, **fields):
    data = {"name": "catalogue script", "scopes": ["read", "generate"], "lifetime": 30, **fields}
    return client.post(reverse("accounts:token_create"), data)


def test_a_new_token_is_shown_once_and_stored_hashed(client, user):
    client.force_login(user)
    response = make_token(client)
    assert response.status_code == 200
    secret = SECRET.search(response.content.decode()).group(1)
    token = AccessToken.objects.get(user=user)
    assert token.digest == token_digest(secret) and secret not in token.digest
    assert token.scopes == ["generate", "read"] and token.expires_at is not None
    # The page shows it no more: only its name, scopes and hint.
    page = client.get(reverse("accounts:profile")).content.decode()
    assert secret not in page and "catalogue script" in page and token.hint in page
    assert "read, generate" in page or "generate, read" in page
    # And it works.
    answer = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    entry = Entry.objects.get(action=Action.TOKEN_CREATED)
    assert entry.actor == user and secret not in str(entry.after) + entry.object_repr


def test_the_list_shows_when_and_where_a_token_was_last_used(client, user):
    client.force_login(user)
    secret = token_create(user=user, name="nightly", scopes=["read"]).secret
    assert "Never" in client.get(reverse("accounts:profile")).content.decode()
    client.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    token = AccessToken.objects.get(user=user)
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"
    assert "from 127.0.0.1" in client.get(reverse("accounts:profile")).content.decode()


def test_a_token_needs_a_scope_and_may_be_limited_only_to_ones_own_project(client, user, outsider):
    from tests.factories import make_project

    client.force_login(user)
    assert make_token(client, scopes=[]).status_code == 400
    elsewhere = make_project(outsider, "Not yours")
    assert make_token(client, project=elsewhere.pk).status_code == 400
    mine = make_project(user, "Yours")
    assert make_token(client, project=mine.pk).status_code == 200
    assert AccessToken.objects.get(user=user).project == mine


def test_revoking_on_the_profile_page_stops_the_token(client, user):
    client.force_login(user)
    made = token_create(user=user, name="old", scopes=["read"])
    response = client.post(reverse("accounts:token_revoke", args=[made.token.uuid]))
    assert response.status_code == 302
    made.token.refresh_from_db()
    assert made.token.revoked_at is not None
    answer = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {made.secret}"})
    assert answer.status_code == 401
    assert Entry.objects.filter(action=Action.TOKEN_REVOKED, actor=user).count() == 1


def test_nobody_revokes_anothers_token_from_their_profile(client, user, outsider):
    made = token_create(user=user, name="mine", scopes=["read"])
    client.force_login(outsider)
    response = client.post(reverse("accounts:token_revoke", args=[made.token.uuid]))
    assert response.status_code == 404
    made.token.refresh_from_db()
    assert made.token.revoked_at is None


def test_the_token_pages_ask_for_a_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_deactivating_an_account_revokes_its_tokens(user, staff):
    made = [token_create(user=user, name=f"t{n}", scopes=["read"]) for n in range(2)]
    users_deactivate(user_ids=[user.pk], by=staff)
    assert all(t.revoked_at for t in AccessToken.objects.filter(user=user))
    revoked = Entry.objects.filter(action=Action.TOKEN_REVOKED)
    assert {e.object_id for e in revoked} == {str(m.token.uuid) for m in made}
    assert {e.actor for e in revoked} == {staff}


def test_staff_see_and_revoke_any_token_in_the_admin(client, user, staff):
    made = token_create(user=user, name="someone's", scopes=["read"])
    client.force_login(staff)
    listing = client.get(reverse("admin:accounts_accesstoken_changelist"))
    assert listing.status_code == 200 and "someone&#x27;s" in listing.content.decode()
    assert made.secret not in listing.content.decode()
    client.post(
        reverse("admin:accounts_accesstoken_changelist"),
        {"action": "revoke", "_selected_action": [made.token.pk]},
    )
    made.token.refresh_from_db()
    assert made.token.revoked_at is not None
    assert Entry.objects.get(action=Action.TOKEN_REVOKED).actor == staff
