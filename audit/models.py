"""The audit trail: one append-only row per action that changes what people can see or spend.

Rows are written by the services that act, in the action's transaction, and never changed or
deleted: `save()` refuses an update, `delete()` and the queryset's `update()`/`delete()` raise,
the admin is read-only, and the database refuses an UPDATE (SQLite and PostgreSQL) and a DELETE
(PostgreSQL) through triggers (migration 0002).

Who, the project and the object are plain ids with a stored description beside them: the rows
outlive whatever they name, and no cascade (or SET NULL) may ever touch them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    GENERATION_CREATED = "generation.created", "Generation created"
    GENERATION_FAILED = "generation.failed", "Generation failed"
    GENERATION_RETRIED = "generation.retried", "Generation retried"
    ENHANCER_USED = "enhancer.used", "Prompt enhancer used (paid)"
    ELEMENT_CREATION_ASKED = "element.creation_asked", "Element creation on Kling asked (paid)"
    IMAGE_MOVED = "image.moved", "Image moved"
    IMAGE_MOVE_UNDONE = "image.move_undone", "Image move undone"
    IMAGE_TRASHED = "image.trashed", "Image moved to the trash"
    IMAGE_RESTORED = "image.restored", "Image restored from the trash"
    IMAGE_PURGED = "image.purged", "Image removed for good"
    IMAGES_ZIPPED = "images.zipped", "Images downloaded as a ZIP"
    SHARE_CREATED = "share.created", "Share link created"
    SHARE_REVOKED = "share.revoked", "Share link revoked"
    SHARE_EXPIRED = "share.expired", "Share link expired"
    MEMBER_INVITED = "member.invited", "Invitation link created"
    MEMBER_INVITE_WITHDRAWN = "member.invite_withdrawn", "Invitation link withdrawn"
    MEMBER_JOINED = "member.joined", "Member joined"
    MEMBER_REMOVED = "member.removed", "Member removed"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Member's role changed"
    PROJECT_CREATED = "project.created", "Project created"
    PROJECT_RENAMED = "project.renamed", "Project renamed"
    PROJECT_ARCHIVED = "project.archived", "Project archived"
    PROJECT_UNARCHIVED = "project.unarchived", "Project restored from the archive"
    BUDGET_SET = "budget.set", "Budget set"
    BUDGET_CHANGED = "budget.changed", "Budget changed"
    BUDGET_REMOVED = "budget.removed", "Budget removed"
    PRICE_ADDED = "price.added", "Price added"
    PRICE_CHANGED = "price.changed", "Price changed before it applied"
    PRICE_REMOVED = "price.removed", "Price removed before it applied"
    ACCOUNT_INVITED = "account.invited", "Account invitation created"
    ACCOUNT_CREATED = "account.created", "Account created"
    ACCOUNT_DEACTIVATED = "account.deactivated", "Account deactivated"
    ACCOUNT_REACTIVATED = "account.reactivated", "Account reactivated"
    ENDPOINT_CREATED = "endpoint.created", "Notification endpoint added"
    ENDPOINT_DELETED = "endpoint.deleted", "Notification endpoint deleted"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    LOGIN = "login.succeeded", "Logged in"
    LOCKOUT = "login.locked_out", "Login locked out"


class AppendOnly(Exception):
    """An audit entry was about to be changed or deleted."""


class EntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("Audit entries are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit entries are never deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnly("Audit entries are never changed.")


def _no_constraint_fk(to: str, **kwargs: Any) -> models.ForeignKey:
    """A reference that is only an indexed id: the row outlives what it names, and no delete
    elsewhere cascades into (or updates) the trail."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the composite indexes below lead with it
        related_name="+",
        **kwargs,
    )


class Entry(models.Model):
    at = models.DateTimeField(default=timezone.now, editable=False)
    action = models.CharField(max_length=40, choices=Action.choices)
    # Who: empty for Darkroom itself (a worker, the scheduler).
    actor = _no_constraint_fk(settings.AUTH_USER_MODEL)
    actor_name = models.CharField(max_length=150, blank=True)
    # The project whose owners read this entry on its settings page (empty: staff only).
    project = _no_constraint_fk("projects.Project")
    project_name = models.CharField(max_length=80, blank=True)
    # Which object: a type key (audit/services.py TARGETS), its id (a uuid or a pk), and a
    # description that stays when the object is gone.
    object_type = models.CharField(max_length=20, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # The request's client address (config/addresses.py); empty for worker actions.
    address = models.CharField(max_length=45, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [
            # Keyset pages on (at, id), newest first: everything, per project, person, action.
            models.Index(fields=["-at", "-id"], name="audit_recent"),
            models.Index(fields=["project", "-at", "-id"], name="audit_project_recent"),
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor_recent"),
            models.Index(fields=["action", "-at", "-id"], name="audit_action_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'Darkroom'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit entries are never deleted.")

    @property
    def who(self) -> str:
        return self.actor_name or "Darkroom"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(what, before, after) for each value the action changed; "" where one side is
        missing (a value set for the first time, or removed)."""
        before, after = self.before or {}, self.after or {}
        keys = [*before, *(k for k in after if k not in before)]
        return [(key, before.get(key, ""), after.get(key, "")) for key in keys]
