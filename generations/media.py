"""Answering with a stored file, once the caller has checked the viewer may see it."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse


def file_response(
    name: str, content_type: str, *, download: bool = False, filename: str | None = None
) -> FileResponse:
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type=content_type,
        as_attachment=download,
        filename=filename,
    )
    # Files never change under a name; only this browser may keep them.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
