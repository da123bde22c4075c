"""A world for the API: alice owns the project, bob edits in it, carol views it, dave belongs to
another project, erin to none, and staff (a superuser, as in tests/test_access_matrix.py's
`staff`) runs the site and is in no project; each has a token with every scope, and alice more
tokens that are short of something (a scope, time, a revoke, a project)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AccessToken, TokenScope
from accounts.services import token_create, tokens_revoke
from projects.models import Project, Role
from tests.factories import add_member, make_element, make_image, make_project

ALL_SCOPES = [TokenScope.READ, TokenScope.GENERATE, TokenScope.MANAGE]


@dataclass
class World:
    users: dict
    project: Project
    other_project: Project
    project_image: object
    personal_image: object
    element: object
    tokens: dict[str, str] = field(default_factory=dict)  # who/what -> secret


def _token(user, *, scopes=ALL_SCOPES, project=None, expires_at=None) -> tuple[AccessToken, str]:
    made = token_create(
        user=user,
        name="test",
        scopes=scopes,
        project_id=project.pk if project else None,
        expires_at=expires_at,
    )
    return made.token, made.secret


@pytest.fixture
def world(db, django_user_model) -> World:
    users = {
        name: django_user_model.objects.create_user(name, password=f"pw-{name}-1234")
        for name in ("alice", "bob", "carol", "dave", "erin")
    }
    users["staff"] = django_user_model.objects.create_superuser(
        "staff", "staff@example.com", password="pw-staff-123456"
    )
    project = make_project(users["alice"], "Harbour")
    add_member(project, users["bob"], Role.EDITOR)
    add_member(project, users["carol"], Role.VIEWER)
    other = make_project(users["dave"], "Elsewhere")
    world = World(
        users=users,
        project=project,
        other_project=other,
        project_image=make_image(users["bob"], project=project, prompt="shared harbour"),
        personal_image=make_image(users["alice"], prompt="alice alone"),
        element=make_element(users["alice"], project=project, name="Mira"),
    )
    for name, user in users.items():
        world.tokens[name] = _token(user)[1]
    alice = users["alice"]
    world.tokens["alice:read-only"] = _token(alice, scopes=[TokenScope.READ])[1]
    world.tokens["alice:generate-only"] = _token(alice, scopes=[TokenScope.GENERATE])[1]
    expiring, world.tokens["alice:expired"] = _token(alice)
    AccessToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(1))
    revoked, world.tokens["alice:revoked"] = _token(alice)
    tokens_revoke(tokens=[revoked], by=alice)
    # Alice also belongs to dave's project (as a viewer) and has a token limited to it.
    add_member(other, alice, Role.VIEWER)
    world.tokens["alice:other-project"] = _token(alice, project=other)[1]
    return world


class Api:
    """A client that sends a token (`as_=None`: none)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = Client()

    def _headers(self, as_: str | None, extra: dict | None) -> dict:
        headers = dict(extra or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.world.tokens.get(as_, as_)}"
        return headers

    def get(self, path: str, as_: str | None = "alice", headers: dict | None = None, **params):
        return self.client.get(path, params, headers=self._headers(as_, headers))

    def post(self, path: str, body: dict, as_: str | None = "alice", headers: dict | None = None):
        return self.client.post(
            path, body, content_type="application/json", headers=self._headers(as_, headers)
        )


@pytest.fixture
def api(world) -> Api:
    return Api(world)
