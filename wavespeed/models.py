from __future__ import annotations

from django.db import models


class ProviderUpload(models.Model):
    """Bytes already uploaded to WaveSpeed, by content hash, so they are not sent again while
    the provider still keeps them (it deletes uploads after 7 days)."""

    sha256 = models.CharField(max_length=64, unique=True)
    download_url = models.URLField(max_length=1000)
    bytes = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        # Moved from the generations app with its rows: the table keeps its first name.
        db_table = "generations_providerupload"

    def __str__(self) -> str:
        return f"{self.sha256[:12]} → {self.download_url}"


class ProviderJob(models.Model):
    """The fields the job runner (`wavespeed.runner`) keeps on a row that is one call to
    WaveSpeed: a generation, a use of the prompt enhancer, an element created on Kling. Where the
    row is in its own life (queued, followed, ended) is its kind's business; these say where the
    call is."""

    provider_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # The cause of the last failure or wait (a WaveSpeedError's `kind`), empty when none.
    error_kind = models.CharField(max_length=16, blank=True)
    # When the next step (submit, reconcile, poll) should run; the sweeper queues it again once
    # it is late (a lost message, a killed worker).
    next_step_at = models.DateTimeField(null=True, blank=True)
    # Set while a submit is on its way: a claim older than the submit lease belongs to a worker
    # that died mid-request, whose request may have arrived.
    submit_claimed_at = models.DateTimeField(null=True, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # When WaveSpeed first failed to take (or to confirm) this submit; cleared once it holds the
    # prediction.
    submit_retry_since = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    # Each step that follows the prediction claims the row by advancing `poll_seq`, so two
    # chains (a poll restarted by the sweeper, a webhook) never both go on.
    poll_seq = models.PositiveIntegerField(default=0)
    poll_count = models.PositiveIntegerField(default=0)
    poll_errors = models.PositiveSmallIntegerField(default=0)
    # How the end of the prediction arrived: "webhook" or "poll" (empty until then).
    result_via = models.CharField(max_length=8, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class WebhookReceipt(models.Model):
    """A webhook delivery we accepted, by its `webhook-id`, so a replay of it is refused. Kept
    only as long as such a delivery's timestamp would still be accepted
    (`webhooks.forget_old_receipts`)."""

    ID_MAX_LENGTH = 200

    webhook_id = models.CharField(max_length=ID_MAX_LENGTH, unique=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.webhook_id
