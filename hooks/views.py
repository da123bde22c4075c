"""Pages to manage notification endpoints. Every view loads the endpoint through
`selectors.endpoint_for_owner`: a stranger gets 404, a project's editor or viewer 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.requests import AuthenticatedHttpRequest

from . import selectors, services
from .forms import EndpointForm, NewEndpointForm
from .models import Delivery, Endpoint


@login_required
@require_GET
def endpoint_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    projects = selectors.managed_projects(request.user)
    endpoints = selectors.endpoints_of(person=request.user, projects=projects)
    return render(request, "hooks/endpoint_list.html", {"endpoints": endpoints})


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    projects = selectors.managed_projects(request.user)
    initial = {"owner": request.GET.get("project", "")}
    form = NewEndpointForm(request.POST or None, projects=projects, initial=initial)
    if request.method == "POST" and form.is_valid():
        endpoint = services.endpoint_create(
            by=request.user,
            project=form.project(),
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            events=form.cleaned_data["events"],
            format=form.cleaned_data["format"],
        )
        messages.success(request, "Endpoint added. Its signing secret is below.")
        return redirect("hooks:detail", uuid=endpoint.uuid)
    return render(request, "hooks/endpoint_form.html", {"form": form, "endpoint": None})


@login_required
@require_GET
def endpoint_detail(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    return render(
        request,
        "hooks/endpoint_detail.html",
        {"endpoint": endpoint, "deliveries": selectors.recent_deliveries(endpoint)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    form = EndpointForm(
        request.POST or None,
        allow_private=endpoint.allow_private,
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "format": endpoint.format,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
        messages.success(request, "Saved.")
        return redirect("hooks:detail", uuid=endpoint.uuid)
    return render(request, "hooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@login_required
@require_POST
def endpoint_delete(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    services.endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, "Endpoint deleted.")
    return redirect("hooks:list")


@login_required
@require_POST
def endpoint_rotate(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    services.endpoint_rotate_secret(endpoint=endpoint)
    messages.success(request, "New secret made: update your receiver.")
    return redirect("hooks:detail", uuid=endpoint.uuid)


@login_required
@require_POST
def endpoint_resume(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    services.endpoint_resume(endpoint=endpoint)
    messages.success(request, "Resumed.")
    return redirect("hooks:detail", uuid=endpoint.uuid)


@login_required
@require_POST
def endpoint_test(request: AuthenticatedHttpRequest, uuid: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_owner(request.user, uuid)
    services.endpoint_test(endpoint=endpoint, by=request.user)
    messages.success(request, "Test event queued.")
    return redirect("hooks:detail", uuid=endpoint.uuid)


@login_required
@require_POST
def delivery_resend(request: AuthenticatedHttpRequest, uuid: str, delivery: str) -> HttpResponse:
    endpoint: Endpoint = selectors.endpoint_for_owner(request.user, uuid)
    found = Delivery.objects.filter(endpoint=endpoint, uuid=delivery).first()
    if found is None:
        raise Http404("No such delivery.")
    services.delivery_resend(delivery=found)
    messages.success(request, "Sending it again.")
    return redirect("hooks:detail", uuid=endpoint.uuid)
