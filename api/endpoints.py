"""The operations of /api/v1/. Each one: the caller's rights (api/access.py, over the pages'
selectors), then the same selector, form or service the page uses, then a schema."""

from __future__ import annotations

import base64
import binascii
import functools
import io
from collections.abc import Callable
from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.decorators import decorate_view

from accounts.selectors import display_name_of
from config.cursors import encode_cursor
from elements.forms import ElementForm
from elements.models import Element
from elements.selectors import elements_for_picker, libraries_for
from elements.services import ElementNameTaken, element_create
from gallery.forms import IMAGE_ONLY, RunFilterForm
from gallery.selectors import generations_listed
from generations import pricing
from generations.forms import GenerateForm, QuoteForm
from generations.models import Generation
from generations.models import Status as RunStatus
from generations.runs import run_of
from generations.services.cancelling import generation_cancel
from generations.services.submission import generation_create
from projects.models import Project
from projects.selectors import members_of
from references.cleaning import (
    MAX_REFERENCES,
    NormalisedImage,
    ReferenceRejected,
    normalise,
    printable_name,
)
from references.services import reference_store
from reports import selectors as reports
from reports.forms import DateRangeForm
from spend import money
from spend.services import BudgetExceeded, Standing, month_of

from . import access, schemas, services
from .auth import GENERATE, MANAGE, READ, Caller, rate_limited
from .errors import ApiError, body
from .filtering import GalleryFilters, filter_form

router = Router()

# Every answer an operation may give besides its success, for the schema.
ERRORS: dict[int, Any] = {code: schemas.Error for code in (400, 401, 403, 404, 422, 429)}
PAGE_SIZE = 50
PAGE_MAX = 100


def _caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _usd(amount: object) -> str:
    return money.exact_number(amount)


def _budget(standing: Standing | None) -> dict[str, Any] | None:
    if standing is None:
        return None
    return {
        "kind": standing.kind,
        "name": standing.budget.scope_label,
        "limit": _usd(standing.limit),
        "used": _usd(standing.used),
        "left": _usd(standing.left),
        "percent": standing.percent,
    }


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}


def _month(value: str | None) -> date:
    if not value:
        return month_of(timezone.now())
    if (period := reports.month_parse(value)) is None:
        raise ApiError(422, "Name a month as YYYY-MM.", field_errors={"month": ["Not YYYY-MM."]})
    return period


# --- Quote ------------------------------------------------------------------------------------


@router.get("/quote", response={200: schemas.Quote, **ERRORS}, auth=READ, tags=["generations"])
def quote(
    request: HttpRequest,
    resolution: str | None = None,
    num_images: int | None = None,
    result_type: str | None = None,
    project: UUID | None = None,
) -> dict[str, Any]:
    """The price of a run and the budgets it counts against, as the Generate form's live price
    shows it; `refusal` is what a submit would be told now."""
    caller = _caller(request)
    form = QuoteForm(
        {
            key: value
            for key, value in (
                ("resolution", resolution),
                ("num_images", num_images),
                ("result_type", result_type),
            )
            if value is not None
        }
    )
    if not form.is_valid():
        raise ApiError(422, "Some values are not valid.", field_errors=_form_errors(form))
    if project is None:
        access.personal_allowed(caller)
        where = None
    else:
        where, _ = access.project(caller, str(project), generate=True)
    found = pricing.quote(form.cleaned_data, person=caller.user, project=where)
    return {
        "resolution": found["resolution"],
        "num_images": found["num_images"],
        "series": found["series"],
        "price_per_image": _usd(found["price_amount"]),
        "total": _usd(found["total_amount"]),
        "hold": _usd(found["hold"]),
        "budgets": [_budget(s) for s in found["budgets"]],
        "refusal": found["refusal"] or None,
    }


# --- Projects ---------------------------------------------------------------------------------


def _project(membership: Any) -> dict[str, Any]:
    project = membership.project
    return {
        "uuid": project.uuid,
        "name": project.name,
        "role": membership.role,
        "can_generate": membership.can_generate,
        "archived": project.is_archived,
        "created_at": project.created_at,
    }


@router.get(
    "/projects", response={200: list[schemas.Project], **ERRORS}, auth=READ, tags=["projects"]
)
def projects(request: HttpRequest) -> list[dict[str, Any]]:
    """The projects you belong to (only the token's project, for a token limited to one)."""
    return [_project(m) for m in access.memberships(_caller(request))]


@router.get(
    "/projects/{uuid}", response={200: schemas.Project, **ERRORS}, auth=READ, tags=["projects"]
)
def project(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    _, membership = access.project(_caller(request), str(uuid))
    return _project(membership)


@router.get(
    "/projects/{uuid}/members",
    response={200: list[schemas.Member], **ERRORS},
    auth=READ,
    tags=["projects"],
)
def members(request: HttpRequest, uuid: UUID) -> list[dict[str, Any]]:
    """Everyone in the project, as its members page (the project's settings) lists them: its
    owners only, as there."""
    found, _ = access.project(_caller(request), str(uuid), manage=True)
    return [
        {
            "username": m.user.get_username(),
            "display_name": display_name_of(m.user),
            "role": m.role,
            "joined_at": m.created_at,
        }
        for m in members_of(found)
    ]


@router.get(
    "/projects/{uuid}/spend",
    response={200: schemas.ProjectSpend, **ERRORS},
    auth=READ,
    tags=["spend"],
)
def project_spend(request: HttpRequest, uuid: UUID, month: str | None = None) -> dict[str, Any]:
    """A project's spend in a month (this one unless `month`, YYYY-MM): its owners only."""
    found, _ = access.project(_caller(request), str(uuid), manage=True)
    data = reports.project_month(project=found, period=_month(month))
    return {
        "month": f"{data.period:%Y-%m}",
        "total": _usd(data.total),
        "by_member": [
            {"name": row["username"], "total": _usd(row["total"])} for row in data.by_member
        ],
        "budget": _budget(data.budget),
    }


# --- Spend ------------------------------------------------------------------------------------


@router.get("/spend/me", response={200: schemas.MySpend, **ERRORS}, auth=READ, tags=["spend"])
def my_spend(request: HttpRequest, month: str | None = None) -> dict[str, Any]:
    """Your own spend in a month (this one unless `month`, YYYY-MM), wherever it was made: not
    for a token limited to one project."""
    caller = _caller(request)
    access.personal_allowed(caller)
    data = reports.person_month(user=caller.user, period=_month(month))
    return {
        "month": f"{data.period:%Y-%m}",
        "total": _usd(data.total),
        "by_resolution": [{"name": k, "total": _usd(v)} for k, v in data.by_resolution],
        "by_project": [{"name": k, "total": _usd(v)} for k, v in data.by_project],
        "generations": [
            # person_month puts each generation's spend of the month on it.
            {"uuid": g.uuid, "spend": _usd(g.spend)}  # type: ignore[attr-defined]
            for g in data.generations
        ],
        "budget": _budget(data.budget),
    }


class ReviewFilters(Schema):
    start: str | None = Field(None, description="YYYY-MM-DD; with `end`, else this month.")
    end: str | None = Field(None, description="YYYY-MM-DD, included; at most a year after start.")
    runs: Literal["biggest", "all"] = "biggest"


@router.get(
    "/spend/review", response={200: schemas.SpendReview, **ERRORS}, auth=READ, tags=["spend"]
)
def spend_review(request: HttpRequest, filters: Query[ReviewFilters]) -> dict[str, Any]:
    """The cost review page's tables, staff only (to anyone else it does not exist: 404):
    everyone's spend on runs submitted between two dates (this month unless `start` and
    `end`), by person, project and day, the biggest runs (or every paid call), the failed
    generations and the people near their cap."""
    caller = _caller(request)
    access.staff(caller)
    form = DateRangeForm.this_month_unless({"start": filters.start, "end": filters.end})
    if not form.is_valid():
        raise ApiError(422, "Some values are not valid.", field_errors=_form_errors(form))
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    data = reports.review(start=start, end=end)
    runs = reports.every_run(start=start, end=end) if filters.runs == "all" else data.runs
    return {
        "start": start,
        "end": end,
        "total": _usd(data.total),
        "by_person": [{"name": r["username"], "total": _usd(r["total"])} for r in data.people],
        "by_project": [
            {"name": r["name"] or "Personal", "total": _usd(r["total"])} for r in data.projects
        ],
        "by_day": [{"day": r["day"], "total": _usd(r["total"])} for r in data.days],
        "runs": [_review_run(run) for run in runs],
        "failed": [_review_run(run) for run in data.failed],
        "near_caps": [
            {
                "person": s.budget.person.get_username(),
                "percent": s.percent,
                "used": _usd(s.used),
                "limit": _usd(s.limit),
                "left": _usd(s.left),
            }
            for s in data.near_caps
            if s.budget.person is not None  # budgets_near_cap: people's budgets only
        ],
    }


def _review_run(run: Any) -> dict[str, Any]:
    """A generation, an enhancer use (`is_enhancer`) or an element made on Kling (`is_element`),
    as the review's CSV of runs writes it."""
    enhancer = getattr(run, "is_enhancer", False)
    element = getattr(run, "is_element", False)
    per_use = enhancer or element
    return {
        "uuid": run.uuid,
        "kind": "prompt enhancer" if enhancer else "kling element" if element else "generation",
        "prompt": run.text if enhancer else run.name if element else run.prompt,
        "submitted_at": run.created_at,
        "person": (run.payer if element else run.owner).get_username(),
        "project": run.project.name if run.project else None,
        "resolution": None if per_use else run.resolution,
        "images": None if per_use else run.billed_images,
        "status": getattr(run, "status", None) or None,
        "charged": _usd(run.charged),
        "spend": _usd(run.spend),
    }


# --- Elements ---------------------------------------------------------------------------------


@router.get(
    "/elements", response={200: list[schemas.Element], **ERRORS}, auth=READ, tags=["elements"]
)
def elements(request: HttpRequest) -> list[dict[str, Any]]:
    """Your element library and your projects' (the element library page's), live ones."""
    caller = _caller(request)
    found = []
    for library in libraries_for(user=caller.user):
        project_id = library.project.pk if library.project else None
        if caller.project_id is not None and project_id != caller.project_id:
            continue
        for element in library.elements:
            if element.archived_at is None:
                found.append(_element(element, library.project))
    return found


def _element(element: Element, project: Project | None) -> dict[str, Any]:
    return {
        "uuid": element.uuid,
        "name": element.name,
        "project": project.uuid if project else None,
        "usable": bool(element.kling_element_id),
        "created_at": element.created_at,
    }


@router.post(
    "/elements",
    response={201: schemas.Element, 409: schemas.Error, 413: schemas.Error, **ERRORS},
    auth=MANAGE,
    tags=["elements"],
)
def create_element(request: HttpRequest, payload: schemas.ElementIn) -> Status[dict[str, Any]]:
    """Add an element already made on Kling to your library or a project's (its owners and
    editors), by its Kling id, through the library page's form: the same checks and messages
    (422 with `field_errors`); 409 `name_taken` when a live element of that library has the
    name. Nothing is sent to Kling and nothing is charged."""
    caller = _caller(request)
    if payload.project is None:
        access.personal_allowed(caller)
        target = None
    else:
        target = access.element_library(caller, str(payload.project))
    files: MultiValueDict[str, UploadedFile] = MultiValueDict()
    if payload.preview is not None:
        try:
            # Line breaks too, as `base64` writes them every 76 characters.
            picture = base64.b64decode("".join(payload.preview.split()), validate=True)
        except (binascii.Error, ValueError):  # ValueError: a character outside ASCII
            raise ApiError(
                422, "Some values are not valid.", field_errors={"preview": ["Not base64."]}
            ) from None
        files["preview"] = SimpleUploadedFile("preview", picture)
    form = ElementForm(
        {"name": payload.name, "kling_element_id": payload.kling_element_id, "note": payload.note},
        files,
    )
    if not form.is_valid():
        raise ApiError(422, "Some values are not valid.", field_errors=_form_errors(form))
    try:
        made = element_create(created_by=caller.user, project=target, **form.values())
    except ElementNameTaken as exc:
        message = str(exc)
        raise ApiError(409, message, code="name_taken", field_errors={"name": [message]}) from None
    return Status(201, _element(made, target))


# --- Generations ------------------------------------------------------------------------------


def _generation(generation: Generation) -> dict[str, Any]:
    run = run_of(generation)
    images = list(generation.images.all())
    failure = None
    if run.state == "failed":
        failure = {
            "kind": generation.error_kind,
            "code": generation.error_code,
            "message": generation.error_message,
        }
    return {
        "uuid": generation.uuid,
        "url": reverse("generations:generation_detail", kwargs={"uuid": generation.uuid}),
        "status": generation.status,
        "state": run.state,
        "phase": run.phase,
        "project": generation.project.uuid if generation.project else None,
        "owner": generation.owner.get_username(),
        "prompt": generation.prompt,
        "prompt_original": generation.prompt_original,
        "aspect_ratio": generation.aspect_ratio,
        "resolution": generation.resolution,
        "result_type": generation.result_type,
        "num_images": generation.num_images,
        "price_per_image": _usd(generation.price_per_image),
        "held": _usd(generation.quoted_cost),
        "cost": None if generation.cost is None else _usd(generation.cost),
        "request": generation.request_payload,
        "references": [link.reference.uuid for link in generation.reference_links.all()],
        "elements": [link.element.uuid for link in generation.element_links.all()],
        "outputs": [
            {
                "uuid": image.uuid,
                **schemas.file_facts(image),
                "trashed": image.deleted_at is not None,
            }
            for image in images
        ],
        "failure": failure,
        "created_at": generation.created_at,
        "finished_at": generation.finished_at,
    }


def _key_checked(key: str | None) -> str | None:
    if key is not None and not 0 < len(key) <= 255:
        raise ApiError(400, "An Idempotency-Key is 1 to 255 characters.")
    return key or None


def _replayed(
    caller: Caller, response: HttpResponse, key: str | None, digest: str
) -> Status[dict[str, Any]] | None:
    """The answer to a request already made under `key`: the generation it made (200)."""
    if key is None:
        return None
    try:
        earlier = services.created_before(token=caller.token, key=key, digest=digest)
    except services.KeyReused:
        raise _key_reused() from None
    if earlier is None:
        return None
    response["Idempotent-Replayed"] = "true"
    return Status(200, _generation(access.generation(caller, str(earlier.uuid))))


def _made_once(
    caller: Caller,
    response: HttpResponse,
    key: str | None,
    digest: str,
    create: Callable[[], Generation],
) -> Status[dict[str, Any]]:
    """`create`, at most once under `key`: 201 with what it made, or 200 with what a racing
    request with the same key made."""
    try:
        if key is not None:
            made, new = services.create_once(
                token=caller.token, key=key, digest=digest, create=create
            )
        else:
            made, new = create(), True
    except services.KeyReused:
        raise _key_reused() from None
    except BudgetExceeded as exc:
        raise ApiError(422, str(exc), code="budget_exceeded") from None
    if not new:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if new else 200, _generation(access.generation(caller, str(made.uuid))))


# A create may carry its reference uploads, in base64: its body may be as large as the proxy in
# front lets through (docker/nginx.conf, client_max_body_size), beyond Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE for other bodies.
CREATE_BODY_MAX = 25 * 1024 * 1024


def _body_up_to(limit: int) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An operation whose JSON body may be up to `limit` bytes: read here as HttpRequest.body
    reads it, without the site-wide limit; a larger one is a 413 before it is read."""

    def decorate(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def with_body(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                message = f"The request is over {limit // 1024 // 1024} MB: send large "
                message += "references through POST /references and their uuids here."
                return JsonResponse(body("too_large", message), status=413)
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                request._body = request.read()  # what HttpRequest.body keeps
                request._stream = io.BytesIO(request._body)
            return run(request, *args, **kwargs)

        return with_body

    return decorate


@router.post(
    "/generations",
    response={201: schemas.Generation, 200: schemas.Generation, 413: schemas.Error, **ERRORS},
    auth=GENERATE,
    tags=["generations"],
)
@decorate_view(_body_up_to(CREATE_BODY_MAX))
def create_generation(
    request: HttpRequest,
    response: HttpResponse,
    payload: schemas.GenerationIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),  # type: ignore[type-arg]
) -> Status[dict[str, Any]]:
    """Start a run, through the Generate form's checks and its budget check. With an
    `Idempotency-Key` (any string up to 255 characters, unique per request you mean), a retry
    of the same request answers 200 with the same generation, never a second run or hold (nor
    its uploads kept again); the same key with another request is a 422.

    References by uuid and uploaded in the same request (`reference_uploads`, base64): the run
    uses those by uuid first, then the uploads, each in the order given. Every upload is
    checked as `POST /references` checks one before anything is kept, and kept (as your
    reference: a picture kept before is that one) only once the run passed the form's checks
    and the budget's."""
    caller = _caller(request)
    data = payload.dict()
    key = _key_checked(idempotency_key)
    digest = services.request_digest(path=request.path, payload=data)
    if (replay := _replayed(caller, response, key, digest)) is not None:
        return replay
    rate_limited(
        f"api:generations:{caller.token.pk}",
        limit=settings.DARKROOM_API_GENERATIONS_PER_MINUTE,
        what="generations",
    )
    form = _generate_form(caller, data)
    errors = {} if form.is_valid() else _form_errors(form)
    uploads, upload_errors = _uploads_checked(data)
    if errors or upload_errors:
        raise ApiError(422, "Some values are not valid.", field_errors={**errors, **upload_errors})
    if uploads:
        form = _with_uploads(caller, data, form, uploads)

    def create() -> Generation:
        return generation_create(
            owner=caller.user, params=form.to_params(), project=form.selected_project()
        )

    return _made_once(caller, response, key, digest, create)


def _uploads_checked(
    data: dict[str, Any],
) -> tuple[list[tuple[str, NormalisedImage]], dict[str, list[str]]]:
    """Each of `reference_uploads` decoded, checked and normalised (references/cleaning.py,
    as every upload), nothing kept yet; and what is wrong with each refused one, by its index
    (`reference_uploads.1`). Beyond the room the references by uuid leave, none is even
    decoded (as the Generate page does)."""
    uploads = data["reference_uploads"]
    by_uuid = len(dict.fromkeys(data["references"]))
    room = max(MAX_REFERENCES - by_uuid, 0)
    # Too many by uuid alone is the form's refusal (`references`), not the uploads'.
    if uploads and len(uploads) > room:
        return [], {
            "reference_uploads": [
                f"A generation takes at most {MAX_REFERENCES} references: with "
                f"{by_uuid} by uuid, {room} may be uploaded, not {len(uploads)}."
            ]
        }
    checked, errors = [], {}
    for index, upload in enumerate(uploads):
        # As a page's upload is named: without a NUL or another character that is not printable.
        if not (name := printable_name(upload["filename"])):
            errors[f"reference_uploads.{index}"] = ["A file's name needs a printable character."]
            continue
        try:
            content = base64.b64decode("".join(upload["content_base64"].split()), validate=True)
        except (binascii.Error, ValueError):
            errors[f"reference_uploads.{index}"] = [f"“{name}” is not in base64."]
            continue
        try:
            checked.append((name, normalise(io.BytesIO(content), name=name)))
        except ReferenceRejected as exc:
            errors[f"reference_uploads.{index}"] = [str(exc)]
    return checked, errors


def _with_uploads(
    caller: Caller,
    data: dict[str, Any],
    form: GenerateForm,
    uploads: list[tuple[str, NormalisedImage]],
) -> GenerateForm:
    """The form again with the uploads kept as the caller's references after those by uuid.
    Kept only after the budget check the submit will make (the quote's), so a refused create
    keeps nothing; a refusal after this point (a budget used up in between, too many
    references and elements together) leaves them among the caller's references, one row per
    picture, which a retry finds again rather than keeping twice."""
    found = pricing.quote(form.cleaned_data, person=caller.user, project=form.selected_project())
    if found["refusal"]:
        raise ApiError(422, found["refusal"], code="budget_exceeded")
    kept = [reference_store(owner=caller.user, image=image, name=name) for name, image in uploads]
    data = {**data, "references": [*data["references"], *(r.uuid for r in kept)]}
    form = _generate_form(caller, data)
    if not form.is_valid():
        raise ApiError(422, "Some values are not valid.", field_errors=_form_errors(form))
    return form


@router.post(
    "/generations/{uuid}/retry",
    response={201: schemas.Generation, 200: schemas.Generation, 409: schemas.Error, **ERRORS},
    auth=GENERATE,
    tags=["generations"],
)
def retry_generation(
    request: HttpRequest,
    response: HttpResponse,
    uuid: UUID,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),  # type: ignore[type-arg]
) -> Status[dict[str, Any]]:
    """Run a failed generation again, as the studio's Retry does: its settings through the
    Generate form and its budget check, a new generation with a new quote (the failed one
    stays as it is). 409 unless it failed. An `Idempotency-Key` works as on a create: the
    same retry sent again answers 200 with the generation the first one made."""
    caller = _caller(request)
    source = access.generation(caller, str(uuid))
    key = _key_checked(idempotency_key)
    digest = services.request_digest(path=request.path, payload={})
    if (replay := _replayed(caller, response, key, digest)) is not None:
        return replay
    if run_of(source).state != "failed":
        raise ApiError(409, "Only a failed generation can be retried.", code="not_failed")
    if source.project is None:
        access.personal_allowed(caller)
    else:
        access.project(caller, str(source.project.uuid), generate=True)
    rate_limited(
        f"api:generations:{caller.token.pk}",
        limit=settings.DARKROOM_API_GENERATIONS_PER_MINUTE,
        what="generations",
    )
    projects = access.projects_for_generating(caller)
    form = GenerateForm(
        GenerateForm.initial_from(source),
        projects=projects,
        elements=elements_for_picker(user=caller.user, projects=projects),
        user=caller.user,
    )
    if not form.is_valid():
        raise ApiError(422, "It cannot run again as it was.", field_errors=_form_errors(form))

    def create() -> Generation:
        return generation_create(
            owner=caller.user, params=form.to_params(), project=form.selected_project()
        )

    return _made_once(caller, response, key, digest, create)


@router.post(
    "/generations/{uuid}/cancel",
    response={200: schemas.Generation, 409: schemas.Error, **ERRORS},
    auth=GENERATE,
    tags=["generations"],
)
def cancel_generation(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    """Cancel your own generation while it is still queued: it fails as cancelled and its hold
    is freed. 409 once it was sent to WaveSpeed (or finished): it runs to its end."""
    caller = _caller(request)
    found = access.generation(caller, str(uuid))
    if found.owner_id != caller.user.pk:
        raise ApiError(403, "Only the person who started a generation can cancel it.")
    if not generation_cancel(generation=found, by=caller.user):
        raise ApiError(
            409, "It was already sent to WaveSpeed: it cannot be cancelled.", code="not_queued"
        )
    return _generation(access.generation(caller, str(uuid)))


def _key_reused() -> ApiError:
    return ApiError(
        422,
        "This Idempotency-Key was used for another request: use a new key for a new request.",
        code="idempotency_key_reused",
    )


def _generate_form(caller: Caller, data: dict[str, Any]) -> GenerateForm:
    """The Generate page's form, bound to the request's values, offering what the page offers
    (the projects the person may generate in, inside the token's project)."""
    if data["project"] is None:
        access.personal_allowed(caller)
    else:
        access.project(caller, str(data["project"]), generate=True)
    projects = access.projects_for_generating(caller)
    bound = {
        "project": str(data["project"] or ""),
        "prompt": data["prompt"],
        "prompt_original": data["prompt_original"],
        "aspect_ratio": data["aspect_ratio"],
        "resolution": data["resolution"],
        "result_type": data["result_type"],
        "num_images": "" if data["num_images"] is None else str(data["num_images"]),
        "references": [str(key) for key in data["references"]],
        "elements": [str(key) for key in data["elements"]],
    }
    return GenerateForm(
        bound,
        projects=projects,
        elements=elements_for_picker(user=caller.user, projects=projects),
        user=caller.user,
    )


@router.get(
    "/generations/{uuid}",
    response={200: schemas.Generation, **ERRORS},
    auth=READ,
    tags=["generations"],
)
def generation(request: HttpRequest, uuid: UUID) -> dict[str, Any]:
    """One generation you may see: its status and phase, outputs, cost and the request sent."""
    return _generation(access.generation(_caller(request), str(uuid)))


class RunFilters(GalleryFilters):
    """The gallery page's filters that are a run's, under the same names, and its status."""

    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_MAX)
    status: str | None = Field(None, description=f"One of: {', '.join(RunStatus.values)}.")
    starred: str | None = Field(None, description=f"Refused with a 422. {IMAGE_ONLY}")
    nsfw: str | None = Field(None, description=f"Refused with a 422. {IMAGE_ONLY}")


@router.get(
    "/generations",
    response={200: schemas.GenerationPage, **ERRORS},
    auth=READ,
    tags=["generations"],
)
def generations(request: HttpRequest, filters: Query[RunFilters]) -> dict[str, Any]:
    """The generations you may see, newest first, with the gallery's filters that are a run's
    (as `GET /images` reads them: its prompt, project, author, day, ratio and resolution) and
    its status, a page at a time: pass `next_cursor` back as `cursor` (a keyset: the same
    queries at any depth). A token limited to a project sees that project's runs only.
    `starred` and `nsfw` are an image's and a run's images may differ in them: 422."""
    caller = _caller(request)
    found = filter_form(caller, filters, RunFilterForm)
    data = found.form.cleaned_data
    runs = generations_listed(
        user=caller.user,
        filters=found.form.filters(),
        status=data["status"],
        after=data["after"],
        project_ids=found.project_ids,
    )
    page = list(access.with_details(runs, caller, found.project_ids)[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [_generation(g) for g in page],
        "next_cursor": encode_cursor(page[-1].created_at, page[-1].pk) if more else None,
    }
