"""The signed-in person is read with their profile: the top bar's name costs no query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Profile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("with_profile", [True, False])
def test_the_top_bar_name_comes_with_the_person(client, user, with_profile) -> None:
    if with_profile:
        Profile.objects.create(user=user, display_name="Ada Lovelace")
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(reverse("accounts:profile")).content.decode()
    shown = "Ada Lovelace" if with_profile else user.username
    assert f'title="Your profile">{shown}</a>' in html
    reads = [q["sql"] for q in captured if 'FROM "accounts_profile"' in q["sql"]]
    # The profile page reads it once for its form; the top bar needs no read of its own.
    assert len(reads) == 1, reads
    person = [q["sql"] for q in captured if 'FROM "auth_user"' in q["sql"]]
    assert len(person) == 1 and 'JOIN "accounts_profile"' in person[0]


def test_a_deactivated_person_is_signed_out(client, user) -> None:
    client.force_login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and "/login/" in response["Location"]
