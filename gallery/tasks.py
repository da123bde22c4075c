"""The gallery's scheduled work (config.settings.base.CELERY_BEAT_SCHEDULE): thin shells over
the services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .services.sharing import share_links_expire
from .services.trash import trash_purge


@shared_task(ignore_result=True)
def purge_trash() -> int:
    return trash_purge()


@shared_task(ignore_result=True)
def expire_share_links() -> int:
    return share_links_expire()
