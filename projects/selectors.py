"""Who may see and do what in a project. Non-members get 404: a project's existence is private."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Project


def member_project_ids(user: AbstractBaseUser) -> QuerySet:
    """A subquery of the ids of every project the person belongs to, in any role."""
    return Membership.objects.filter(user=user).values("project_id")


def memberships_of(user: AbstractBaseUser) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("project")
        .order_by("project__archived_at", "project__name", "project_id")
    )


def projects_for_generating(user: AbstractBaseUser) -> list[Project]:
    return [m.project for m in memberships_of(user) if m.can_generate]


def membership_for(user: AbstractBaseUser, project: Project | None) -> Membership | None:
    if project is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project=project).select_related("project").first()


def project_for_member(
    user: AbstractBaseUser, uuid: str, *, manage: bool = False, generate: bool = False
) -> tuple[Project, Membership]:
    """The project and the person's membership: 404 for a stranger, 403 for too small a role
    (`manage`: an owner; `generate`: an owner or editor, and the project not archived)."""
    membership = (
        Membership.objects.filter(user=user, project__uuid=uuid).select_related("project").first()
    )
    if membership is None:
        raise Http404("No such project.")
    if manage and not membership.can_manage:
        raise PermissionDenied("Only the project's owners can do that.")
    if generate and not membership.can_generate:
        raise PermissionDenied(
            "Only the owners and editors of a project that is not archived can do that."
        )
    return membership.project, membership


def members_of(project: Project) -> list[Membership]:
    return list(project.memberships.select_related("user").order_by("role", "user__username"))
