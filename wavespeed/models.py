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


class WebhookReceipt(models.Model):
    """A webhook delivery we accepted, by its `webhook-id`, so a replay of it is refused. Kept
    only as long as such a delivery's timestamp would still be accepted
    (`webhooks.forget_old_receipts`)."""

    ID_MAX_LENGTH = 200

    webhook_id = models.CharField(max_length=ID_MAX_LENGTH, unique=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.webhook_id
