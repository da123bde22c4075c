"""/api/v1/references: upload reference images and list yours, through the Generate page's own
path (generations/references.py: references_from_uploads, which checks and normalises each file
with references/cleaning.py and keeps it with references/services.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from config.cursors import InvalidCursor, decode_cursor, encode_cursor
from generations.references import references_from_uploads
from references.cleaning import MAX_REFERENCES
from references.models import ReferenceImage

from . import schemas
from .auth import GENERATE, READ, Caller
from .errors import ApiError

router = Router(tags=["references"])

ERRORS: dict[int, Any] = {code: schemas.Error for code in (400, 401, 403, 404, 422, 429)}
PAGE_SIZE = 50
PAGE_MAX = 100


def _caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _reference(reference: ReferenceImage) -> dict[str, Any]:
    return {
        "uuid": reference.uuid,
        "name": reference.original_name,
        "width": reference.width,
        "height": reference.height,
        "bytes": reference.bytes,
        "content_type": reference.content_type,
        "sha256": reference.sha256,
        "created_at": reference.created_at,
    }


@router.post("/references", response={201: schemas.ReferenceUpload, **ERRORS}, auth=GENERATE)
def upload_references(
    request: HttpRequest,
    files: File[list[UploadedFile]],
) -> Status[dict[str, Any]]:
    caller = _caller(request)
    kept, errors = references_from_uploads(owner=caller.user, files=files, room=MAX_REFERENCES)
    if not kept:
        raise ApiError(422, "No file was kept.", field_errors={"files": errors})
    return Status(201, {"items": [_reference(r) for r in kept], "errors": errors})


class ReferenceFilters(Schema):
    cursor: str | None = None
    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_MAX)


@router.get("/references", response={200: schemas.ReferencePage, **ERRORS}, auth=READ)
def references(request: HttpRequest, filters: Query[ReferenceFilters]) -> dict[str, Any]:
    """Your references, newest first, a page at a time (a keyset cursor)."""
    caller = _caller(request)
    found = ReferenceImage.objects.filter(owner_id=caller.user.pk)
    if filters.cursor:
        try:
            after = decode_cursor(filters.cursor)
        except InvalidCursor:
            raise ApiError(
                422, "This cursor is broken.", field_errors={"cursor": ["Not a cursor we gave."]}
            ) from None
        found = found.filter(created_at__lte=after.created_at).exclude(
            created_at=after.created_at, pk__gte=after.pk
        )
    page = list(found.order_by("-created_at", "-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    last = page[-1] if more else None
    return {
        "items": [_reference(r) for r in page],
        "next_cursor": encode_cursor(last.created_at, last.pk) if last else None,
    }
