"""The Generate page (the form, its live quote, the recent runs) and a generation's page (its
status, polled while it runs, and the move form: the move itself is the gallery's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from config import media
from config.parsing import parse_uuid
from elements.selectors import elements_for_picker
from projects.models import Project
from projects.selectors import memberships_of, projects_for_generating
from spend import services as spend

from .. import examples, pricing, selectors
from ..forms import GenerateForm, QuoteForm
from ..rights import move_targets
from . import references as reference_views
from . import studio

_BROKEN_AGAIN = (
    "This “Generate again” link is broken: it does not name a generation. Here is an empty "
    "form; “Generate again” on a generation's page fills it in."
)
_UNNAMED_ELEMENT = (
    "The prompt never names the element “{name}”: Kling uses an element best when the prompt "
    "calls it by its name. The generation was still sent."
)


@login_required
@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest) -> HttpResponse:
    status = 200
    projects = projects_for_generating(request.user)
    elements = elements_for_picker(user=request.user, projects=projects)
    if request.method == "POST":
        data, file_errors = reference_views.keep_posted_files(request)
        form = GenerateForm(
            data,
            projects=projects,
            elements=elements,
            user=request.user,
            reference_file_errors=file_errors,
        )
        generation = studio.create_from_form(request, form)
        if generation is not None:
            notices = [_UNNAMED_ELEMENT.format(name=e.name) for e in form.unnamed_elements()]
            reference_views.clear_pending(request)
            if request.htmx:
                # The form keeps everything it holds; the run joins the top of the results.
                return studio.run_started(request, generation, notices=notices)
            for notice in notices:
                messages.warning(request, notice)
            # Without JavaScript the form comes back filled with what was just sent.
            return redirect(f"{reverse('generations:generate')}?again={generation.uuid}")
        if request.htmx:
            response = _form_partial(request, form)
            return reswap(retarget(response, "#generate-form"), "outerHTML")
    else:
        # The project picker remembers the last project generated into (or one just joined);
        # a project's empty gallery links here with `?project=` to start a run there.
        initial = {"project": selectors.default_project_key(user=request.user, projects=projects)}
        asked = request.GET.get("project")
        if asked is not None and asked in {"", *(str(p.uuid) for p in projects)}:
            initial["project"] = asked
        if example := examples.by_key(request.GET.get("example", "")):
            initial.update(example.initial())
        if again := request.GET.get("again"):
            if (source_uuid := parse_uuid(again)) is None:
                messages.error(request, _BROKEN_AGAIN)
                status = 400
            else:
                source = selectors.generation_for_viewer(user=request.user, uuid=source_uuid)
                initial = GenerateForm.initial_from(source)
        initial["references"] = reference_views.initial_references(
            request, initial.get("references", [])
        )
        form = GenerateForm(
            initial=initial, projects=projects, elements=elements, user=request.user
        )
        if request.htmx and request.htmx.target == "generate-form":
            # "Reuse settings" on a run: the form alone, filled with that run's settings.
            return _form_partial(request, form)
    recent = selectors.generations_recent(user=request.user)
    return render(
        request,
        "generations/generate.html",
        {
            "form": form,
            "first_run": not recent,
            "quote": _quote_for(request, form),
            "runs": studio.runs_of(request, recent),
            "budget_warnings": spend.warnings_for(
                person_id=request.user.pk, project_ids=[p.pk for p in projects]
            ),
        },
        status=status,
    )


def _form_partial(request: HttpRequest, form: GenerateForm) -> HttpResponse:
    return render(
        request,
        "generations/_generate_form.html",
        {"form": form, "quote": _quote_for(request, form)},
    )


@login_required
@require_GET
def quote(request: HttpRequest) -> HttpResponse:
    form = QuoteForm(request.GET)
    form.is_valid()
    # Only a project the person may generate in counts; anything else quotes as personal.
    projects = {str(p.uuid): p for p in projects_for_generating(request.user)}
    project = projects.get(request.GET.get("project") or "")
    return render(
        request,
        "generations/_quote.html",
        {"quote": _quote_from(form.cleaned_data, person=request.user, project=project)},
    )


def _quote_for(request: HttpRequest, form: GenerateForm) -> dict[str, object]:
    source = form.data if form.is_bound else {k: form[k].value() for k in form.fields}
    quote_form = QuoteForm(source)
    quote_form.is_valid()
    project = form.projects.get(source.get("project") or "")
    return _quote_from(quote_form.cleaned_data, person=request.user, project=project)


def _quote_from(
    data: dict[str, object], *, person: AbstractBaseUser, project: Project | None
) -> dict[str, object]:
    return pricing.quote(data, person=person, project=project)


@login_required
@require_GET
def recent(request: HttpRequest) -> HttpResponse:
    generations = selectors.generations_recent(user=request.user)
    response = render(
        request, "generations/_recent.html", {"runs": studio.runs_of(request, generations)}
    )
    if not any(g.is_active for g in generations):
        # Everything shown is final: tell htmx to stop polling (HTTP 286).
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_GET
def generation_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    generation = selectors.generation_for_viewer(user=request.user, uuid=uuid)
    template = (
        "generations/_generation_status.html"
        if request.htmx
        else "generations/generation_detail.html"
    )
    targets = (
        []
        if request.htmx
        else move_targets(
            request.user,
            owner_id=generation.owner_id,
            source=generation.project,
            memberships={m.project_id: m for m in memberships_of(request.user)},
        )
    )
    context = {
        "generation": generation,
        "run": studio.runs_of(request, [generation])[0],
        "move_targets": targets,
    }
    response = render(request, template, context)
    if request.htmx and not generation.is_active:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_GET
def generation_element_preview(request: HttpRequest, uuid: str, element: str) -> HttpResponseBase:
    """An element's preview on a generation's page: the generation's rights apply, not those of
    the element's library."""
    used = selectors.element_of_generation(
        user=request.user, generation_uuid=uuid, element_uuid=element
    )
    if not used.preview:
        raise Http404("This element has no preview.")
    return media.file_response(used.preview.name, "image/webp")
