from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create (or reset) the demo login used by `make run`, and print it."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=settings.DEMO_USERNAME)
        user.set_password(settings.DEMO_PASSWORD)
        # The demo person also runs the place: they can open the admin.
        user.is_staff = True
        user.is_superuser = True
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username '{settings.DEMO_USERNAME}', "
                f"password '{settings.DEMO_PASSWORD}'" + (" (created)" if created else "")
            )
        )
