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
