from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from config.addresses import client_ip

from . import selectors, services, theme, throttling
from .forms import InvitationForm, ProfileForm, SignupForm, TokenForm
from .models import InvitationState

# The backend a new account is logged in with (axes' backend only watches attempts).
LOGIN_BACKEND = "accounts.backends.ModelBackend"


def _profile_page(
    request: HttpRequest,
    form: ProfileForm,
    *,
    token_form: TokenForm | None = None,
    new_token: services.NewToken | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "token_form": token_form or TokenForm(projects=selectors.token_projects(request.user)),
            "tokens": selectors.tokens_of(request.user),
            "new_token": new_token,
        },
        status=status,
    )


def _profile_form(request: HttpRequest) -> ProfileForm:
    current = selectors.profile_of(request.user)
    return ProfileForm(
        initial={"display_name": current.display_name if current else ""}, user=request.user
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.profile_update(
                    user=request.user, display_name=form.cleaned_data["display_name"]
                )
            except services.DisplayNameRefused as exc:
                form.add_error("display_name", str(exc))
            else:
                messages.success(request, "Profile saved.")
                return redirect("accounts:profile")
    else:
        form = _profile_form(request)
    return _profile_page(request, form)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """A new API token, its secret shown on this answer only (never stored, never redirected
    to: the page that shows it is not one a reload or the history can bring back)."""
    token_form = TokenForm(request.POST, projects=selectors.token_projects(request.user))
    if token_form.is_valid():
        data = token_form.cleaned_data
        try:
            new_token = services.token_create(
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                project_id=data["project"],
                expires_at=token_form.expires_at(),
            )
        except services.TokenRefused as exc:
            token_form.add_error(None, str(exc))
        else:
            return _profile_page(request, _profile_form(request), new_token=new_token)
    return _profile_page(request, _profile_form(request), token_form=token_form, status=400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, uuid: uuid.UUID) -> HttpResponse:
    token = selectors.token_of(request.user, uuid)
    if token is None:
        raise Http404("No such token.")
    if services.tokens_revoke(tokens=[token], by=request.user):
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("accounts:profile")


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied
    if request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            services.invitation_create(created_by=request.user, email=form.cleaned_data["email"])
            messages.success(request, "Invitation created: copy its link below and send it.")
            return redirect("accounts:invite")
    else:
        form = InvitationForm()
    invitations = [
        (invitation, request.build_absolute_uri(invitation.get_absolute_url()))
        for invitation in selectors.invitations_open()
    ]
    return render(
        request,
        "accounts/invite.html",
        {
            "form": form,
            "invitations": invitations,
            "days": settings.DARKROOM_INVITATION_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return _unusable(request, "unknown", status=404)
    if invitation.state != InvitationState.OPEN:
        return _unusable(request, invitation.state, status=410)
    if request.user.is_authenticated:
        return render(request, "accounts/join.html", {"signed_in": True})

    form = SignupForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, form_data=form.cleaned_data)
        except services.InvitationUnusable as exc:
            return _unusable(request, exc.state, status=410)
        except services.AccountDetailsTaken as exc:
            form.refuse(exc.errors)
        else:
            return _welcome(request, user)
    return render(request, "accounts/join.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.DARKROOM_OPEN_SIGNUP:
        raise Http404("Sign-up is by invitation only.")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(form_data=form.cleaned_data)
        except services.AccountDetailsTaken as exc:
            form.refuse(exc.errors)
        else:
            return _welcome(request, user)
    return render(request, "accounts/signup.html", {"form": form})


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """The theme toggle without JavaScript (theme.js sets the cookie itself): remember the
    choice, back to the page it was made on. Open to everyone: the login page has the toggle."""
    choice = request.POST.get("theme", "")
    if choice not in theme.THEMES:
        return HttpResponseBadRequest("Unknown theme.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = HttpResponseRedirect(back)
    theme.theme_remember(response, theme=choice, secure=request.is_secure())
    return response


def _welcome(request: HttpRequest, user) -> HttpResponse:
    login(request, user, backend=LOGIN_BACKEND)
    messages.success(request, f"Welcome to Darkroom, {selectors.display_name_of(user)}.")
    return redirect(settings.LOGIN_REDIRECT_URL)


def _unusable(request: HttpRequest, reason: str, *, status: int) -> HttpResponse:
    return render(request, "accounts/join_unusable.html", {"reason": reason}, status=status)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, sending at most a few mails an hour per address and per account
    (accounts/throttling.py). Over a limit nothing is sent, and the answer is the same "if an
    account exists, we sent a mail" page, so the limit tells nothing about the account."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        allowed = throttling.password_reset_allowed(
            address=client_ip(self.request), email=form.cleaned_data["email"]
        )
        if allowed:
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())
