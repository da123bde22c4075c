"""The studio's runs: one run's card (polled while it runs), Run again and Retry, and the small
poll behind the tab title and the toasts. Deleting and restoring one image of a run are the
gallery's (`gallery.views.images`).

The Generate form itself is `views.generate.generate`; both make runs through `create_from_form`.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget, trigger_client_event

from elements.selectors import elements_for_picker
from projects.selectors import projects_for_generating
from spend.services import BudgetExceeded

from .. import selectors
from ..forms import GenerateForm
from ..models import Generation, Status
from ..runs import Run, run_of
from ..services import generation_create

# The most runs one poll of /generations/active/ reports on.
MAX_WATCHED = 50
# Set in the session when the person starts a run, cleared by the poll once none is in flight:
# pages poll only then, and rendering a page costs no query for it.
RUNS_IN_FLIGHT_KEY = "runs_in_flight"


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
        generation = generation_create(
            owner=request.user, params=form.to_params(), project=form.selected_project()
        )
    except BudgetExceeded as exc:
        form.add_error(None, str(exc))
        return None
    request.session[RUNS_IN_FLIGHT_KEY] = True
    return generation


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
@require_GET
def runs_active(request: HttpRequest) -> JsonResponse:
    """For the tab title, the toasts and the notifications on every page: the person's runs in
    flight, and how those of `watch` (runs the page saw in flight) ended. One indexed query,
    plus one for the first images of runs that finished."""
    watched = _uuids(request.GET.get("watch", ""))
    generations = selectors.runs_watched(user=request.user, uuids=watched)
    finished = [g for g in generations if not g.is_active]
    if len(finished) == len(generations):
        request.session.pop(RUNS_IN_FLIGHT_KEY, None)  # nothing left to poll for
    first_images = selectors.first_images(generations=finished) if finished else {}
    runs = []
    for generation in generations:
        first_image = first_images.get(generation.pk)
        runs.append(
            {
                "uuid": str(generation.uuid),
                "state": _state(generation),
                "prompt": Truncator(generation.prompt).chars(80),
                "images": len(generation.output_urls),
                "url": reverse("generations:generation_detail", args=[generation.uuid]),
                "thumb": reverse("gallery:image_thumbnail", args=[first_image, 256])
                if first_image
                else "",
            }
        )
    return JsonResponse({"runs": runs})


def _state(generation: Generation) -> str:
    if generation.is_active:
        return "active"
    return "done" if generation.status == Status.DONE else "failed"


def _uuids(text: str) -> list[uuid_module.UUID]:
    found = []
    for part in text.split(",")[:MAX_WATCHED]:
        try:
            found.append(uuid_module.UUID(part.strip()))
        except ValueError:
            continue
    return found
