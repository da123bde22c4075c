"""Saving a completed generation's outputs: download, verify, store; thumbnails come after.

Output URLs expire (WaveSpeed deletes outputs after 7 days), so this runs as soon as a
prediction completes. Each output is streamed to a temporary file, checked to be a real image
without decoding its pixels (`imaging.images.verify_image`), stored byte for byte through the
storage API and recorded: once every output is, the generation is done and its images are
shown (their originals). Their thumbnails and placeholders are made by a task of their own on
the `thumbnails` queue (`thumbnailing.py`), so the decode and encodes (~80 ms of CPU for a 1k
PNG, against ~1 ms here) never stand between a finished prediction and its images. Outputs
already saved are skipped, so a rerun after a crash picks up where it stopped.

The images are paid for by then, so a save gives up only when it must: a download that fails
for a passing reason (no connection, a timeout, a 5xx) is retried with a backoff that grows to
an hour, for as long as the link lives; only two "gone" answers in a row (403/404/410, or a
file that is not an image) end it. Storage names are recorded on the generation before any
byte is written, so files a killed worker leaves behind are found and deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.media import delete_files
from imaging.images import NotAnImage, verify_image
from wavespeed import timing
from wavespeed.downloads import DownloadError, download_to_tempfile
from wavespeed.runner import update_returning

from .. import scheduling, state
from ..models import ErrorKind, Generation, OutputImage, Renditions, Status, Thumbnail

logger = logging.getLogger(__name__)

# "Gone" answers in a row (403/404/410, not an image) that end a save.
MAX_GONE_ANSWERS = 2
SAVE_RETRY_BASE_SECONDS = 3.0
# A save whose worker died is taken over after this long without a heartbeat. The longest
# stretch without one is a single download (DOWNLOAD_DEADLINE_SECONDS) plus its processing.
DOWNLOAD_DEADLINE_SECONDS = 60.0
SAVE_LEASE = timedelta(seconds=90)
# A temporary download older than this belongs to a worker that died mid-download (a live
# download finishes within DOWNLOAD_DEADLINE_SECONDS plus one read timeout).
STALE_DOWNLOAD_SECONDS = 5 * 60


def generation_save_outputs(*, generation_id: int) -> None:
    now = timezone.now()
    generation = update_returning(
        Generation.objects.filter(pk=generation_id, status=Status.SAVING).filter(
            Q(save_claimed_at__isnull=True) | Q(save_claimed_at__lt=now - SAVE_LEASE)
        ),
        save_claimed_at=now,
        save_attempts=F("save_attempts") + 1,
        updated_at=now,
    )
    if generation is None:
        return
    discard_pending_files(generation)
    _discard_downloads_of(generation.pk)
    remove_stale_downloads()
    # Images are stored only under a claim: on the first one nothing of this run is saved yet.
    saved = (
        set(generation.images.values_list("index", flat=True))
        if generation.save_attempts > 1
        else set()
    )
    total = len(generation.output_urls)
    last = max((i for i in range(total) if i not in saved), default=None)
    finished = False
    for index, url in enumerate(generation.output_urls):
        if index in saved:
            continue
        try:
            image = save_output(generation, index, url, finish=index == last)
        except (DownloadError, NotAnImage) as exc:
            _save_failed(generation, index, total, exc)
            return
        if index == last:
            finished = image is not None
            break
        # Heartbeat: a long save of nine 4k images is not mistaken for a dead one.
        Generation.objects.filter(pk=generation_id).update(
            save_claimed_at=timezone.now(), save_gone=0
        )
        generation.save_gone = 0
    if not finished:  # nothing was left to save, or another run stored the last one
        _finish(generation_id)


def _finish(generation_id: int) -> bool:
    return state.move(
        generation_id,
        Status.DONE,
        source=Status.SAVING,
        save_claimed_at=None,
        save_gone=0,
        pending_files=[],
        error_kind="",
        error_message="",
    )


def save_output(
    generation: Generation, index: int, url: str, *, finish: bool = False
) -> OutputImage | None:
    """Step 1 of an output's save: download, verify without decoding, store the original and
    make its row, so it is shown at once. Its thumbnails and placeholder are made after the
    commit by a task of their own (`thumbnailing.image_make_renditions`). With `finish` (the
    run's last output) the generation is done in the same transaction as the image's row."""
    downloaded = download_to_tempfile(
        url,
        client=download_client(),
        dest_dir=_temp_dir(),
        prefix=_download_prefix(generation.pk),
        max_bytes=settings.OUTPUT_MAX_BYTES,
        allowed_hosts=settings.WAVESPEED_OUTPUT_HOSTS,
        trusted_origin=_origin(settings.WAVESPEED_BASE_URL),
        deadline_seconds=DOWNLOAD_DEADLINE_SECONDS,
    )
    stored: list[str] = []
    try:
        with open(downloaded.path, "rb") as fp:
            verified = verify_image(fp)
            extension = {"JPEG": "jpg"}.get(verified.format, verified.format.lower())
            original_name = OutputImage.file.field.generate_filename(None, f"output.{extension}")
            # Recorded before the first byte is written: a kill from here on leaves a file the
            # next run (or the sweeper) can find.
            _set_pending(generation.pk, [original_name])
            fp.seek(0)
            stored.append(_store(original_name, File(fp), generation.pk))
        nsfw_flags = generation.nsfw_flags or []
        with transaction.atomic():
            image = OutputImage.objects.create(
                generation=generation,
                owner_id=generation.owner_id,
                project_id=generation.project_id,
                index=index,
                file=stored[0],
                width=verified.width,
                height=verified.height,
                bytes=downloaded.size,
                format=verified.format,
                content_type=verified.content_type,
                sha256=downloaded.sha256,
                nsfw=bool(nsfw_flags[index]) if index < len(nsfw_flags) else False,
                renditions=Renditions.PENDING,
            )
            if not (finish and _finish(generation.pk)):
                Generation.objects.filter(pk=generation.pk).update(pending_files=[])
            scheduling.schedule_renditions(image.pk)  # once this commits
        return image
    except IntegrityError:
        # Another run saved this output first: keep theirs, drop our copy.
        delete_files(stored)
        _set_pending(generation.pk, [])
        return None
    except BaseException:
        delete_files(stored)
        _set_pending(generation.pk, [])
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(downloaded.path)


def _set_pending(generation_id: int, names: list[str]) -> None:
    Generation.objects.filter(pk=generation_id).update(pending_files=names)


def _store(name: str, content: File, generation_id: int) -> str:
    """Save `content` under the recorded `name` (names are random, so the storage keeps it)."""
    stored = default_storage.save(name, content)
    if stored != name:  # the storage chose another name: record it too
        pending = Generation.objects.values_list("pending_files", flat=True).get(pk=generation_id)
        _set_pending(generation_id, [*pending, stored])
    return stored


def discard_pending_files(generation: Generation) -> int:
    """Delete the files an interrupted save wrote but no row uses, and forget their names."""
    names = list(generation.pending_files or [])
    if not names:
        return 0
    orphans = delete_unrecorded(names)
    Generation.objects.filter(pk=generation.pk).update(pending_files=[])
    generation.pending_files = []
    if orphans:
        logger.info("Generation %s: removed %s orphan file(s)", generation.pk, orphans)
    return orphans


def delete_unrecorded(names: list[str]) -> int:
    """Delete those of `names` (recorded before a run wrote them) that no image or thumbnail
    row uses: what a killed save or thumbnails run left behind. How many were orphans."""
    used = set(OutputImage.objects.filter(file__in=names).values_list("file", flat=True)) | set(
        Thumbnail.objects.filter(file__in=names).values_list("file", flat=True)
    )
    orphans = [name for name in names if name not in used]
    delete_files([name for name in orphans if default_storage.exists(name)])
    return len(orphans)


def _download_prefix(generation_id: int) -> str:
    return f"download-g{generation_id}-"


def _discard_downloads_of(generation_id: int) -> None:
    """A new claim on a save proves the run before it is gone: its temporary download too."""
    for path in _temp_dir().glob(f"{_download_prefix(generation_id)}*.part"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_stale_downloads() -> int:
    """Delete temporary downloads that a worker killed mid-download left behind."""
    cutoff = time.time() - STALE_DOWNLOAD_SECONDS
    removed = 0
    with os.scandir(_temp_dir()) as entries:
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # another worker removed it first
    return removed


def _save_failed(
    generation: Generation, index: int, total: int, exc: DownloadError | NotAnImage
) -> None:
    attempts = generation.save_attempts
    gone = isinstance(exc, NotAnImage) or exc.permanent
    gone_answers = generation.save_gone + 1 if gone else 0
    what = f"image {index + 1} of {total}"
    now = timezone.now()
    link_ends = (generation.completed_at or now) + timedelta(
        seconds=settings.OUTPUT_RETENTION_SECONDS
    )
    if gone_answers >= MAX_GONE_ANSWERS or now >= link_ends:
        # The provider did its work (and billed it): the cost stands, the generation is kept.
        if isinstance(exc, DownloadError) and exc.status_code in (403, 404, 410):
            reason = "its link has expired or was refused"
        elif not gone:
            reason = f"WaveSpeed's files stayed unreachable until their links expired ({exc})"
        else:
            reason = str(exc).rstrip(".")
        state.fail(
            generation.pk,
            kind=ErrorKind.DOWNLOAD,
            message=f"Could not download {what} from WaveSpeed after {attempts} tries: "
            f"{reason}. The images it could save are kept.",
            code=getattr(exc, "status_code", None),
        )
        return
    if gone:
        delay = timing.jittered(SAVE_RETRY_BASE_SECONDS * 2)
        message = f"Saving: WaveSpeed says {what} is gone ({exc}); checking once more."
    else:
        delay = timing.backoff(
            attempts, base=SAVE_RETRY_BASE_SECONDS, cap=settings.SAVE_RETRY_CAP_SECONDS
        )
        message = (
            f"Saving: WaveSpeed's files are unreachable, retrying (next try in "
            f"{_duration(delay)}; the links work until {link_ends:%d %b %H:%M} UTC). "
            f"Last error on {what}: {exc}"
        )
    delay = min(delay, (link_ends - now).total_seconds())
    logger.warning("Saving %s of generation %s failed: %s", what, generation.pk, exc)
    with transaction.atomic():
        Generation.objects.filter(pk=generation.pk, status=Status.SAVING).update(
            save_claimed_at=None,
            save_gone=gone_answers,
            next_step_at=timing.due_at(delay),
            error_kind=ErrorKind.DOWNLOAD,
            error_message=message,
        )
        if delay <= timing.MAX_COUNTDOWN_SECONDS:
            scheduling.schedule_save(generation.pk, delay)
        # Longer waits queue nothing: the sweeper resumes the save once it is due.


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def generation_retry_saving(*, generation_id: int, by: AbstractBaseUser | None = None) -> bool:
    """Staff: save a generation's outputs again now, one that is waiting out a backoff or that
    failed on its downloads while the links still live. True if a save was queued."""
    with transaction.atomic():
        reopened = state.reopen_for_saving(generation_id, by=by)
        if reopened:
            scheduling.schedule_save(generation_id)
    return reopened


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
                # Between chunks; with DOWNLOAD_DEADLINE_SECONDS it bounds a save's silence.
                timeout=httpx.Timeout(20.0, connect=settings.WAVESPEED_CONNECT_TIMEOUT),
                follow_redirects=False,
                headers={"User-Agent": "darkroom/0.1"},
            )
            _download_clients[os.getpid()] = client
        return client
