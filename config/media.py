"""Answering with a stored file, once the caller has checked the viewer may see it.

How the bytes travel depends on the deployment; none of the ways is a public URL:

- local files (development): Django streams them;
- local files behind nginx (MEDIA_ACCEL_REDIRECT_PREFIX set, e.g. `/_protected_media/`): an
  empty answer whose `X-Accel-Redirect` header makes nginx send the file from an `internal`
  location (docker/nginx.conf), so large files never pass through Python;
- S3-compatible storage: a redirect to a signed URL that expires in minutes.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

logger = logging.getLogger(__name__)

# Files never change under a name; only this browser may keep them (config/middleware.py lets
# this through for signed-in people: the gallery would fetch every thumbnail again on each
# visit, and a file already seen is already the viewer's).
CACHE_CONTROL = "private, max-age=31536000, immutable"
# How long a signed S3 URL works: long enough to start the download, short enough to be useless
# once shared.
SIGNED_URL_SECONDS = 5 * 60


def file_response(
    name: str, content_type: str, *, download: bool = False, filename: str | None = None
) -> HttpResponseBase:
    _check_name(name)
    disposition = content_disposition_header(download, filename or posixpath.basename(name))
    if storage_is_s3():
        return _signed_redirect(name, content_type, disposition)
    prefix = getattr(settings, "MEDIA_ACCEL_REDIRECT_PREFIX", "")
    if prefix and isinstance(default_storage, FileSystemStorage):
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix + quote(name)
        response["Content-Disposition"] = disposition
    else:
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type=content_type,
            as_attachment=download,
            filename=filename or posixpath.basename(name),
        )
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response.keeps_cache_control = True  # type: ignore[attr-defined]
    return response


def storage_is_s3() -> bool:
    """Whether the files live in django-storages' S3 backend (settings/base.py always asks it for
    signed URLs) rather than on a local disk."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:
        return False
    return isinstance(default_storage, S3Storage)


def read_chunks(name: str, chunk_bytes: int) -> Iterator[bytes]:
    """A stored file's bytes in chunks, opened only when the first is asked for and closed
    after the last (a generator)."""
    if storage_is_s3():
        # Past django-storages' public API on purpose: its S3File would first download the
        # whole object into a temporary file (held in memory: AWS_S3_MAX_MEMORY_SIZE is 0) after
        # a HEAD request; the boto3 object of the same key streams the body in one GET.
        from storages.utils import clean_name

        key = default_storage._normalize_name(clean_name(name))
        body = default_storage.bucket.Object(key).get()["Body"]
        try:
            yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()
        return
    with default_storage.open(name, "rb") as file:
        yield from file.chunks(chunk_bytes)


def _signed_redirect(name: str, content_type: str, disposition: str) -> HttpResponseRedirect:
    """django-storages' S3 with signed URLs (base.py always asks for them)."""
    url = default_storage.url(
        name,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        },
        expire=SIGNED_URL_SECONDS,
    )
    response = HttpResponseRedirect(url)
    # Never reused: each view of the file comes back here, through the rights check.
    response["Cache-Control"] = "private, no-store"
    return response


def _check_name(name: str) -> None:
    """Refuse a name that is not a plain relative path inside the storage.

    Names come from our own database, but the X-Accel-Redirect path is not checked by the storage
    (nginx rejects `..` too; this makes the refusal ours, before anything is sent).
    """
    parts = name.split("/")
    if "\\" in name or "\0" in name or any(part in {"", ".", ".."} for part in parts):
        raise SuspiciousFileOperation(f"Refusing to serve the stored name {name!r}.")


def delete_files(names: list[str]) -> None:
    """Remove stored files, going on past any that fail: a file left behind is only wasted
    space (logged), and must not stop the others from being removed or hide the error that
    brought us here."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete %s from the storage", name)
