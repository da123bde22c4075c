from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, with Darkroom's site (config.admin.AdminSite) as `admin.site`; and
    the config package's own system checks (config/checks.py), config being no app of its own."""

    default_site = "config.admin.AdminSite"

    def ready(self) -> None:
        super().ready()
        from . import checks  # noqa: F401  (registers them)
