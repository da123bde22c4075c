"""What a caller may see and do: the token owner's rights right now (the pages' own selectors),
narrowed to the token's project when it has one. Outside that project a restricted token finds
nothing (404), as a stranger would."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from elements.selectors import project_for_editor
from generations.models import Generation, OutputImage
from generations.selectors import generation_for_viewer, image_for_viewer
from projects import selectors as project_selectors
from projects.models import Membership, Project

from .auth import Caller


def _within(caller: Caller, project_id: int | None) -> bool:
    return caller.project_id is None or caller.project_id == project_id


def memberships(caller: Caller) -> list[Membership]:
    return [
        m for m in project_selectors.memberships_of(caller.user) if _within(caller, m.project_id)
    ]


def project(
    caller: Caller, uuid: str, *, manage: bool = False, generate: bool = False
) -> tuple[Project, Membership]:
    """As projects.selectors.project_for_member: 404 for a stranger, 403 for too small a role;
    any other project than a restricted token's is not found, before any role is looked at."""
    restricted = caller.token.project
    if restricted is not None and str(restricted.uuid) != str(uuid):
        raise Http404("No such project.")
    found, membership = project_selectors.project_for_member(
        caller.user, uuid, manage=manage, generate=generate
    )
    return found, membership


def projects_for_generating(caller: Caller) -> list[Project]:
    return [
        p for p in project_selectors.projects_for_generating(caller.user) if _within(caller, p.pk)
    ]


def generation(caller: Caller, uuid: str) -> Generation:
    """A generation the person may see (generations.selectors), inside the token's project."""
    found = generation_for_viewer(user=caller.user, uuid=uuid)
    if not _within(caller, found.project_id):
        raise Http404("No such generation.")
    return found


def image(caller: Caller, uuid: str) -> OutputImage:
    """An image the person may see (generations.selectors, the image page's), inside the token's
    project; trashed ones included, as on the page."""
    found = image_for_viewer(user=caller.user, uuid=uuid)
    if not _within(caller, found.project_id):
        raise Http404("No such image.")
    return found


def personal_allowed(caller: Caller) -> None:
    """Personal work (no project) is outside a token limited to a project: 403."""
    if caller.project_id is not None:
        raise PermissionDenied("This token is limited to one project: name it.")


def element_library(caller: Caller, uuid: str) -> Project:
    """A project whose element library the person may add to (elements.selectors, the library
    page's: owners and editors), inside the token's project."""
    restricted = caller.token.project
    if restricted is not None and str(restricted.uuid) != str(uuid):
        raise Http404("No such project.")
    return project_for_editor(user=caller.user, uuid=uuid)


def staff(caller: Caller) -> None:
    """The staff's pages (the cost review): to anyone else they do not exist (404), as on the
    site; and they span every project, so not for a token limited to one (403)."""
    if not getattr(caller.user, "is_staff", False):
        raise Http404("No such page.")
    if caller.project_id is not None:
        raise PermissionDenied("This token is limited to one project: the review spans them all.")
