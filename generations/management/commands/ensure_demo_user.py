"""The demo login `make run` offers: made once, on a new embedded database, then left alone.

It is an admin whose password is published (README, `DARKROOM_DEMO_PASSWORD`), so it is made
only where nobody else's data can be: the embedded SQLite database in var/ (no DATABASE_URL),
and only while that database has no account at all. Once it exists it is never touched again:
a password changed since stays changed. Any other database gets `createsuperuser`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction

CREATE_ADMIN = (
    "Create an admin with `manage.py createsuperuser` "
    "(`make createsuperuser` reads .env as `make run` does)."
)


class Command(BaseCommand):
    help = (
        "Create the demo login (an admin) once, on a new embedded database; never change it "
        "afterwards. Other databases get no demo login: use createsuperuser."
    )

    def handle(self, *args: object, **options: object) -> None:
        username, password = settings.DEMO_USERNAME, settings.DEMO_PASSWORD
        if not settings.EMBEDDED_DATABASE:
            self.stdout.write(f"No demo login: DATABASE_URL names the database. {CREATE_ADMIN}")
            return
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if User.objects.exists():
                self.stdout.write(
                    "No demo login: this database already has accounts (the demo login is made "
                    f"only on a new one). Sign in with yours, or: {CREATE_ADMIN}"
                )
                return
            try:
                with transaction.atomic():
                    User.objects.create_superuser(username=username, email="", password=password)
            except IntegrityError:  # another `make run` made it a moment ago
                user = User.objects.get(username=username)
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo login (created): username '{username}', password '{password}'. "
                        "It is an admin: change its password once you are in; `make run` "
                        "never resets it."
                    )
                )
                return
        # No setter: checking must not rehash (and so rewrite) the stored password.
        if check_password(password, user.password):
            self.stdout.write(
                self.style.WARNING(
                    f"Demo login: username '{username}', password '{password}' (still the "
                    "published one: change it once you are in)."
                )
            )
        else:
            self.stdout.write(
                f"Demo login: username '{username}' (its password was changed; left as it is)."
            )
