"""Telling the team's tools (the hooks app) that a generation has finished or failed.

`state.move` calls `on_move` after every move; only a move into a final status emits, once the
move has committed. The generation is read then, outside the pipeline's transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from hooks.models import Event
from hooks.services import event_emit, listening

from .models import Generation, Status


def on_move(*, generation_id: int, target: str, moved: bool) -> None:
    if moved and target in (Status.DONE, Status.FAILED):
        transaction.on_commit(
            lambda: generation_final_emit(generation_id=generation_id),
            robust=True,  # a notification that fails must not fail the run
        )


def generation_final_emit(*, generation_id: int) -> None:
    # Most runs end with nobody listening: ask that first (two small SELECTs) before reading
    # the generation, its author, project and image count, and reversing its URL.
    found = (
        Generation.objects.filter(pk=generation_id)
        .values_list("status", "project_id", "owner_id")
        .first()
    )
    if found is None or found[0] not in (Status.DONE, Status.FAILED):
        return
    kind = Event.GENERATION_FINISHED if found[0] == Status.DONE else Event.GENERATION_FAILED
    if not listening(kind=kind, project_id=found[1], person_id=found[2]):
        return
    generation = (
        Generation.objects.select_related("owner", "project").filter(pk=generation_id).first()
    )
    if generation is None or generation.status not in (Status.DONE, Status.FAILED):
        return
    done = generation.status == Status.DONE
    prompt = " ".join(generation.prompt.split())
    short = prompt if len(prompt) <= 80 else prompt[:79] + "…"
    data = {
        "generation": {
            "id": str(generation.uuid),
            "status": generation.status,
            "prompt": prompt,
            "images": generation.images.count() if done else 0,
            "resolution": generation.resolution,
            "aspect_ratio": generation.aspect_ratio,
            "author": generation.owner.get_username(),
            "project": (
                {"id": str(generation.project.uuid), "name": generation.project.name}
                if generation.project
                else None
            ),
            "error": "" if done else generation.error_message,
            "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
        }
    }
    where = f" in {generation.project.name}" if generation.project else ""
    text = (
        f"{generation.owner.get_username()}'s generation{where} finished: “{short}”"
        if done
        else f"{generation.owner.get_username()}'s generation{where} failed: “{short}”"
        f" ({generation.error_message[:200]})"
    )
    event_emit(
        kind=Event.GENERATION_FINISHED if done else Event.GENERATION_FAILED,
        project_id=generation.project_id,
        person_id=generation.owner_id,
        data=data,
        text=text,
        path=reverse("generations:generation_detail", args=[generation.uuid]),
    )
