"""What the API keeps beyond the apps' own tables: the Idempotency-Key of each create."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` a token sent with a create, and what that create made.

    Unique per token: a retried create with the same key finds this row and answers with the
    same generation, and two concurrent ones cannot both insert it (the second waits for the
    first's transaction, then fails on the constraint and reads the first's answer). The row is
    written in the same transaction as the generation and its money hold, so a refused create
    (over budget) leaves no key behind and may be retried as it is."""

    token = models.ForeignKey(
        "accounts.AccessToken", on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the request's method, path and body: the same key with another body is an error.
    request_digest = models.CharField(max_length=64)
    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="one_use_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key
