"""Seed a large gallery for benchmarks: 100,000 images (by default) across 20 people, 5 projects.

    manage.py seed_gallery [--images N] [--reset] [--seed S]

Everything it makes is marked: people are `seed-*` (plus the `bench` login, recognised by its
`bench@seed.invalid` address), projects are called `Seed ...`. Run again, it does nothing while
that data is there; `--reset` deletes it (rows and files) and seeds afresh.

All rows share ONE stored original and its two WebP thumbnails (real images written once through
the storage API), so the seed is bound by the database, not by image work. The rows still
describe varied images: sizes follow the ratio and resolution, and the `bytes` of originals and
thumbnails are those of the real files scaled by pixel area, so a page's transfer can be
estimated from them.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from accounts.models import Profile
from config.media import delete_files
from gallery.services.trash import PROMPT_START
from generations.models import (
    Favourite,
    Generation,
    GenerationReference,
    OutputImage,
    SharedRendition,
    ShareLink,
    Status,
    Thumbnail,
    TrashAction,
    TrashRecord,
)
from imaging.images import THUMBNAIL_SIZES, fit_within, process_image
from projects.models import Membership, Project, Role
from references.models import ReferenceImage
from simulator.spec import PIXEL_SIZES as SIMULATED_PIXEL_SIZES

SEED_PREFIX = "seed-"
BENCH_USERNAME = "bench"
BENCH_EMAIL = "bench@seed.invalid"
BENCH_PASSWORD = "bench-gallery-2026"
PROJECT_PREFIX = "Seed "
BATCH_IMAGES = 5_000
PEOPLE = 20  # including `bench`
PROJECT_NAMES = ("Harbour", "Northlight", "Atlas", "Moorland", "Foundry")
IN_PROJECT_SHARE = 0.70
NSFW_SHARE = 0.03
TIE_SHARE = 0.03  # generations created in the same second as the one before
BENCH_FAVOURITE_SHARE = 0.02
TRASHED_SHARE = 0.001

# The provider's pixel sizes per ratio and resolution: the simulator's table (WaveSpeed publishes
# none; it follows a third party serving Kling O3). "auto" renders square.
PIXEL_SIZES = SIMULATED_PIXEL_SIZES

RATIO_WEIGHTS = {
    "1:1": 22,
    "16:9": 24,
    "9:16": 12,
    "4:3": 8,
    "3:4": 8,
    "3:2": 8,
    "2:3": 6,
    "21:9": 4,
    "auto": 8,
}
RESOLUTION_WEIGHTS = {"1k": 50, "2k": 35, "4k": 15}
PRICE = {"1k": Decimal("0.028"), "2k": Decimal("0.028"), "4k": Decimal("0.056")}
IMAGES_PER_GENERATION = {1: 50, 2: 20, 3: 10, 4: 20}

# A prompt is "<mood> <subject> <place>, <style>, <light>". 100 subjects, so each one (e.g.
# "lighthouse") appears in about 1 % of the prompts; moods, places, styles and light words in
# 2-10 %, so searches hit realistic fractions.
SUBJECTS = (
    "lighthouse", "fox", "heron", "owl", "whale", "wolf", "stag", "hare", "otter", "raven",
    "lynx", "bear", "falcon", "tortoise", "jellyfish", "octopus", "koi", "horse", "cat", "dog",
    "sailboat", "steam train", "tram", "bicycle", "airship", "vintage car", "submarine",
    "hot air balloon", "rowing boat", "motorbike", "castle", "windmill", "cathedral", "bridge",
    "greenhouse", "observatory", "library", "bakery", "market stall", "tea house", "temple",
    "farmhouse", "cabin", "skyscraper", "harbour crane", "water tower", "bell tower", "big wheel",
    "carousel", "pier", "robot", "astronaut", "knight", "dancer", "fisherman", "violinist",
    "gardener", "blacksmith", "old sailor", "child with a kite", "chess player", "beekeeper",
    "potter", "cyclist", "street musician", "shepherd", "diver", "climber", "poet", "chef",
    "teapot", "pocket watch", "typewriter", "vinyl record", "lantern", "compass", "globe",
    "camera", "chandelier", "hourglass", "bonsai tree", "sunflower", "cactus", "orchid",
    "mushroom ring", "oak tree", "willow", "waterfall", "glacier", "volcano", "canyon", "dune",
    "coral reef", "meadow", "bamboo grove", "rice terrace", "fjord", "island", "aurora", "comet",
)  # fmt: skip
MOODS = (
    "a quiet", "a lonely", "a majestic", "a tiny", "an ancient", "a futuristic", "a cosy",
    "a misty", "a vibrant", "a weathered", "a glowing", "a forgotten", "a playful", "a serene",
)  # fmt: skip
PLACES = (
    "on a rocky coast", "in a snowy forest", "at the edge of a city", "under a starry sky",
    "in a neon-lit street", "beside a still lake", "on a windswept hill", "in a desert at dusk",
    "inside a glass dome", "in a rainy alley", "above the clouds", "in a sunlit valley",
    "on a floating island", "in an overgrown ruin", "at a busy market", "by a frozen river",
)  # fmt: skip
STYLES = (
    "oil painting", "watercolour", "35mm film photo", "studio photograph", "ink drawing",
    "isometric illustration", "cinematic still", "charcoal sketch", "low-poly render",
    "ukiyo-e print", "gouache", "pixel art", "art nouveau poster", "macro photograph",
    "matte painting", "linocut",
)  # fmt: skip
LIGHTS = (
    "golden hour", "soft morning light", "dramatic rim light", "overcast", "moonlight",
    "candlelight", "blue hour", "harsh noon sun", "volumetric fog", "neon glow",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis",
    "Radia", "Tim", "Hedy", "Linus", "Katherine", "John", "Sophie", "Guido", "Karen",
)  # fmt: skip


@dataclass
class Cast:
    """Who is seeded: people, projects, and who may generate into which project."""

    bench: object
    people: list = field(default_factory=list)  # everyone, bench included
    person_weights: list[float] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    generators: dict[int, list] = field(default_factory=dict)  # project pk -> owners/editors


@dataclass(frozen=True)
class Files:
    """The shared stored files, and the real figures the rows' own figures are scaled from."""

    original: str
    thumbnails: dict[int, str]  # size -> name
    original_bytes: int
    original_pixels: int
    thumbnail_bytes: dict[int, int]
    thumbnail_pixels: dict[int, int]
    sha256: str
    placeholder: str


class Command(BaseCommand):
    help = "Seed 100,000 gallery images across 20 people and 5 projects (for bench/gallery.py)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, default=100_000, help="how many images")
        parser.add_argument("--reset", action="store_true", help="delete earlier seed data first")
        parser.add_argument("--seed", type=int, default=6, help="random seed (same data each run)")

    def handle(self, *args: object, **options: object) -> None:
        count = int(options["images"])
        if count < 1:
            raise CommandError("--images must be at least 1.")
        _check_bench_user_is_ours()
        existing = seeded_image_count()
        if existing and not options["reset"]:
            self.stdout.write(
                f"Seed data is already there ({existing} images); --reset seeds it afresh."
            )
            self._print_login()
            return
        started = time.perf_counter()
        if seed_users().exists():  # --reset, or what an interrupted run left behind
            seed_delete()
            self.stdout.write(
                f"Deleted earlier seed data in {time.perf_counter() - started:.1f} s."
            )
        rng = random.Random(options["seed"])
        made = seed_create(count=count, rng=rng, log=self.stdout.write)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {made.images} images in {made.generations} generations "
                f"({made.favourites} favourites of bench, {made.trashed} in the trash) "
                f"in {elapsed:.1f} s."
            )
        )
        self._print_login()

    def _print_login(self) -> None:
        self.stdout.write(f"Bench login: username '{BENCH_USERNAME}', password '{BENCH_PASSWORD}'")


# Reading and deleting the seed -----------------------------------------------------------------


def seed_users() -> models.QuerySet:
    User = get_user_model()
    return User.objects.filter(username__startswith=SEED_PREFIX) | User.objects.filter(
        username=BENCH_USERNAME, email=BENCH_EMAIL
    )


def seeded_image_count() -> int:
    return OutputImage.objects.filter(owner__in=seed_users()).count()


def _check_bench_user_is_ours() -> None:
    User = get_user_model()
    other = User.objects.filter(username=BENCH_USERNAME).exclude(email=BENCH_EMAIL)
    if other.exists():
        raise CommandError(
            f"A user named '{BENCH_USERNAME}' exists that seed_gallery did not make "
            f"(its email is not {BENCH_EMAIL}); rename it first: nothing was changed."
        )


def seed_delete() -> None:
    """Delete every seeded row and the seed's stored files."""
    users = seed_users()
    images = OutputImage.objects.filter(owner__in=users)
    names = set(images.values_list("file", flat=True).distinct())
    names |= set(Thumbnail.objects.filter(image__in=images).values_list("file", flat=True))
    names |= set(SharedRendition.objects.filter(image__in=images).values_list("file", flat=True))
    with transaction.atomic():
        # Children first, each in one statement: the ORM's cascade would load 100,000 images.
        generations = Generation.objects.filter(owner__in=users)
        ReferenceImage.objects.filter(source_image__in=images).update(source_image=None)
        for queryset in (
            Thumbnail.objects.filter(image__in=images),
            SharedRendition.objects.filter(image__in=images),
            Favourite.objects.filter(image__in=images),
            ShareLink.objects.filter(image__in=images),
            TrashRecord.objects.filter(image__in=images),
            TrashRecord.objects.filter(owner__in=users),
            GenerationReference.objects.filter(generation__in=generations),
            images,
            generations,
        ):
            queryset._raw_delete(queryset.db)
        Project.objects.filter(created_by__in=users, name__startswith=PROJECT_PREFIX).delete()
        users.delete()
    transaction.on_commit(lambda: delete_files(sorted(names)))


# Creating it ------------------------------------------------------------------------------------


@dataclass
class Made:
    images: int = 0
    generations: int = 0
    favourites: int = 0
    trashed: int = 0


def seed_create(*, count: int, rng: random.Random, log=print) -> Made:
    files = store_files(rng)
    cast = create_cast(rng)
    made = Made()
    now = timezone.now().replace(microsecond=0)
    plan = list(plan_generations(count=count, cast=cast, rng=rng, now=now))
    batch: list[dict] = []
    in_batch = 0
    with _explicit_created_at():
        for planned in plan:
            batch.append(planned)
            in_batch += planned["images"]
            if in_batch >= BATCH_IMAGES:
                _create_batch(batch, files=files, cast=cast, rng=rng, made=made)
                log(f"  {made.images} images ...")
                batch, in_batch = [], 0
        if batch:
            _create_batch(batch, files=files, cast=cast, rng=rng, made=made)
    _analyze()
    return made


def _analyze() -> None:
    """Refresh the planner's statistics now: autovacuum may take minutes to notice 350,000 new
    rows, and until then PostgreSQL plans the gallery for tables it believes nearly empty."""
    tables = [
        model._meta.db_table
        for model in (Generation, OutputImage, Thumbnail, Favourite, Membership, Project)
    ]
    tables.append(get_user_model()._meta.db_table)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def store_files(rng: random.Random) -> Files:
    """Write one photo-like original and its real thumbnails through the storage API."""
    buffer = BytesIO()
    _photo_like(1024, 1024, rng).save(buffer, "PNG")
    data = buffer.getvalue()
    processed = process_image(BytesIO(data))
    original = default_storage.save(
        OutputImage.file.field.generate_filename(None, "seed.png"), ContentFile(data)
    )
    thumbnails, thumbnail_bytes, thumbnail_pixels = {}, {}, {}
    for thumb in processed.thumbnails:
        thumbnails[thumb.size] = default_storage.save(
            Thumbnail.file.field.generate_filename(None, "seed.webp"), ContentFile(thumb.data)
        )
        thumbnail_bytes[thumb.size] = len(thumb.data)
        thumbnail_pixels[thumb.size] = thumb.width * thumb.height
    return Files(
        original=original,
        thumbnails=thumbnails,
        original_bytes=len(data),
        original_pixels=processed.width * processed.height,
        thumbnail_bytes=thumbnail_bytes,
        thumbnail_pixels=thumbnail_pixels,
        sha256=hashlib.sha256(data).hexdigest(),
        placeholder=processed.placeholder,
    )


def _photo_like(width: int, height: int, rng: random.Random) -> Image.Image:
    """Sky, many small shapes and grain: compresses like a photo (a 1k PNG of ~1.9 MB, WebP
    thumbnails of ~12 and ~27 KB), not like a flat fill."""
    sky = Image.linear_gradient("L").resize((width, height))
    im = Image.merge(
        "RGB", (sky.point(lambda v: 40 + v // 2), sky.point(lambda v: 90 + v // 3), sky)
    )
    draw = ImageDraw.Draw(im)
    for _ in range(400):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randint(4, 60)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    im = im.filter(ImageFilter.GaussianBlur(2))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(im, grain, 0.15)


def create_cast(rng: random.Random) -> Cast:
    User = get_user_model()
    password = make_password(None)  # unusable; one hash for all, hashing is slow on purpose
    people = [
        User(username=f"{SEED_PREFIX}{name.lower()}", password=password)
        for name in FIRST_NAMES[: PEOPLE - 1]
    ]
    bench = User(username=BENCH_USERNAME, email=BENCH_EMAIL)
    bench.set_password(BENCH_PASSWORD)
    people = [bench, *people]
    User.objects.bulk_create(people)
    people = list(seed_users().order_by("id"))
    bench = next(p for p in people if p.username == BENCH_USERNAME)
    Profile.objects.bulk_create(
        Profile(user=p, display_name=p.username.removeprefix(SEED_PREFIX).title()) for p in people
    )
    cast = Cast(bench=bench, people=people)
    # A few prolific people, many occasional ones.
    cast.person_weights = [rng.choice((1, 1, 2, 3, 6)) for _ in people]
    others = [p for p in people if p.pk != bench.pk]
    for number, name in enumerate(PROJECT_NAMES):
        owner = others[number * 3]
        project = Project.objects.create(name=f"{PROJECT_PREFIX}{name}", created_by=owner)
        members = {owner.pk: Role.OWNER}
        for person in rng.sample(others, rng.randint(3, 7)):
            members.setdefault(person.pk, rng.choice((Role.EDITOR, Role.EDITOR, Role.VIEWER)))
        members[bench.pk] = Role.EDITOR if number % 2 == 0 else Role.VIEWER
        Membership.objects.bulk_create(
            Membership(project=project, user_id=pk, role=role) for pk, role in members.items()
        )
        cast.projects.append(project)
        by_pk = {p.pk: p for p in people}
        cast.generators[project.pk] = [
            by_pk[pk] for pk, role in members.items() if Role(role).can_generate
        ]
    return cast


def plan_generations(
    *, count: int, cast: Cast, rng: random.Random, now: datetime
) -> Iterator[dict]:
    """What each generation is, oldest first, until `count` images are planned."""
    sizes = list(IMAGES_PER_GENERATION)
    size_weights = list(IMAGES_PER_GENERATION.values())
    planned: list[int] = []
    remaining = count
    while remaining > 0:
        planned.append(min(rng.choices(sizes, size_weights)[0], remaining))
        remaining -= planned[-1]
    year = 365 * 24 * 3600
    offsets = sorted(rng.randrange(year) for _ in planned)
    for i in range(1, len(offsets)):
        if rng.random() < TIE_SHARE:
            offsets[i] = offsets[i - 1]  # a tie: same second as the one before
    for images, offset in zip(planned, offsets, strict=True):
        if rng.random() < IN_PROJECT_SHARE:
            project = rng.choice(cast.projects)
            owner = rng.choice(cast.generators[project.pk])
        else:
            project = None
            owner = rng.choices(cast.people, cast.person_weights)[0]
        yield {
            "images": images,
            "owner": owner,
            "project": project,
            "created_at": now - timedelta(seconds=year - offset),
            "prompt": _prompt(rng),
            "aspect_ratio": rng.choices(list(RATIO_WEIGHTS), list(RATIO_WEIGHTS.values()))[0],
            "resolution": rng.choices(list(RESOLUTION_WEIGHTS), list(RESOLUTION_WEIGHTS.values()))[
                0
            ],
        }


def _prompt(rng: random.Random) -> str:
    return (
        f"{rng.choice(MOODS)} {rng.choice(SUBJECTS)} {rng.choice(PLACES)}, "
        f"{rng.choice(STYLES)}, {rng.choice(LIGHTS)}"
    )


def _create_batch(
    batch: list[dict], *, files: Files, cast: Cast, rng: random.Random, made: Made
) -> None:
    with transaction.atomic():
        generations = Generation.objects.bulk_create(_generation(p) for p in batch)
        images = OutputImage.objects.bulk_create(
            _image(p, generation, index, files=files, rng=rng)
            for p, generation in zip(batch, generations, strict=True)
            for index in range(p["images"])
        )
        Thumbnail.objects.bulk_create(
            Thumbnail(
                image=image,
                size=size,
                file=files.thumbnails[size],
                width=width,
                height=height,
                bytes=round(
                    files.thumbnail_bytes[size] * width * height / files.thumbnail_pixels[size]
                ),
            )
            for image in images
            for size in THUMBNAIL_SIZES
            for width, height in [fit_within(image.width, image.height, size)]
        )
        visible = [i for i in images if i.owner_id == cast.bench.pk or i.project_id is not None]
        stars = [i for i in visible if rng.random() < BENCH_FAVOURITE_SHARE]
        Favourite.objects.bulk_create(Favourite(user=cast.bench, image=i) for i in stars)
        trashed = [i for i in images if i.deleted_at is not None]
        TrashRecord.objects.bulk_create(
            TrashRecord(
                image=i,
                image_uuid=i.uuid,
                owner_id=i.owner_id,
                project_id=i.project_id,
                action=TrashAction.TRASHED,
                actor_id=i.owner_id,
                prompt=i.generation.prompt[:PROMPT_START],
            )
            for i in trashed
        )
    made.generations += len(generations)
    made.images += len(images)
    made.favourites += len(stars)
    made.trashed += len(trashed)


def _generation(p: dict) -> Generation:
    created = p["created_at"]
    price = PRICE[p["resolution"]]
    return Generation(
        owner=p["owner"],
        project=p["project"],
        prompt=p["prompt"],
        aspect_ratio=p["aspect_ratio"],
        resolution=p["resolution"],
        num_images=p["images"],
        request_payload={
            "prompt": p["prompt"],
            "aspect_ratio": p["aspect_ratio"],
            "resolution": p["resolution"],
            "num_images": p["images"],
        },
        status=Status.DONE,
        inference_ms=9_000 + 1_000 * p["images"],
        price_per_image=price,
        quoted_cost=price * p["images"],
        cost=price * p["images"],
        created_at=created,
        submitted_at=created + timedelta(seconds=1),
        processing_at=created + timedelta(seconds=2),
        completed_at=created + timedelta(seconds=12),
        finished_at=created + timedelta(seconds=13),
    )


def _image(p: dict, generation: Generation, index: int, *, files: Files, rng: random.Random):
    ratio = p["aspect_ratio"] if p["aspect_ratio"] != "auto" else "1:1"
    width, height = PIXEL_SIZES[ratio][p["resolution"]]
    trashed = rng.random() < TRASHED_SHARE
    return OutputImage(
        generation=generation,
        owner=p["owner"],
        project=p["project"],
        index=index,
        file=files.original,
        width=width,
        height=height,
        bytes=round(files.original_bytes * width * height / files.original_pixels),
        format="PNG",
        content_type="image/png",
        sha256=files.sha256,
        nsfw=rng.random() < NSFW_SHARE,
        placeholder=files.placeholder,
        created_at=p["created_at"],
        deleted_at=timezone.now() - timedelta(days=rng.randint(0, 20)) if trashed else None,
        deleted_by=p["owner"] if trashed else None,
    )


@contextlib.contextmanager
def _explicit_created_at() -> Iterator[None]:
    """Let bulk_create keep the created_at we set: `auto_now_add` would overwrite it with now.

    Cheaper than an UPDATE of every row afterwards; restored even if the seed fails."""
    fields = [Generation._meta.get_field("created_at"), OutputImage._meta.get_field("created_at")]
    try:
        for f in fields:
            f.auto_now_add = False
        yield
    finally:
        for f in fields:
            f.auto_now_add = True
