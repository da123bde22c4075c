from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun

from . import fs_broker  # noqa: F401 - makes `filesystem://` write messages atomically

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("darkroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def _close_old_connections(**kwargs: object) -> None:
    # Celery keeps the worker's database connections for CELERY_DB_REUSE_MAX tasks; like a web
    # request, drop those past CONN_MAX_AGE or broken after each task.
    from django.db import close_old_connections

    close_old_connections()
