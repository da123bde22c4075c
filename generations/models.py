"""A generation is one run of the model; each of its outputs is an OutputImage with thumbnails."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from wavespeed.models import ProviderJob
from wavespeed.specs import KLING_IMAGE_O3


class AspectRatio(models.TextChoices):
    AUTO = "auto", "Auto"
    LANDSCAPE_16_9 = "16:9", "16:9"
    PORTRAIT_9_16 = "9:16", "9:16"
    SQUARE = "1:1", "1:1"
    LANDSCAPE_4_3 = "4:3", "4:3"
    PORTRAIT_3_4 = "3:4", "3:4"
    LANDSCAPE_3_2 = "3:2", "3:2"
    PORTRAIT_2_3 = "2:3", "2:3"
    ULTRAWIDE_21_9 = "21:9", "21:9"


class Resolution(models.TextChoices):
    R1K = "1k", "1k"
    R2K = "2k", "2k"
    R4K = "4k", "4k"


class ResultType(models.TextChoices):
    SINGLE = "single", "Single images"
    SERIES = "series", "A series of related images"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTED = "submitted", "Submitted"
    PROCESSING = "processing", "Processing"
    SAVING = "saving", "Saving"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # A submit whose answer was lost and which the provider's history could not settle: a
    # person must look (the WaveSpeed dashboard) before anything is sent again.
    NEEDS_ATTENTION = "needs_attention", "Needs attention"


# Every legal move. Nothing goes backwards; done and failed are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.SUBMITTED, Status.FAILED, Status.NEEDS_ATTENTION}),
    Status.SUBMITTED: frozenset({Status.PROCESSING, Status.SAVING, Status.FAILED}),
    Status.PROCESSING: frozenset({Status.SAVING, Status.FAILED}),
    Status.SAVING: frozenset({Status.DONE, Status.FAILED}),
    Status.NEEDS_ATTENTION: frozenset({Status.SUBMITTED, Status.FAILED}),
    Status.DONE: frozenset(),
    Status.FAILED: frozenset(),
}
FINAL_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
ACTIVE_STATUSES = frozenset(TRANSITIONS) - FINAL_STATUSES - {Status.NEEDS_ATTENTION}


class ErrorKind(models.TextChoices):
    AUTH = "auth", "API key rejected"
    BALANCE = "balance", "No balance"
    INVALID = "invalid", "Request refused"
    NOT_FOUND = "not_found", "Unknown to the provider"
    RATE_LIMIT = "rate_limit", "Rate limited"
    PROVIDER = "provider", "Provider error"
    NETWORK = "network", "Network error"
    PREDICTION = "prediction", "Prediction failed"
    DOWNLOAD = "download", "Download failed"
    TIMEOUT = "timeout", "Timed out"
    UNKNOWN_SUBMIT = "unknown_submit", "Submit fate unknown"
    CANCELLED = "cancelled", "Cancelled"


class ResultVia(models.TextChoices):
    """How the pipeline learnt that the prediction ended."""

    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Poll"


class Generation(ProviderJob):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations"
    )
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="generations",
        help_text="Empty for a personal generation.",
    )
    model = models.CharField(max_length=100, default=KLING_IMAGE_O3)

    # What the person asked for. `request_payload` is the body exactly as sent to WaveSpeed.
    prompt = models.TextField(help_text="The prompt as sent to the provider.")
    prompt_original = models.TextField(
        blank=True,
        help_text="What the person wrote before accepting the prompt enhancer's suggestion; "
        "empty when the prompt was not enhanced.",
    )
    aspect_ratio = models.CharField(
        max_length=8, choices=AspectRatio.choices, default=AspectRatio.AUTO
    )
    resolution = models.CharField(max_length=4, choices=Resolution.choices, default=Resolution.R1K)
    result_type = models.CharField(
        max_length=8, choices=ResultType.choices, default=ResultType.SINGLE
    )
    num_images = models.PositiveSmallIntegerField(default=1)
    request_payload = models.JSONField(default=dict)

    # Where it is.
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    error_kind = models.CharField(max_length=16, choices=ErrorKind.choices, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    # The call to WaveSpeed (ProviderJob: provider_id, next_step_at, the submit claim and its
    # retries, poll_seq and counters, submitted_at, processing_at) is the job runner's;
    # refused submits are retried for DARKROOM_SUBMIT_RETRY_WINDOW after the first refusal.
    result_via = models.CharField(max_length=8, choices=ResultVia.choices, blank=True, default="")
    save_claimed_at = models.DateTimeField(null=True, blank=True)
    save_attempts = models.PositiveSmallIntegerField(default=0)
    # Consecutive answers that an output is gone (403/404/410, or not an image); two end it.
    save_gone = models.PositiveSmallIntegerField(default=0)
    # Storage names chosen for files being written by the save in progress: recorded before
    # the first byte is written, cleared with the rows that use them, so files a killed worker
    # left behind can be found and deleted.
    pending_files = models.JSONField(default=list, blank=True)

    # What came back.
    output_urls = models.JSONField(default=list, blank=True)
    nsfw_flags = models.JSONField(default=list, blank=True)
    inference_ms = models.PositiveIntegerField(null=True, blank=True)

    # Money, in exact decimals.
    price_per_image = models.DecimalField(max_digits=8, decimal_places=4)
    quoted_cost = models.DecimalField(max_digits=10, decimal_places=4)
    cost = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="What the provider charged: set on completion; zero for a failed prediction.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="generation_owner_recent"),
            # Keyset over everything a person can see (GET /api/v1/generations's pages).
            models.Index(fields=["-created_at", "-id"], name="generation_recent"),
            models.Index(fields=["status", "next_step_at"], name="generation_due"),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @staticmethod
    def can_move(source: str, target: str) -> bool:
        return target in TRANSITIONS.get(source, frozenset())

    @property
    def request_payload_pretty(self) -> str:
        return json.dumps(self.request_payload, indent=2, ensure_ascii=False)

    @property
    def billed_images(self) -> int:
        return len(self.output_urls) if self.result_type == ResultType.SERIES else self.num_images

    def cost_of_outputs(self) -> Decimal:
        return self.price_per_image * self.billed_images


class Renditions(models.TextChoices):
    """Where an image's thumbnails and BlurHash stand. A save stores the original and shows it
    at once (`PENDING`); a task of its own makes the rest (generations/services/thumbnailing.py).
    Until they are `READY` every page shows the original in their place."""

    PENDING = "pending", "Being made"
    READY = "ready", "Made"
    FAILED = "failed", "Could not be made"


def original_upload_to(instance: OutputImage, filename: str) -> str:
    # Unguessable names; the original extension is kept only for the content type.
    token = uuid.uuid4().hex
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"originals/{token[:2]}/{token}.{extension}"


def thumbnail_upload_to(instance: Thumbnail, filename: str) -> str:
    token = uuid.uuid4().hex
    return f"thumbnails/{token[:2]}/{token}.webp"


class OutputImage(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    # Denormalised from the generation so the gallery reads one table through one index.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="images"
    )
    # Usually the generation's project; an image can be moved on its own.
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="images",
    )
    index = models.PositiveSmallIntegerField(help_text="Position in the provider's outputs.")
    file = models.FileField(upload_to=original_upload_to, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    format = models.CharField(max_length=8)
    content_type = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    nsfw = models.BooleanField(default=False)
    # A BlurHash of the image, made with its thumbnails, drawn until the thumbnail arrives.
    placeholder = models.CharField(max_length=64, blank=True)
    # Thumbnails and placeholder are made after the original is stored and shown: see
    # `Renditions`. Rows made before this field (and by the seed) have theirs: READY.
    renditions = models.CharField(
        max_length=8, choices=Renditions.choices, default=Renditions.READY
    )
    # The claim of the task making them (a lease: a dead worker's claim expires), and the names
    # of the files it is writing, recorded before the first byte so a killed run's are deleted.
    renditions_claimed_at = models.DateTimeField(null=True, blank=True)
    renditions_pending_files = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # In the trash: hidden from galleries, restorable until the purge removes row and files.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_output")
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="image_owner_recent"),
            models.Index(fields=["project", "-created_at", "-id"], name="image_project_recent"),
            # Keyset over everything a person can see (own work and their projects').
            models.Index(fields=["-created_at", "-id"], name="image_recent"),
            models.Index(
                fields=["deleted_at"],
                name="image_trashed",
                condition=models.Q(deleted_at__isnull=False),
            ),
            # The sweeper's look for thumbnails still to make: only the few pending rows.
            models.Index(
                fields=["created_at"],
                name="image_renditions_pending",
                condition=models.Q(renditions="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Image {self.index + 1} of {self.generation_id}"

    @property
    def renditions_ready(self) -> bool:
        return self.renditions == Renditions.READY

    @property
    def download_name(self) -> str:
        extension = {"JPEG": "jpg"}.get(self.format, self.format.lower())
        return f"darkroom-{self.uuid}.{extension}"

    @property
    def purge_date(self) -> datetime | None:
        """When a trashed image is removed for good (the next purge run after this)."""
        if self.deleted_at is None:
            return None
        return self.deleted_at + timedelta(days=settings.DARKROOM_TRASH_DAYS)


class Thumbnail(models.Model):
    image = models.ForeignKey(OutputImage, on_delete=models.CASCADE, related_name="thumbnails")
    size = models.PositiveSmallIntegerField(help_text="Longest side in pixels.")
    file = models.FileField(upload_to=thumbnail_upload_to, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "size"], name="one_thumbnail_per_size")
        ]

    def __str__(self) -> str:
        return f"{self.size}px of {self.image_id}"


def shared_rendition_upload_to(instance: SharedRendition, filename: str) -> str:
    token = uuid.uuid4().hex
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"shared/{token[:2]}/{token}.{extension}"


class SharedRendition(models.Model):
    """What share links serve for an image: the original's bytes without the metadata embedded
    in them (text chunks, EXIF, XMP; gallery/metadata.py), the pixels byte for byte. Made
    once, the first time a link is opened (gallery/services/renditions.py); the original stays as it
    is for the image's members."""

    image = models.OneToOneField(
        OutputImage, on_delete=models.CASCADE, related_name="shared_rendition"
    )
    file = models.FileField(upload_to=shared_rendition_upload_to, max_length=200)
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Shared rendition of {self.image_id}"


class ShareLinkQuerySet(models.QuerySet):
    def live(self) -> ShareLinkQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        )


class RevokeReason(models.TextChoices):
    BY_HAND = "by_hand", "Revoked by hand"
    EXPIRED = "expired", "Expired"
    MEMBER_REMOVED = "member_removed", "Its maker left the project"
    MEMBER_DEMOTED = "member_demoted", "Its maker became a viewer"
    DEACTIVATED = "deactivated", "Its maker's account was deactivated"
    TRASHED = "trashed", "The image went to the trash"
    MOVED = "moved", "The image moved where its maker has no rights"


class ShareLink(models.Model):
    """A read-only public link to one image: revocable, optionally expiring.

    `revoked_at` is when it stopped working for good, whatever the reason (`revoked_reason`),
    expiry included once the scheduler has recorded it. Nothing brings a revoked link back."""

    # The only secret in the public URL: unguessable, and never derived from the image.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image = models.ForeignKey(OutputImage, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=RevokeReason.choices, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who revoked it, or whose action did (empty for expiry).",
    )
    show_prompt = models.BooleanField(
        default=False, help_text="Show the prompt under the image (nothing else is ever shown)."
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Share link to {self.image}"

    @property
    def is_live(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class ImageMove(models.Model):
    """One image moved from one place to another: who, when, from where, to where. Kept after
    the image is gone. The moves of one request share a `batch`; a project's owners see the
    batches that took images out of it and may undo them, which is itself a batch of moves
    (each pointing at the move it `undoes`, once at most: an undo is never undone)."""

    batch = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    image = models.ForeignKey(
        OutputImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="moves"
    )
    image_uuid = models.UUIDField()
    from_project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: from the author's personal images.",
    )
    to_project = models.ForeignKey(
        "projects.Project", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_at = models.DateTimeField(default=timezone.now)
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by"
    )

    class Meta:
        ordering = ["-moved_at", "-id"]
        indexes = [
            models.Index(fields=["from_project", "-moved_at", "-id"], name="move_out_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.image_uuid}: {self.from_project_id} → {self.to_project_id}"


class Favourite(models.Model):
    """A star one person put on one image."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    image = models.ForeignKey(OutputImage, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "image"], name="one_star_per_image"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.image_id}"


class TrashAction(models.TextChoices):
    TRASHED = "trashed", "Moved to the trash"
    RESTORED = "restored", "Restored"
    PURGED = "purged", "Removed for good"


class TrashRecord(models.Model):
    """Who deleted, restored or purged which image, and when. Kept after the image is gone."""

    image = models.ForeignKey(
        OutputImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image_uuid = models.UUIDField(db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=8, choices=TrashAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the periodic purge.",
    )
    prompt = models.CharField(max_length=200, blank=True, help_text="The start of the prompt.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.image_uuid}"


class GenerationReference(models.Model):
    """The references of a generation, in the order they are sent (`<<<image_1>>>` is first)."""

    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, related_name="reference_links"
    )
    reference = models.ForeignKey(
        "references.ReferenceImage", on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "position"], name="one_reference_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"Reference {self.position + 1} of {self.generation_id}"


class EnhancementStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PromptEnhancement(ProviderJob):
    """One use of the provider's prompt enhancer (`wavespeed-ai/prompt-optimizer`), a job of the
    runner (ProviderJob: its call to WaveSpeed)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enhancements"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(help_text="The prompt sent to the enhancer.")
    style = models.CharField(max_length=16, default="default")
    status = models.CharField(
        max_length=8, choices=EnhancementStatus.choices, default=EnhancementStatus.QUEUED
    )
    suggestion = models.TextField(blank=True)
    error_message = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=6)
    cost = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Enhancement of {self.text[:40]} ({self.get_status_display()})"
