"""What a caller may see and do: the token owner's rights right now (the pages' own selectors),
narrowed to the token's project when it has one. Outside that project a restricted token finds
nothing (404), as a stranger would."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from elements.models import GenerationElement
from elements.selectors import project_for_editor
from generations.models import Generation, GenerationReference, OutputImage
from generations.selectors import image_for_viewer, visible_to
from projects import selectors as project_selectors
from projects.models import Membership, Project

from .auth import Caller


def _within(caller: Caller, project_id: int | None) -> bool:
    return caller.project_id is None or caller.project_id == project_id


def _token_reaches(caller: Caller, uuid: str) -> None:
    """Any other project than a restricted token's is not found (404), as a stranger's."""
    restricted = caller.token.project
    if restricted is not None and str(restricted.uuid) != str(uuid):
        raise Http404("No such project.")


def memberships(caller: Caller) -> list[Membership]:
    return [
        m for m in project_selectors.memberships_of(caller.user) if _within(caller, m.project_id)
    ]


def project(
    caller: Caller, uuid: str, *, manage: bool = False, generate: bool = False
) -> tuple[Project, Membership]:
    """As projects.selectors.project_for_member: 404 for a stranger, 403 for too small a role;
    any other project than a restricted token's is not found, before any role is looked at."""
    _token_reaches(caller, uuid)
    found, membership = project_selectors.project_for_member(
        caller.user, uuid, manage=manage, generate=generate
    )
    return found, membership


def projects_for_generating(caller: Caller) -> list[Project]:
    return [
        p for p in project_selectors.projects_for_generating(caller.user) if _within(caller, p.pk)
    ]


def project_ids(caller: Caller) -> list[int]:
    """The ids of the caller's projects (only the token's, for a token limited to one)."""
    return [m.project_id for m in memberships(caller)]


def with_details(
    found: QuerySet[Generation], caller: Caller, project_ids: list[int]
) -> QuerySet[Generation]:
    """Generations as the API answers one, read as generations.selectors.generation_for_viewer
    reads one: the images the caller may see (`project_ids`: theirs, narrowed to the token's
    project), references and elements, one query each for a whole page."""
    images = OutputImage.objects.filter(visible_to(caller.user, project_ids=project_ids))
    return found.select_related("project", "owner").prefetch_related(
        Prefetch("images", images.order_by("index")),
        Prefetch("reference_links", GenerationReference.objects.select_related("reference")),
        Prefetch("element_links", GenerationElement.objects.select_related("element")),
    )


def generation(caller: Caller, uuid: str) -> Generation:
    """A generation the person may see (generations.selectors.visible_to, as its page), inside
    the token's project, with its details as `GET /generations` lists them (with_details): an
    image moved out of the token's project is not among them."""
    ids = project_ids(caller)
    visible = Generation.objects.filter(visible_to(caller.user, project_ids=ids))
    found = get_object_or_404(with_details(visible, caller, ids), uuid=uuid)
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
    page's: owners and editors), inside the token's project (as `project`)."""
    _token_reaches(caller, uuid)
    return project_for_editor(user=caller.user, uuid=uuid)


def staff(caller: Caller) -> None:
    """The staff's pages (the cost review): to anyone else they do not exist (404), as on the
    site; and they span every project, so not for a token limited to one (403)."""
    if not getattr(caller.user, "is_staff", False):
        raise Http404("No such page.")
    if caller.project_id is not None:
        raise PermissionDenied("This token is limited to one project: the review spans them all.")
