"""The prompt enhancer beside the prompt: ask for a suggestion, then follow it until it is final.

Both answers are the `_enhancement.html` partial; while the use is unfinished it polls itself
every second, and the final answer stops the polling (HTTP 286).
"""

from __future__ import annotations

import difflib
import re

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from config.parsing import parse_uuid
from projects.models import Project
from projects.selectors import project_for_member

from ..models import EnhancementStatus, PromptEnhancement
from ..services.enhancing import FINAL, EnhancementRefused, enhancement_create

PARTIAL = "generations/_enhancement.html"
# Words, runs of punctuation and runs of spaces: "kite," differs from "kite" only by its comma.
TOKENS = re.compile(r"\s+|\w+|[^\w\s]+")


@login_required
@require_POST
def enhance(request: HttpRequest) -> HttpResponse:
    """Start a use of the enhancer on the posted prompt, in the posted project (or personal)."""
    project = _project_for_enhancing(request.user, request.POST.get("project") or "")
    try:
        enhancement = enhancement_create(
            owner=request.user,
            project=project,
            text=request.POST.get("prompt") or "",
            style=request.POST.get("style") or "default",
        )
    except EnhancementRefused as exc:
        # A 200, so htmx shows the reason in the panel; nothing was held or sent.
        return render(request, PARTIAL, {"refusal": str(exc)})
    return _panel(request, enhancement)


@login_required
@require_GET
def enhancement(request: HttpRequest, uuid: str) -> HttpResponse:
    """One use, for its owner only: a use is personal, even when it counts for a project.
    Only reads: a use whose task was lost is ended by the sweeper, which this poll then shows."""
    found = PromptEnhancement.objects.filter(uuid=uuid, owner=request.user).first()
    if found is None:
        raise Http404("No such enhancement.")
    return _panel(request, found)


def _panel(request: HttpRequest, enhancement: PromptEnhancement) -> HttpResponse:
    context: dict[str, object] = {
        "enhancement": enhancement,
        "polling": enhancement.status not in FINAL,
    }
    if enhancement.status == EnhancementStatus.DONE:
        context["original_html"], context["suggestion_html"] = word_diff(
            enhancement.text, enhancement.suggestion
        )
    response = render(request, PARTIAL, context)
    if context["polling"]:
        return response
    return HttpResponseStopPolling(response.content)


def _project_for_enhancing(user: AbstractBaseUser, key: str) -> Project | None:
    """The project the use counts for: one the person may generate in. A stranger to it gets a
    404, a member who may not generate there a 403."""
    if not key:
        return None
    if (project_uuid := parse_uuid(key)) is None:
        raise Http404("No such project.")
    project, _ = project_for_member(user, project_uuid, generate=True)
    return project


def word_diff(original: str, suggestion: str) -> tuple[SafeString, SafeString]:
    """Both texts as HTML, escaped, with what the suggestion removed in <del> (in the original)
    and what it added in <ins> (in the suggestion)."""
    before, after = TOKENS.findall(original), TOKENS.findall(suggestion)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    old_html, new_html = [], []
    for op, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        old_part = escape("".join(before[a_start:a_end]))
        new_part = escape("".join(after[b_start:b_end]))
        if op == "equal":
            old_html.append(old_part)
            new_html.append(new_part)
            continue
        if old_part.strip():
            old_html.append(f"<del>{old_part}</del>")
        else:
            old_html.append(old_part)
        if new_part.strip():
            new_html.append(f"<ins>{new_part}</ins>")
        else:
            new_html.append(new_part)
    # Every piece was escaped above; only our own <del>/<ins> tags are markup.
    return mark_safe("".join(old_html)), mark_safe("".join(new_html))
