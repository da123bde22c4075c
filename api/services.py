"""The API's one write of its own: a create under an Idempotency-Key. The create itself is the
Generate page's (generations.services.submission.generation_create, after the GenerateForm)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import AccessToken
from generations.models import Generation

from .models import IdempotencyKey


class KeyReused(Exception):
    """The key was used before with another request."""


def request_digest(*, path: str, payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def created_before(*, token: AccessToken, key: str, digest: str) -> Generation | None:
    """The generation an earlier create with this key made; KeyReused if that create asked
    for something else."""
    found = IdempotencyKey.objects.filter(token=token, key=key).first()
    if found is None:
        return None
    if found.request_digest != digest:
        raise KeyReused(key)
    return found.generation


def create_once(
    *, token: AccessToken, key: str, digest: str, create: Callable[[], Generation]
) -> tuple[Generation, bool]:
    """Run `create` at most once per (token, key): (the generation, whether made now).

    The key is claimed first, in the transaction that makes the generation and its hold: a
    concurrent create with the same key blocks on the unique index until this one commits,
    then fails on it, and answers with what this one made. Whatever `create` raises (a budget
    refusal) rolls the claim back with it."""
    if (earlier := created_before(token=token, key=key, digest=digest)) is not None:
        return earlier, False
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.create(token=token, key=key, request_digest=digest)
            generation = create()
            IdempotencyKey.objects.filter(pk=claim.pk).update(generation=generation)
    except IntegrityError:
        earlier = created_before(token=token, key=key, digest=digest)
        if earlier is None:  # pragma: no cover - the other create rolled back after all
            raise
        return earlier, False
    return generation, True
