"""The prompt enhancer's uses in the admin: listed and searchable, never edited there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from generations.models import EnhancementStatus, PromptEnhancement

pytestmark = pytest.mark.django_db


def use(owner, text: str, **fields) -> PromptEnhancement:
    return PromptEnhancement.objects.create(
        owner=owner, text=text, price=Decimal("0.001"), **fields
    )


def test_the_list_shows_each_use_and_why_it_failed(client, staff, user) -> None:
    use(
        user,
        "a lighthouse in fog",
        status=EnhancementStatus.FAILED,
        error_message="WaveSpeed is busy (too many requests).",
        cost=Decimal("0"),
    )
    client.force_login(staff)
    html = client.get(reverse("admin:generations_promptenhancement_changelist")).content.decode()
    assert "a lighthouse in fog" in html
    assert "WaveSpeed is busy" in html
    assert "ada" in html and "Failed" in html


def test_the_list_searches_the_prompt_and_the_person(client, staff, user, outsider) -> None:
    use(user, "a lighthouse in fog")
    use(outsider, "a cat on a mat")
    client.force_login(staff)
    url = reverse("admin:generations_promptenhancement_changelist")
    html = client.get(url, {"q": "lighthouse"}).content.decode()
    assert "a lighthouse in fog" in html and "a cat on a mat" not in html
    html = client.get(url, {"q": "mallory"}).content.decode()
    assert "a cat on a mat" in html and "a lighthouse in fog" not in html


def test_a_use_cannot_be_added_changed_or_deleted(client, staff, user) -> None:
    enhancement = use(user, "a lighthouse in fog")
    client.force_login(staff)
    change = reverse("admin:generations_promptenhancement_change", args=[enhancement.pk])
    assert client.get(change).status_code == 200  # viewable
    client.post(change, {"text": "edited", "status": "done"})
    enhancement.refresh_from_db()
    assert (enhancement.text, enhancement.status) == ("a lighthouse in fog", "queued")
    assert client.get(reverse("admin:generations_promptenhancement_add")).status_code == 403
    delete = reverse("admin:generations_promptenhancement_delete", args=[enhancement.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert PromptEnhancement.objects.filter(pk=enhancement.pk).exists()


def test_people_who_are_not_staff_are_sent_to_log_in(client, user) -> None:
    client.force_login(user)
    response = client.get(reverse("admin:generations_promptenhancement_changelist"))
    assert response.status_code == 302
