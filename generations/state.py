"""Moves of a generation between statuses.

Each move is one conditional UPDATE that only matches a row in a status the move is legal from,
so two workers racing on one generation cannot both move it, and nothing ever goes backwards.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.services import record
from spend import services as spend

from . import events
from .models import FINAL_STATUSES, TRANSITIONS, ErrorKind, Generation, Status


class IllegalTransition(Exception):
    pass


def sources_of(target: str) -> frozenset[str]:
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def move(
    generation_id: int,
    target: str,
    *,
    source: str | None = None,
    only_from: Collection[str] | None = None,
    where: Q | None = None,
    **fields: Any,
) -> bool:
    """Move to `target` if the row is in a status it may come from (and, with `only_from`, in
    one of those, and matches `where`); True if it moved.

    Asking for a move the table forbids (from `source`, or into a status nothing leads to)
    is a programming error and raises.
    """
    if source is not None:
        if not Generation.can_move(source, target):
            raise IllegalTransition(f"A generation cannot go from {source} to {target}.")
        allowed = frozenset({source})
    else:
        allowed = sources_of(target)
        if not allowed:
            raise IllegalTransition(f"Nothing leads to {target}.")
    if only_from is not None:
        allowed = allowed & frozenset(only_from)
    fields.setdefault("updated_at", timezone.now())
    if target in FINAL_STATUSES:
        fields.setdefault("finished_at", timezone.now())
        fields.setdefault("next_step_at", None)
    rows = Generation.objects.filter(pk=generation_id, status__in=allowed)
    if where is not None:
        rows = rows.filter(where)
    updated = rows.update(status=target, **fields)
    events.on_move(generation_id=generation_id, target=target, moved=updated == 1)
    return updated == 1


def move_many(generation_ids: list[int], target: str, *, source: str, **fields: Any) -> int:
    """`move` for several generations between two statuses that are not final (nothing to
    emit), in one UPDATE; how many moved."""
    if not Generation.can_move(source, target) or target in FINAL_STATUSES:
        raise IllegalTransition(f"A generation cannot go from {source} to {target} in bulk.")
    fields.setdefault("updated_at", timezone.now())
    return Generation.objects.filter(pk__in=generation_ids, status=source).update(
        status=target, **fields
    )


def fail(
    generation_id: int,
    *,
    kind: ErrorKind | str,
    message: str,
    code: int | None = None,
    by: AbstractBaseUser | None = None,
    only_from: Collection[str] | None = None,
    **fields: Any,
) -> bool:
    """Fail it (from any status that may fail, or only from `only_from`), free its hold, and
    record it in the audit trail (`by`: staff failing it by hand; empty for the pipeline)."""
    with transaction.atomic():
        moved = move(
            generation_id,
            Status.FAILED,
            error_kind=kind,
            error_message=message,
            error_code=code,
            submit_claimed_at=None,
            save_claimed_at=None,
            only_from=only_from,
            **fields,
        )
        if moved:
            generation = Generation.objects.select_related("project").get(pk=generation_id)
            # Whatever was held is free again (a charge, if the provider billed, stays).
            spend.release(subject=generation)
            record(
                Action.GENERATION_FAILED,
                actor=by,
                target=generation,
                project=generation.project,
                after={"error": _kind_label(kind)},
                reason=message,
            )
    return moved


def reopen_for_saving(generation_id: int, *, by: AbstractBaseUser | None = None) -> bool:
    """The one way out of `failed`, for staff: a generation whose images were made (and billed)
    but whose downloads failed goes back to saving while its output links still live. One
    waiting out a backoff in `saving` is made due now. Its charge stands; nothing is held."""
    now = timezone.now()
    links_live = now - timedelta(seconds=settings.OUTPUT_RETENTION_SECONDS)
    updated = (
        Generation.objects.filter(pk=generation_id, completed_at__gt=links_live)
        .exclude(output_urls=[])
        .filter(
            Q(status=Status.SAVING, save_claimed_at__isnull=True)
            | Q(status=Status.FAILED, error_kind=ErrorKind.DOWNLOAD)
        )
        .update(
            status=Status.SAVING,
            finished_at=None,
            save_claimed_at=None,
            save_gone=0,
            next_step_at=now,
            error_kind="",
            error_message="Saving again.",
            updated_at=now,
        )
    )
    if updated:
        generation = Generation.objects.select_related("project").get(pk=generation_id)
        record(
            Action.GENERATION_RETRIED,
            actor=by,
            target=generation,
            project=generation.project,
            reason="saving its outputs again",
        )
    return updated == 1


def _kind_label(kind: ErrorKind | str) -> str:
    try:
        return ErrorKind(kind).label
    except ValueError:
        return str(kind)
