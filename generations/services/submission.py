"""Creating a generation (its hold, its references and elements) and queueing its submit; the job
runner (`wavespeed.runner`, with `generations/jobs.py`) sends it to WaveSpeed exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from elements.models import Element, GenerationElement
from projects.models import Project
from spend import services as spend
from wavespeed import runner
from wavespeed.specs import KLING_IMAGE_O3

from .. import pricing, state
from ..jobs import GENERATION
from ..models import Generation, GenerationReference, ResultType, Status
from ..references import references_visible_to


@dataclass(frozen=True)
class GenerationParams:
    prompt: str
    aspect_ratio: str = "auto"
    resolution: str = "1k"
    result_type: str = ResultType.SINGLE
    num_images: int = 1
    # The person's own prompt when `prompt` is the enhancer's suggestion they accepted.
    prompt_original: str = ""
    # ReferenceImage pks the owner may see, in the order they are sent (`<<<image_1>>>` first).
    references: tuple[int, ...] = ()
    # Elements, in the order they are sent (`<<<element_1>>>` first); the form checked them.
    elements: tuple[Element, ...] = ()


def build_payload(params: GenerationParams) -> dict[str, Any]:
    """The submit body, in the documented field names (docs/wavespeed.md)."""
    payload: dict[str, Any] = {
        "prompt": params.prompt,
        "aspect_ratio": params.aspect_ratio,
        "resolution": params.resolution,
        "result_type": params.result_type,
    }
    if params.result_type != ResultType.SERIES:
        # For a series the provider ignores num_images; not sending it keeps the record honest.
        payload["num_images"] = params.num_images
    if params.elements:
        # Kling's own item shape; WaveSpeed does not document it [inferred].
        payload["element_list"] = [
            {"element_id": element.kling_element_id} for element in params.elements
        ]
    return payload


@transaction.atomic
def generation_create(
    *, owner: AbstractBaseUser, params: GenerationParams, project: Project | None = None
) -> Generation:
    """Record a generation (personal, or in a project the caller checked they may generate in)
    and queue its submit."""
    price = pricing.price_per_image(params.resolution)
    generation = Generation.objects.create(
        owner=owner,
        project=project,
        model=KLING_IMAGE_O3,
        prompt=params.prompt,
        prompt_original=params.prompt_original,
        aspect_ratio=params.aspect_ratio,
        resolution=params.resolution,
        result_type=params.result_type,
        num_images=params.num_images,
        request_payload=build_payload(params),
        price_per_image=price,
        quoted_cost=price
        * pricing.held_images(
            num_images=params.num_images, series=params.result_type == ResultType.SERIES
        ),
        next_step_at=timezone.now(),
    )
    _link_references(generation, params.references)
    GenerationElement.objects.bulk_create(
        GenerationElement(generation=generation, element=element, position=position)
        for position, element in enumerate(params.elements)
    )
    # Raises BudgetExceeded, which rolls this transaction (and the generation) back.
    spend.reserve(subject=generation, amount=generation.quoted_cost)
    record(
        Action.GENERATION_CREATED,
        actor=owner,
        target=generation,
        project=project,
        after={
            "images": generation.num_images,
            "resolution": generation.resolution,
            "held": f"${generation.quoted_cost:.3f}",
        },
    )
    if params.references:
        runner.schedule_submit(GENERATION, generation.pk)
    else:
        runner.queue_first_submit_batched(GENERATION, generation.pk)
    return generation


def _link_references(generation: Generation, reference_ids: tuple[int, ...]) -> None:
    """Link the references as they are, another person's too ("generate again" on a project
    member's generation): a used reference is protected from deletion, and its provider upload
    is shared by content hash."""
    visible = set(
        references_visible_to(generation.owner)
        .filter(pk__in=reference_ids)
        .values_list("pk", flat=True)
    )
    if visible != set(reference_ids):
        # The form only offers references the person may see; anything else is a bug upstream.
        raise ValueError("A generation may only use references its owner may see.")
    GenerationReference.objects.bulk_create(
        GenerationReference(generation=generation, reference_id=pk, position=position)
        for position, pk in enumerate(reference_ids)
    )


def adopt_prediction_id(
    *, generation_id: int, prediction_id: str, by: AbstractBaseUser | None = None
) -> None:
    """A person found the prediction of a generation that needs attention: follow it."""
    with transaction.atomic():
        moved = state.move(
            generation_id,
            Status.SUBMITTED,
            source=Status.NEEDS_ATTENTION,
            provider_id=prediction_id,
            submitted_at=timezone.now(),
            error_kind="",
            error_message="",
            next_step_at=timezone.now(),
        )
        if moved:
            generation = Generation.objects.select_related("project").get(pk=generation_id)
            record(
                Action.GENERATION_RETRIED,
                actor=by,
                target=generation,
                project=generation.project,
                after={"prediction": prediction_id},
                reason="followed again with a prediction id found by hand",
            )
            runner.schedule_follow(GENERATION, generation_id, generation.poll_seq, 0)
