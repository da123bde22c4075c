"""Relative times never read "0 minutes ago" (or "0 minutes from now")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from projects.models import Role
from projects.services import invite_create
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def render(text: str, **context: object) -> str:
    return Template("{% load studio_tags %}" + text).render(Context(context))


def test_relative_times_never_say_zero_minutes() -> None:
    now = timezone.now()
    assert render("{{ t|ago }}", t=now) == "just now"
    assert render("{{ t|ago }}", t=now - timedelta(seconds=59)) == "just now"
    assert render("{{ t|ago }}", t=now - timedelta(minutes=5, seconds=3)) == "5 min ago"
    assert render("{{ t|until }}", t=now + timedelta(seconds=30)) == "in under a minute"
    assert render("{{ t|until }}", t=now + timedelta(days=2, minutes=1)) == "in 2\xa0days"


def test_a_fresh_invitation_and_project_link_read_naturally(client, user, staff) -> None:
    invitation = Invitation.objects.create(created_by=staff)
    client.force_login(staff)
    html = client.get(reverse("accounts:invite")).content.decode()
    assert f"created by {staff.username} just now" in html
    assert "0\xa0minutes" not in html and "0 minutes" not in html
    assert invitation.token  # listed

    harbour = make_project(user)
    invite = invite_create(project=harbour, role=Role.EDITOR, created_by=user)
    invite.expires_at = timezone.now() + timedelta(seconds=20)
    invite.save(update_fields=["expires_at"])
    client.force_login(user)
    html = client.get(reverse("projects:settings", args=[harbour.uuid])).content.decode()
    assert "expires in under a minute" in html
    assert "0\xa0minutes" not in html and "0 minutes" not in html
