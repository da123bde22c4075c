"""One active account per e-mail address (issue 12): a person at their personal budget's cap
made a second account with the same address and spent on.

auth.User is Django's model, so the rule cannot be declared in its Meta. It is created here
through the schema editor, as Django writes any UniqueConstraint (a unique index on
lower(email) over active accounts with an address; PostgreSQL and SQLite alike), and is not part
of the migration state. `accounts.selectors.email_in_use` checks the same rule in the forms
and services, with a message; `tests/accounts/test_emails.py` checks that the index is there.
The project uses Django's own auth.User (AUTH_USER_MODEL is not swapped).

Existing duplicates are resolved first, without locking anyone out: the earliest-joined active
account keeps the address, the later ones' address is emptied (they still log in; staff can give
them their own address in the admin), and each change is printed.
"""

import sys

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Q
from django.db.models.functions import Lower

ONE_ACTIVE_ACCOUNT_PER_EMAIL = models.UniqueConstraint(
    Lower("email"),
    condition=Q(is_active=True) & ~Q(email=""),
    name="auth_user_one_active_account_per_email",
)


def _users(apps):
    return apps.get_model(settings.AUTH_USER_MODEL)


def empty_later_duplicates(apps, schema_editor):
    users = _users(apps).objects.using(schema_editor.connection.alias)
    with_address = (
        users.filter(is_active=True)
        .exclude(email="")
        .annotate(address=Lower("email"))
    )
    shared = (
        with_address.values("address")
        .annotate(accounts=Count("pk"))
        .filter(accounts__gt=1)
        .values_list("address", flat=True)
    )
    for address in list(shared):
        keeper, *later = with_address.filter(address=address).order_by("date_joined", "pk")
        for user in later:
            sys.stdout.write(
                f"\n  {user.username}: e-mail {user.email!r} emptied "
                f"({keeper.username} keeps it: one active account per address)"
            )
        users.filter(pk__in=[user.pk for user in later]).update(email="")


def add_index(apps, schema_editor):
    schema_editor.add_constraint(_users(apps), ONE_ACTIVE_ACCOUNT_PER_EMAIL)


def remove_index(apps, schema_editor):
    schema_editor.remove_constraint(_users(apps), ONE_ACTIVE_ACCOUNT_PER_EMAIL)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        # After auth's last migration of the user table: on SQLite, altering a column rebuilds
        # the table from the migration state, which does not hold this index. A later Django
        # that alters auth_user again would drop it there (tests/accounts/test_emails.py would then fail).
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(empty_later_duplicates, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(add_index, remove_index, elidable=False),
    ]
