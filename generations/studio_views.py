"""The studio's runs: one run's card (polled while it runs), Run again and Retry, deleting and
restoring one image of a run.

The Generate form itself is `views.generate`; both make runs through `create_from_form`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget, trigger_client_event

from elements.selectors import elements_for_picker
from projects.selectors import projects_for_generating
from spend.services import BudgetExceeded

from . import selectors
from .bulk_views import safe_next
from .forms import GenerateForm
from .models import Generation, OutputImage
from .runs import Run, run_of
from .services import generation_create, trash


def runs_of(request: HttpRequest, generations: Sequence[Generation]) -> list[Run]:
    """The cards of `generations` (images prefetched), with the viewer's stars: one query."""
    starred = selectors.starred_ids(user=request.user, generations=generations)
    now = timezone.now()
    return [run_of(generation, starred=starred, now=now) for generation in generations]


def create_from_form(request: HttpRequest, form: GenerateForm) -> Generation | None:
    """The one way the studio makes a run (the form, Run again, Retry): the form's checks, then
    the service with its budget check. None, with the reasons on the form, when refused."""
    if not form.is_valid():
        return None
    try:
        return generation_create(
            owner=request.user, params=form.to_params(), project=form.selected_project()
        )
    except BudgetExceeded as exc:
        form.add_error(None, str(exc))
        return None


def run_started(
    request: HttpRequest, generation: Generation, *, notices: Sequence[str] = ()
) -> HttpResponse:
    """htmx: the new run's card, for the top of the results (and the notices beside it)."""
    response = render(
        request,
        "generations/_run_started.html",
        {"run": run_of(generation), "notices": notices},
    )
    return trigger_client_event(response, "darkroom:run-started", {"uuid": str(generation.uuid)})


@login_required
@require_GET
def run(request: HttpRequest, uuid: str) -> HttpResponse:
    """A run's card. While it runs the card asks again every few seconds with `seen`, the token
    of what it shows: unchanged, the answer is an empty 204 (htmx keeps the card, the timer
    ticks on in the browser); once final, 286 ends the polling."""
    generation = selectors.run_for_viewer(user=request.user, uuid=uuid)
    card = runs_of(request, [generation])[0]
    if card.is_active and request.GET.get("seen") == card.token:
        return HttpResponse(status=204)
    response = render(request, "generations/_run.html", {"run": card})
    if not card.is_active:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_POST
def generation_again(request: HttpRequest, uuid: str) -> HttpResponse:
    """Run again (and Retry, for a failed run): the same settings through the same form and
    service as Generate, so the same checks and a new quote against the budgets."""
    source = selectors.generation_for_viewer(user=request.user, uuid=uuid)
    projects = projects_for_generating(request.user)
    form = GenerateForm(
        GenerateForm.initial_from(source),
        projects=projects,
        elements=elements_for_picker(user=request.user, projects=projects),
        user=request.user,
    )
    generation = create_from_form(request, form)
    if generation is None:
        message = f"Could not run it again: {_reasons(form, source)}"
        if request.htmx:
            response = render(
                request, "generations/_studio_notice.html", {"notices": [message], "error": True}
            )
            return reswap(retarget(response, "#studio-notice"), "outerHTML")
        messages.error(request, message)
        return redirect(f"{reverse('generations:generate')}?again={source.uuid}")
    if request.htmx:
        return run_started(request, generation)
    return redirect(f"{reverse('generations:generate')}?again={generation.uuid}")


def _reasons(form: GenerateForm, source: Generation) -> str:
    reasons = []
    for name, errors in form.errors.items():
        if name == "project" and source.project is not None:
            reasons.append(f"you cannot generate in the project {source.project.name}.")
        else:
            reasons.extend(str(error) for error in errors)
    return " ".join(reasons) + " Reuse settings puts them in the form, to change them there."


@login_required
@require_POST
def image_trash(request: HttpRequest, uuid: str) -> HttpResponse:
    """Delete one image of a run; htmx gets its tile back as "Deleted" with Undo."""
    image = selectors.image_for_viewer(user=request.user, uuid=uuid)
    _act(request, trash.images_trash, image)
    if request.htmx:
        return render(request, "generations/_run_tile_deleted.html", {"image": image})
    messages.success(
        request,
        f"Moved to the trash: restorable from the trash for {settings.DARKROOM_TRASH_DAYS} days.",
    )
    return redirect(safe_next(request) or reverse("generations:generate"))


@login_required
@require_POST
def image_restore(request: HttpRequest, uuid: str) -> HttpResponse:
    """Undo: the image comes back from the trash; htmx gets its tile back."""
    image = selectors.image_for_viewer(user=request.user, uuid=uuid)
    _act(request, trash.images_restore, image)
    if request.htmx:
        starred = image.favourites.filter(user=request.user).exists()
        return render(request, "generations/_run_tile.html", {"image": image, "starred": starred})
    messages.success(request, "Restored from the trash.")
    return redirect(safe_next(request) or reverse("generations:generate"))


def _act(request: HttpRequest, service, image: OutputImage) -> None:
    try:
        service(user=request.user, images=[image])
    except trash.TrashRefused as exc:
        raise PermissionDenied(str(exc)) from exc
