"""Reads of element libraries, always scoped to the viewer.

A personal library is its owner's alone. A project's library is seen by every member and
managed by its owners and editors. Anything else is not found (404); too small a role in a
project the person belongs to is refused (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.shortcuts import get_object_or_404

from projects.models import Membership, Project
from projects.selectors import member_project_ids, memberships_of, project_for_member

from .models import Element


@dataclass
class Library:
    """One section of the library page: the person's own elements, or a project's."""

    title: str
    project: Project | None
    can_edit: bool
    elements: list[Element] = field(default_factory=list)


def _visible(user: AbstractBaseUser) -> Q:
    return Q(owner=user) | Q(project_id__in=member_project_ids(user))


def libraries_for(*, user: AbstractBaseUser) -> list[Library]:
    """The personal library first, then one per project the person belongs to."""
    memberships = memberships_of(user)
    personal = Library(title="Personal", project=None, can_edit=True)
    by_project = {
        m.project_id: Library(title=m.project.name, project=m.project, can_edit=m.can_generate)
        for m in memberships
    }
    for element in Element.objects.filter(_visible(user)):
        library = personal if element.project_id is None else by_project[element.project_id]
        library.elements.append(element)
    return [personal, *by_project.values()]


def element_for_viewer(*, user: AbstractBaseUser, uuid: str) -> Element:
    return get_object_or_404(
        Element.objects.filter(_visible(user)).select_related("project"), uuid=uuid
    )


def element_for_editor(*, user: AbstractBaseUser, uuid: str) -> Element:
    """The element, if the person may change it: 404 when they cannot see it, 403 for a viewer."""
    element = element_for_viewer(user=user, uuid=uuid)
    if element.project_id is not None:
        project_for_editor(user=user, uuid=str(element.project.uuid))
    return element


def can_edit_element(*, user: AbstractBaseUser, element: Element) -> bool:
    """Owners and editors manage the elements of a project that is not archived."""
    if element.project_id is None:
        return element.owner_id == user.pk
    membership = (
        Membership.objects.filter(user=user, project_id=element.project_id)
        .select_related("project")
        .first()
    )
    return membership is not None and membership.can_generate


def project_for_editor(*, user: AbstractBaseUser, uuid: str) -> Project:
    """A project whose elements the person may manage: 404 for a stranger, 403 otherwise."""
    project, _ = project_for_member(user, uuid, generate=True)
    return project


def elements_for_picker(*, user: AbstractBaseUser, projects: Iterable[Project]) -> list[Element]:
    """Live elements the person may put in a generation: their own, and those of the projects
    they may generate in (the caller passes those). Elements without a Kling id cannot be sent."""
    project_ids = [p.pk for p in projects]
    return list(
        Element.objects.live()
        .filter(Q(owner=user) | Q(project_id__in=project_ids))
        .exclude(kling_element_id="")
        .select_related("project")
        .order_by("project__name", "project_id", "name")
    )
