from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import SignupForm
from accounts.services import AccountDetailsTaken
from accounts.views import LOGIN_BACKEND
from audit.selectors import TrailFilters, trail_page
from config.cursors import InvalidCursor, decode_cursor
from gallery.grid import gallery_grid
from gallery.services import moving as move_services
from gallery.services.moving import move_batch_of, moves_out_of

from . import selectors, services
from .forms import InviteForm, ProjectNameForm, RoleForm
from .models import Membership, ProjectInvite, links_create_accounts

# The newest entries of the project's trail shown on its settings page (the rest on its own).
SETTINGS_TRAIL_SIZE = 15


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.project_create(user=request.user, name=form.cleaned_data["name"])
        return redirect("projects:detail", uuid=project.uuid)
    return render(
        request,
        "projects/project_list.html",
        {"form": form, "memberships": selectors.memberships_of(request.user)},
    )


@login_required
@require_GET
def project_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    project, membership = selectors.project_for_member(request.user, uuid)
    # The project's page shows the gallery filtered to it; scrolling on continues in the gallery.
    context = gallery_grid(user=request.user, data={"project": str(project.uuid)})
    return render(
        request,
        "projects/project_detail.html",
        {**context, "project": project, "membership": membership},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, uuid: str) -> HttpResponse:
    project, membership = selectors.project_for_member(request.user, uuid, manage=True)
    rename = ProjectNameForm(request.POST or None, initial={"name": project.name})
    if request.method == "POST" and rename.is_valid():
        services.project_rename(project=project, name=rename.cleaned_data["name"], by=request.user)
        messages.success(request, "Renamed.")
        return redirect("projects:settings", uuid=project.uuid)
    return render(
        request,
        "projects/project_settings.html",
        {
            "project": project,
            "membership": membership,
            "rename": rename,
            "invite_form": InviteForm(),
            "members": selectors.members_of(project),
            "invites": project.invites.filter(used_at__isnull=True, revoked_at__isnull=True),
            "role_form": RoleForm,
            "links_create_accounts": links_create_accounts(request.user),
            "moves_out": moves_out_of(project=project),
            "trail": trail_page(
                TrailFilters(project=project), staff=False, size=SETTINGS_TRAIL_SIZE
            ),
        },
    )


@login_required
@require_GET
def project_trail(request: HttpRequest, uuid: str) -> HttpResponse:
    """The project's audit trail, for its owners, in keyset pages."""
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    try:
        after = decode_cursor(request.GET["after"]) if request.GET.get("after") else None
    except InvalidCursor as exc:
        return render(
            request, "projects/project_trail.html", {"project": project, "error": exc}, status=400
        )
    page = trail_page(TrailFilters(project=project), after=after, staff=False)
    return render(request, "projects/project_trail.html", {"project": project, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def moves_undo(request: HttpRequest, uuid: str, batch: str) -> HttpResponse:
    """Bring back images a batch of moves took out of the project: GET asks for confirmation,
    POST (with `confirm`) does it. Owners only."""
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    moves = move_batch_of(project=project, batch=batch)
    if moves is None:
        raise Http404("No such move.")
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm, then move them back.")
            return redirect("projects:moves_undo", uuid=project.uuid, batch=batch)
        try:
            report = move_services.moves_undo(user=request.user, project=project, batch=batch)
        except move_services.MoveRefused as exc:
            messages.error(request, str(exc))
        else:
            level = messages.SUCCESS if not report.refusals else messages.WARNING
            messages.add_message(request, level, str(report))
        return redirect("projects:settings", uuid=project.uuid)
    return render(request, "projects/moves_undo.html", {"project": project, "moves": moves})


@login_required
@require_POST
def project_archive(request: HttpRequest, uuid: str) -> HttpResponse:
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    archive = request.POST.get("archive") == "1"
    services.project_set_archived(project=project, archived=archive, by=request.user)
    messages.success(request, "Archived: read-only for everyone." if archive else "Restored.")
    return redirect("projects:settings", uuid=project.uuid)


@login_required
@require_POST
def invite_create(request: HttpRequest, uuid: str) -> HttpResponse:
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    form = InviteForm(request.POST)
    if form.is_valid():
        services.invite_create(
            project=project,
            role=form.cleaned_data["role"],
            created_by=request.user,
            days=form.cleaned_data["days"],
        )
        messages.success(request, "Invitation link created: copy it from the list below.")
    else:
        messages.error(request, "Choose a role and a validity of 1 to 30 days.")
    return redirect("projects:settings", uuid=project.uuid)


@login_required
@require_POST
def invite_revoke(request: HttpRequest, uuid: str, token: str) -> HttpResponse:
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    invite = get_object_or_404(ProjectInvite, project=project, token=token)
    services.invite_revoke(invite=invite, by=request.user)
    messages.success(request, "Invitation withdrawn.")
    return redirect("projects:settings", uuid=project.uuid)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Signed in: join. New here: create an account and join in one step, if the link may
    create accounts (`ProjectInvite.creates_accounts`); otherwise log in first."""
    invite = (
        ProjectInvite.objects.select_related("project", "created_by").filter(token=token).first()
    )
    if not request.user.is_authenticated:
        return _join_with_new_account(request, token, invite)
    if request.method == "POST":
        try:
            membership = services.invite_accept(token=token, user=request.user)
        except services.ProjectError as exc:
            messages.error(request, str(exc))
            return redirect("projects:list")
        messages.success(request, f"You are now in {membership.project.name}.")
        return redirect("projects:detail", uuid=membership.project.uuid)
    return render(
        request,
        "projects/invite_accept.html",
        {"invite": invite if invite and invite.is_usable else None},
    )


@login_required
@require_POST
def member_role(request: HttpRequest, uuid: str, member: str) -> HttpResponse:
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    membership = get_object_or_404(Membership, project=project, uuid=member)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_set_role(
                membership=membership, role=form.cleaned_data["role"], by=request.user
            )
            messages.success(request, "Role changed.")
        except services.ProjectError as exc:
            messages.error(request, str(exc))
    return redirect("projects:settings", uuid=project.uuid)


@login_required
@require_POST
def member_remove(request: HttpRequest, uuid: str, member: str) -> HttpResponse:
    project, _ = selectors.project_for_member(request.user, uuid, manage=True)
    membership = get_object_or_404(Membership, project=project, uuid=member)
    try:
        services.member_remove(membership=membership, by=request.user)
        messages.success(
            request,
            "Removed from the project. Their images stay in it; the share links they made to "
            "them are revoked.",
        )
    except services.ProjectError as exc:
        messages.error(request, str(exc))
    return redirect("projects:settings", uuid=project.uuid)


def _join_with_new_account(
    request: HttpRequest, token: str, invite: ProjectInvite | None
) -> HttpResponse:
    usable = invite is not None and invite.is_usable
    # A link that adds existing accounts only offers the login, and reads no sign-up data.
    form = SignupForm(request.POST or None) if usable and invite.creates_accounts else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            membership = services.invite_accept_new_account(
                token=token, form_data=form.cleaned_data
            )
        except AccountDetailsTaken as exc:
            form.refuse(exc.errors)
        except services.ProjectError as exc:
            messages.error(request, str(exc))
            return redirect("login")
        else:
            login(request, membership.user, backend=LOGIN_BACKEND)
            messages.success(request, f"Welcome to Darkroom. You are now in {invite.project.name}.")
            return redirect("projects:detail", uuid=membership.project.uuid)
    return render(
        request,
        "projects/invite_accept.html",
        {"invite": invite if usable else None, "signup_form": form},
        status=200 if usable else 410,
    )
