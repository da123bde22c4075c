"""The image page's place in the gallery: previous, next and "n / N", each a bounded query."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gallery import selectors
from gallery.selectors import image_neighbours
from projects.models import Role
from tests.factories import add_member, make_image, make_project

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


def gallery_of(user, outsider, django_user_model, count: int = 6):
    """`count` images visible to `user` (theirs and a teammate's in a shared project, two with
    the same creation time), newest first; plus an outsider's and a trashed one, never counted."""
    grace = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    harbour = make_project(user, "Harbour")
    add_member(harbour, grace, Role.EDITOR)
    made = []
    for i in range(count):
        owner, project = (grace, harbour) if i % 3 == 1 else (user, None)
        at = T0 + timedelta(minutes=min(i, count - 2))  # the newest two share a time
        made.append(make_image(owner, project=project, created_at=at))
        make_image(outsider, created_at=at + timedelta(seconds=1))
    trashed = make_image(user, created_at=T0 + timedelta(minutes=2, seconds=30))
    trashed.deleted_at = timezone.now()
    trashed.save(update_fields=["deleted_at"])
    # Newest first: by time, then by id for the two that share one.
    return sorted(made, key=lambda image: (image.created_at, image.pk), reverse=True)


def test_each_image_knows_its_neighbours_and_place(user, outsider, django_user_model) -> None:
    newest_first = gallery_of(user, outsider, django_user_model)
    for i, image in enumerate(newest_first):
        place = image_neighbours(user=user, image=image)
        newer = newest_first[i - 1].uuid if i > 0 else None
        older = newest_first[i + 1].uuid if i + 1 < len(newest_first) else None
        assert (place.newer, place.older) == (newer, older), i
        assert (place.position, place.total) == (i + 1, len(newest_first))
        assert place.counter == f"{i + 1} / {len(newest_first)}"


def test_the_counts_stop_at_the_cap(user, outsider, django_user_model, monkeypatch) -> None:
    newest_first = gallery_of(user, outsider, django_user_model)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    near = image_neighbours(user=user, image=newest_first[1])
    assert (near.position, near.total, near.counter) == (2, None, "2 / 3+")
    assert near.counter_label == "Image 2 of more than 3 in your gallery"
    deep = image_neighbours(user=user, image=newest_first[4])
    assert (deep.position, deep.counter) == (None, "")
    assert deep.older == newest_first[5].uuid  # stepping on still works


def test_the_lookups_cost_four_queries_at_any_depth(user, outsider, django_user_model) -> None:
    newest_first = gallery_of(user, outsider, django_user_model)
    for image in (newest_first[0], newest_first[3], newest_first[-1]):
        with CaptureQueriesContext(connection) as captured:
            image_neighbours(user=user, image=image)
        sql = [q["sql"] for q in captured]
        # newer, older, the count above (capped), the total (capped): no unbounded COUNT(*)
        assert len(sql) == 4, sql
        assert all("LIMIT" in statement for statement in sql), sql


def test_the_image_page_shows_the_counter(client, user, outsider, django_user_model) -> None:
    newest_first = gallery_of(user, outsider, django_user_model)
    client.force_login(user)
    html = client.get(reverse("gallery:image_detail", args=[newest_first[2].uuid])).content
    html = html.decode()
    assert 'aria-label="Image 3 of 6 in your gallery">3 / 6</span>' in html
    for step in (newest_first[1], newest_first[3]):
        assert reverse("gallery:image_detail", args=[step.uuid]) in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_neighbour_lookups_start_at_the_image_on_the_index(
    user, outsider, django_user_model
) -> None:
    newest_first = gallery_of(user, outsider, django_user_model)
    with CaptureQueriesContext(connection) as captured:
        image_neighbours(user=user, image=newest_first[2])
    # The newer, the older and the count above (the total reads from the top of the index).
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for query in captured.captured_queries[:3]:
                cursor.execute("EXPLAIN " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Index Cond" in plan and "created_at" in plan, plan
        finally:
            cursor.execute("SET enable_seqscan = on")
