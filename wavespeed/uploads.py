"""Getting bytes to WaveSpeed as a URL it can fetch, uploaded once per content.

WaveSpeed deletes uploads after 7 days (docs/wavespeed.md), so an upload is reused only
while it is younger than WAVESPEED_UPLOAD_REUSE_DAYS (6 by default: a day of margin for a
generation that waits in the provider's queue before it fetches its references).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .client import get_client
from .models import ProviderUpload


def provider_url_for(
    *, sha256: str, extension: str, content_type: str, read: Callable[[], bytes]
) -> str:
    """The provider's URL for the bytes whose hash is `sha256`, uploading them (`read()`) only
    when no fresh upload of them is known.

    The upload is named by its hash: a person's own file name never leaves the server.
    Raises `WaveSpeedError` (with `permanent`) when the upload fails, and whatever `read`
    raises (`OSError` for a stored file that cannot be read).
    """
    fresh_since = timezone.now() - timedelta(days=settings.WAVESPEED_UPLOAD_REUSE_DAYS)
    upload = ProviderUpload.objects.filter(sha256=sha256, uploaded_at__gt=fresh_since).first()
    if upload is not None:
        return upload.download_url
    content = read()
    media = get_client().upload_binary(f"{sha256[:32]}.{extension}", content, content_type)
    # Two submits may upload the same bytes at once: the last answer wins, both URLs work.
    ProviderUpload.objects.update_or_create(
        sha256=sha256,
        defaults={
            "download_url": media.download_url,
            "bytes": len(content),
            "uploaded_at": timezone.now(),
        },
    )
    return media.download_url
