"""Writing the audit trail: `record(...)`, called by the services that act, inside their
transaction (so an action and its entry commit or roll back together).

    record(Action.MEMBER_REMOVED, actor=owner, project=project, target=member,
           before={"role": "editor"})

`target` is any object of a type in TARGETS; it is stored as a type key, an id and a
description, so the entry still says what it was about once the object is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from .context import current_address
from .models import Action, Entry

REPR_LENGTH = Entry._meta.get_field("object_repr").max_length
PROMPT_START = 60


def _short(text: str, length: int = PROMPT_START) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _image(image: Any) -> tuple[str, str]:
    return str(image.uuid), f"“{_short(image.generation.prompt)}” ({str(image.uuid)[:8]})"


def _generation(generation: Any) -> tuple[str, str]:
    return str(generation.uuid), f"“{_short(generation.prompt)}” ({str(generation.uuid)[:8]})"


def _share_link(link: Any) -> tuple[str, str]:
    # Never the token: it is the link's whole secret, and the trail is exported.
    prompt = _short(link.image.generation.prompt)
    return str(link.pk), f"link to “{prompt}” ({str(link.image.uuid)[:8]}) made by " + (
        link.created_by.get_username()
    )


# Model label → (type key, function giving the id to keep and the description).
TARGETS: dict[str, tuple[str, Callable[[Any], tuple[str, str]]]] = {
    "generations.outputimage": ("image", _image),
    "generations.generation": ("generation", _generation),
    "generations.sharelink": ("share link", _share_link),
    "projects.project": ("project", lambda p: (str(p.uuid), p.name)),
    "projects.projectinvite": (
        "invitation",
        lambda i: (str(i.pk), f"{i.get_role_display()} link to {i.project.name}"),
    ),
    "auth.user": ("person", lambda u: (str(u.pk), u.get_username())),
    "accounts.invitation": (
        "account invitation",
        lambda i: (str(i.pk), f"invitation{' for ' + i.email if i.email else ''}"),
    ),
    "generations.promptenhancement": (
        "enhancer use",
        lambda e: (str(e.uuid), f"“{_short(e.text)}”"),
    ),
    # Never the secret, nor its digest: the name and the hint the person sees in their list.
    "accounts.accesstoken": ("API token", lambda t: (str(t.uuid), f"{t.name} ({t.hint}…)")),
    "elements.element": ("element", lambda e: (str(e.uuid), e.name)),
    # The host only: a URL's path can be its secret (a Slack incoming webhook's is).
    "hooks.endpoint": ("endpoint", lambda e: (str(e.uuid), e.host)),
    "spend.budget": ("budget", lambda b: (str(b.pk), b.scope_label)),
    "spend.price": (
        "price",
        lambda p: (
            str(p.pk),
            f"{p.model} {p.resolution} ${p.per_image} from {p.valid_from:%Y-%m-%d %H:%M}",
        ),
    ),
}


def entry(
    action: Action | str,
    *,
    actor: AbstractBaseUser | None = None,
    target: Model | None = None,
    project: Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> Entry:
    """An unsaved entry (for `record_all`); `record` saves one at once."""
    object_type = object_id = object_repr = ""
    if target is not None:
        object_type, describe = TARGETS[target._meta.label_lower]
        object_id, object_repr = describe(target)
    return Entry(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        project=project,
        project_name=project.name if project is not None else "",
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:REPR_LENGTH],
        before=before,
        after=after,
        reason=reason[:200],
        address=current_address(),
    )


def record(action: Action | str, **fields: Any) -> Entry:
    """Write one entry now (in the caller's transaction)."""
    written = entry(action, **fields)
    written.save(force_insert=True)
    return written


def record_all(entries: Iterable[Entry]) -> int:
    """Write entries made by `entry(...)` in one INSERT (a bulk action's hundreds of rows)."""
    written = Entry.objects.bulk_create(list(entries))
    return len(written)
