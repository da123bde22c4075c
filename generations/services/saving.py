"""Saving a completed generation's outputs: download, verify, store, thumbnail.

Output URLs expire (WaveSpeed deletes outputs after 7 days), so this runs as soon as a
prediction completes. Each output is streamed to a temporary file, checked to be a real image,
stored byte for byte through the storage API, and thumbnailed from a single decode. Outputs
already saved are skipped, so a rerun after a crash picks up where it stopped.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import scheduling, state
from ..downloads import DownloadError, download_to_tempfile
from ..images import NotAnImage, process_image
from ..models import ErrorKind, Generation, OutputImage, Status, Thumbnail

logger = logging.getLogger(__name__)

MAX_SAVE_ATTEMPTS = 5
# An expired URL (403/404/410) will not come back: fewer tries.
MAX_SAVE_ATTEMPTS_PERMANENT = 2
SAVE_RETRY_BASE_SECONDS = 3.0
SAVE_RETRY_CAP_SECONDS = 120.0
# A save whose worker died is taken over after this long without progress.
SAVE_LEASE = timedelta(minutes=3)


def generation_save_outputs(*, generation_id: int) -> None:
    now = timezone.now()
    claimed = (
        Generation.objects.filter(pk=generation_id, status=Status.SAVING)
        .filter(Q(save_claimed_at__isnull=True) | Q(save_claimed_at__lt=now - SAVE_LEASE))
        .update(save_claimed_at=now, save_attempts=F("save_attempts") + 1, updated_at=now)
    )
    if not claimed:
        return
    generation = Generation.objects.get(pk=generation_id)
    saved = set(generation.images.values_list("index", flat=True))
    total = len(generation.output_urls)
    for index, url in enumerate(generation.output_urls):
        if index in saved:
            continue
        try:
            save_output(generation, index, url)
        except (DownloadError, NotAnImage) as exc:
            _save_failed(generation, index, total, exc)
            return
        # Heartbeat: a long save of nine 4k images is not mistaken for a dead one.
        Generation.objects.filter(pk=generation_id).update(save_claimed_at=timezone.now())
    state.move(
        generation_id,
        Status.DONE,
        source=Status.SAVING,
        save_claimed_at=None,
        error_kind="",
        error_message="",
    )


def save_output(generation: Generation, index: int, url: str) -> OutputImage | None:
    downloaded = download_to_tempfile(
        url,
        client=download_client(),
        dest_dir=_temp_dir(),
        max_bytes=settings.OUTPUT_MAX_BYTES,
        allowed_hosts=settings.WAVESPEED_OUTPUT_HOSTS,
        trusted_origin=_origin(settings.WAVESPEED_BASE_URL),
    )
    stored: list[str] = []
    try:
        with open(downloaded.path, "rb") as fp:
            processed = process_image(fp)
            fp.seek(0)
            extension = {"JPEG": "jpg"}.get(processed.format, processed.format.lower())
            original_name = default_storage.save(
                OutputImage.file.field.generate_filename(None, f"output.{extension}"), File(fp)
            )
        stored.append(original_name)
        thumbnails = []
        for thumb in processed.thumbnails:
            name = default_storage.save(
                Thumbnail.file.field.generate_filename(None, "thumb.webp"), ContentFile(thumb.data)
            )
            stored.append(name)
            thumbnails.append((thumb, name))
        nsfw_flags = generation.nsfw_flags or []
        with transaction.atomic():
            image = OutputImage.objects.create(
                generation=generation,
                owner_id=generation.owner_id,
                project_id=generation.project_id,
                index=index,
                file=original_name,
                width=processed.width,
                height=processed.height,
                bytes=downloaded.size,
                format=processed.format,
                content_type=processed.content_type,
                sha256=downloaded.sha256,
                nsfw=bool(nsfw_flags[index]) if index < len(nsfw_flags) else False,
                placeholder=processed.placeholder,
            )
            Thumbnail.objects.bulk_create(
                Thumbnail(
                    image=image,
                    size=thumb.size,
                    file=name,
                    width=thumb.width,
                    height=thumb.height,
                    bytes=len(thumb.data),
                )
                for thumb, name in thumbnails
            )
        return image
    except IntegrityError:
        # Another run saved this output first: keep theirs, drop our copy.
        _delete_files(stored)
        return None
    except BaseException:
        _delete_files(stored)
        raise
    finally:
        os.unlink(downloaded.path)


def _save_failed(
    generation: Generation, index: int, total: int, exc: DownloadError | NotAnImage
) -> None:
    attempts = generation.save_attempts
    permanent = isinstance(exc, NotAnImage) or exc.permanent
    limit = MAX_SAVE_ATTEMPTS_PERMANENT if permanent else MAX_SAVE_ATTEMPTS
    what = f"image {index + 1} of {total}"
    if attempts >= limit:
        # The provider did its work (and billed it): the cost stands, the generation is kept.
        reason = (
            "its link has expired or was refused"
            if isinstance(exc, DownloadError) and exc.status_code in (403, 404, 410)
            else str(exc).rstrip(".")
        )
        state.fail(
            generation.pk,
            kind=ErrorKind.DOWNLOAD,
            message=f"Could not download {what} from WaveSpeed after {attempts} tries: "
            f"{reason}. The images it could save are kept.",
            code=getattr(exc, "status_code", None),
        )
        return
    delay = scheduling.backoff(attempts, base=SAVE_RETRY_BASE_SECONDS, cap=SAVE_RETRY_CAP_SECONDS)
    logger.warning("Saving %s of generation %s failed: %s", what, generation.pk, exc)
    with transaction.atomic():
        Generation.objects.filter(pk=generation.pk, status=Status.SAVING).update(
            save_claimed_at=None,
            next_step_at=scheduling.due_at(delay),
            error_kind=ErrorKind.DOWNLOAD,
            error_message=f"Retrying the download of {what}: {exc}",
        )
        scheduling.schedule_save(generation.pk, delay)


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("Could not delete %s", name)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _temp_dir() -> Path:
    path = Path(settings.VAR_DIR) / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


_lock = threading.Lock()
_download_clients: dict[int, httpx.Client] = {}


def download_client() -> httpx.Client:
    """A pooled client for output files: no Authorization header ever goes to the CDN."""
    with _lock:
        client = _download_clients.get(os.getpid())
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(60.0, connect=settings.WAVESPEED_CONNECT_TIMEOUT),
                follow_redirects=False,
                headers={"User-Agent": "darkroom/0.1"},
            )
            _download_clients[os.getpid()] = client
        return client
