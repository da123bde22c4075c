"""The reads, and who may manage which endpoint.

A person's endpoint is theirs alone; a project's is managed by the project's owners. Anyone
else gets 404 (a stranger learns nothing), a project's editor or viewer 403, as for the
project's settings (`projects.selectors.project_for_member`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404

from projects.models import Project
from projects.selectors import memberships_of, project_for_member

from .models import Delivery, Endpoint

RECENT_DELIVERIES = 50


def endpoint_for_owner(user: AbstractBaseUser, uuid: str) -> Endpoint:
    endpoint = Endpoint.objects.select_related("project").filter(uuid=uuid).first()
    if endpoint is None:
        raise Http404("No such endpoint.")
    if endpoint.project is None:
        if endpoint.person_id != user.pk:
            raise Http404("No such endpoint.")
        return endpoint
    project_for_member(user, str(endpoint.project.uuid), manage=True)
    return endpoint


def managed_projects(user: AbstractBaseUser) -> list[Project]:
    """The projects whose endpoints the person manages (they own them)."""
    return [m.project for m in memberships_of(user) if m.can_manage]


def endpoints_of(*, person: AbstractBaseUser, projects: list[Project]) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(Q(person=person) | Q(project__in=projects)).select_related(
        "project"
    )


def recent_deliveries(endpoint: Endpoint) -> list[Delivery]:
    return list(endpoint.deliveries.all()[:RECENT_DELIVERIES])
