from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from config import media

from . import creation, selectors, services
from .forms import ElementForm, KlingElementForm
from .models import Element


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    return render(
        request, "elements/library.html", {"libraries": selectors.libraries_for(user=request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def element_create(request: HttpRequest, project: str | None = None) -> HttpResponse:
    target = selectors.project_for_editor(user=request.user, uuid=project) if project else None
    form = ElementForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            element = services.element_create(
                created_by=request.user, project=target, **form.values()
            )
        except services.ElementNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Added “{element.name}”.")
            return _to_library(element)
    return render(
        request, "elements/element_form.html", {"form": form, "project": target, "element": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def element_create_on_kling(request: HttpRequest, project: str | None = None) -> HttpResponse:
    target = selectors.project_for_editor(user=request.user, uuid=project) if project else None
    form = KlingElementForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            element = creation.element_create_on_kling(
                created_by=request.user,
                project=target,
                name=data["name"],
                description=data["description"],
                front=data["front"],
                views=data["views"],
            )
        except services.ElementNameTaken as exc:
            form.add_error("name", str(exc))
        except creation.CreationRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Kling is creating “{element.name}”: it shows here soon.")
            return _to_library(element)
    quote = creation.creation_quote(person=request.user, project=target)
    return render(
        request, "elements/kling_form.html", {"form": form, "project": target, "quote": quote}
    )


@login_required
@require_GET
def element_card(request: HttpRequest, uuid: str) -> HttpResponse:
    """The card of one element, polled by htmx while Kling creates it."""
    element = selectors.element_for_viewer(user=request.user, uuid=uuid)
    can_edit = selectors.can_edit_element(user=request.user, element=element)
    response = render(
        request, "elements/_element_card.html", {"element": element, "can_edit": can_edit}
    )
    if not element.is_being_created:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def element_edit(request: HttpRequest, uuid: str) -> HttpResponse:
    element = selectors.element_for_editor(user=request.user, uuid=uuid)
    if element.is_being_created:
        messages.info(request, f"Kling is still creating “{element.name}”: edit it once it is.")
        return _to_library(element)
    initial = {
        "name": element.name,
        "kling_element_id": element.kling_element_id,
        "note": element.note,
    }
    form = ElementForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.element_update(element=element, **form.values())
        except services.ElementNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Saved “{element.name}”.")
            return _to_library(element)
    return render(
        request,
        "elements/element_form.html",
        {"form": form, "project": element.project, "element": element},
    )


@login_required
@require_POST
def element_archive(request: HttpRequest, uuid: str) -> HttpResponse:
    element = selectors.element_for_editor(user=request.user, uuid=uuid)
    archive = request.POST.get("archive") == "1"
    try:
        services.element_set_archived(element=element, archived=archive)
    except services.ElementNameTaken as exc:
        messages.error(request, f"{exc} Rename or archive the other one first.")
    else:
        messages.success(
            request,
            f"Archived “{element.name}”: hidden from the picker, kept on past generations."
            if archive
            else f"“{element.name}” is back in the picker.",
        )
    return _to_library(element)


@login_required
@require_GET
def element_preview(request: HttpRequest, uuid: str) -> HttpResponseBase:
    # On a generation's page the generation's rights apply instead:
    # generations:generation_element_preview.
    element = selectors.element_for_viewer(user=request.user, uuid=uuid)
    if not element.preview:
        raise Http404("This element has no preview.")
    return media.file_response(element.preview.name, "image/webp")


def _to_library(element: Element) -> HttpResponse:
    response = redirect("elements:library")
    response["Location"] += f"#element-{element.uuid}"
    return response
