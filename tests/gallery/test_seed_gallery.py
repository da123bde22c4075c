"""The benchmark seed: its shape, its marks, its idempotence and its reset."""

from __future__ import annotations

import io
from datetime import timedelta

import blurhash
import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.test import Client
from django.utils import timezone

from gallery.management.commands.seed_gallery import (
    BENCH_PASSWORD,
    BENCH_USERNAME,
    seed_users,
)
from generations.models import Favourite, Generation, OutputImage, Thumbnail
from imaging.images import THUMBNAIL_SIZES
from projects.models import Membership, Project, Role

pytestmark = pytest.mark.django_db
IMAGES = 3000


def seed(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("seed_gallery", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed(images=IMAGES)


def test_it_seeds_people_projects_and_images_of_the_asked_shape(seeded) -> None:
    images = OutputImage.objects.all()
    assert images.count() == IMAGES
    people = list(seed_users())
    assert len(people) == 20
    assert {p.username for p in people} >= {BENCH_USERNAME}
    assert all(p.username.startswith("seed-") for p in people if p.username != BENCH_USERNAME)
    projects = Project.objects.filter(name__startswith="Seed ")
    assert projects.count() == 5
    bench = get_user_model().objects.get(username=BENCH_USERNAME)
    assert Membership.objects.filter(user=bench, project__in=projects).count() == 5
    # Some people are in several projects.
    per_person = Membership.objects.values("user").annotate(n=Count("project")).filter(n__gte=2)
    assert per_person.count() >= 3

    in_projects = images.filter(project__isnull=False).count() / IMAGES
    assert 0.65 < in_projects < 0.75
    assert 0.01 < images.filter(nsfw=True).count() / IMAGES < 0.06
    lighthouse = images.filter(generation__prompt__icontains="lighthouse").count() / IMAGES
    assert 0.003 < lighthouse < 0.025
    assert Favourite.objects.filter(user=bench).exists()
    assert images.filter(deleted_at__isnull=False).count() < IMAGES * 0.01


def test_images_are_authored_by_people_who_may_generate_there(seeded) -> None:
    roles = {(m.project_id, m.user_id): m.role for m in Membership.objects.all()}
    for project_id, owner_id in OutputImage.objects.filter(project__isnull=False).values_list(
        "project_id", "owner_id"
    ):
        assert Role(roles[(project_id, owner_id)]).can_generate


def test_generations_hold_one_to_four_images_spread_over_a_year_with_ties(seeded) -> None:
    counts = Generation.objects.annotate(n=Count("images")).values_list("n", flat=True)
    assert set(counts) <= {1, 2, 3, 4}
    assert len(set(counts)) == 4
    now = timezone.now()
    created = list(OutputImage.objects.values_list("created_at", flat=True))
    assert min(created) > now - timedelta(days=366)
    assert max(created) - min(created) > timedelta(days=300)
    # Ties: different generations created in the same second.
    per_second = Generation.objects.values("created_at").annotate(n=Count("id")).filter(n__gt=1)
    assert per_second.exists()
    # Images carry their generation's time, and ids follow time (oldest first).
    mismatched = OutputImage.objects.exclude(created_at=F("generation__created_at"))
    assert not mismatched.exists()
    ordered = list(OutputImage.objects.order_by("id").values_list("created_at", flat=True))
    assert ordered == sorted(ordered)


def test_rows_share_real_stored_files_with_realistic_sizes(seeded) -> None:
    assert Thumbnail.objects.count() == len(THUMBNAIL_SIZES) * IMAGES
    files = set(OutputImage.objects.values_list("file", flat=True))
    thumbs = set(Thumbnail.objects.values_list("file", flat=True))
    assert len(files) == 1 and len(thumbs) == len(THUMBNAIL_SIZES)
    for name in files | thumbs:
        assert default_storage.exists(name)
    image = OutputImage.objects.filter(width=1360, height=768).first()
    small, large, larger = image.thumbnails.order_by("size")
    assert (larger.width, larger.height) == (1024, 578)
    assert (large.width, large.height) == (512, 289)
    assert (small.width, small.height) == (256, 145)
    assert 1_000 < small.bytes < large.bytes < larger.bytes < 400_000
    assert image.bytes > 500_000
    assert blurhash.is_valid_blurhash(image.placeholder)


def test_bench_can_log_in_with_the_printed_password(seeded) -> None:
    assert f"password '{BENCH_PASSWORD}'" in seeded
    assert Client().login(username=BENCH_USERNAME, password=BENCH_PASSWORD)


def test_running_it_again_adds_nothing(seeded) -> None:
    ids = set(OutputImage.objects.values_list("id", flat=True))
    again = seed(images=IMAGES)
    assert "already there (3000 images)" in again
    assert set(OutputImage.objects.values_list("id", flat=True)) == ids


def test_reset_replaces_the_seed_and_its_files_but_nothing_else(
    seeded, user, django_capture_on_commit_callbacks
) -> None:
    from tests.factories import make_image

    mine = make_image(user)
    old_files = set(
        OutputImage.objects.filter(owner__in=seed_users()).values_list("file", flat=True)
    )

    with django_capture_on_commit_callbacks(execute=True):  # files go after the commit
        seed("--reset", images=200)

    assert OutputImage.objects.filter(owner__in=seed_users()).count() == 200
    assert Project.objects.filter(name__startswith="Seed ").count() == 5
    assert seed_users().count() == 20
    assert OutputImage.objects.filter(pk=mine.pk).exists()
    for name in old_files:
        assert not default_storage.exists(name)


def test_it_refuses_to_touch_a_bench_user_it_did_not_make(django_user_model) -> None:
    django_user_model.objects.create_user(BENCH_USERNAME, email="someone@example.com")
    with pytest.raises(CommandError, match="did not make"):
        seed(images=10)
    assert not OutputImage.objects.exists()
    assert not seed_users().exists()


def test_a_run_interrupted_before_any_image_is_cleaned_up_by_the_next(django_user_model) -> None:
    django_user_model.objects.create_user("seed-ada")  # as a crash after the people were made
    seed(images=50)
    assert OutputImage.objects.count() == 50
    assert seed_users().count() == 20
