from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Logins and lockouts are announced only through signals (Django's and django-axes's).
        from . import receivers  # noqa: F401
