"""Getting a reference image to WaveSpeed: a URL it can fetch, uploaded once per content.

WaveSpeed deletes uploads after 7 days (docs/wavespeed.md), so an upload is reused only
while it is younger than WAVESPEED_UPLOAD_REUSE_DAYS (6 by default: a day of margin for a
generation that waits in the provider's queue before it fetches its references).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from ..models import ProviderUpload, ReferenceImage
from ..wavespeed import get_client


def reference_provider_url(*, reference: ReferenceImage) -> str:
    """The provider's URL for `reference`'s bytes, uploading them only when needed.

    Raises `WaveSpeedError` (with `permanent`) when the upload fails, and `OSError` when the
    stored file cannot be read.
    """
    fresh_since = timezone.now() - timedelta(days=settings.WAVESPEED_UPLOAD_REUSE_DAYS)
    upload = ProviderUpload.objects.filter(
        sha256=reference.sha256, uploaded_at__gt=fresh_since
    ).first()
    if upload is not None:
        return upload.download_url
    with default_storage.open(reference.file.name, "rb") as fp:
        content = fp.read()
    extension = "jpg" if reference.format == "JPEG" else reference.format.lower()
    # Named by its hash: the person's own file name never leaves the server.
    media = get_client().upload_binary(
        f"{reference.sha256[:32]}.{extension}", content, reference.content_type
    )
    # Two submits may upload the same bytes at once: the last answer wins, both URLs work.
    ProviderUpload.objects.update_or_create(
        sha256=reference.sha256,
        defaults={
            "download_url": media.download_url,
            "bytes": len(content),
            "uploaded_at": timezone.now(),
        },
    )
    return media.download_url
