"""Money: dated prices, an append-only ledger, and monthly budgets.

Amounts are exact decimals in US dollars with six places (micro-dollars), never floats.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 6}
ELEMENT_CREATION = "Kling element"


class Price(models.Model):
    """The price of one image of `model` at `resolution`, from `valid_from` on."""

    model = models.CharField(
        max_length=100,
        help_text="The WaveSpeed model id: kwaivgi/kling-image-o3 (per image), "
        "wavespeed-ai/prompt-optimizer or kwaivgi/kling-elements (per use).",
    )
    resolution = models.CharField(
        max_length=8, help_text="1k, 2k or 4k for images; “-” for a price per use."
    )
    per_image = models.DecimalField(
        **MONEY, verbose_name="price", help_text="US$ per image, or per use."
    )
    valid_from = models.DateTimeField()

    class Meta:
        ordering = ["model", "resolution", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "resolution", "valid_from"], name="one_price_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.resolution}: ${self.per_image} from {self.valid_from:%Y-%m-%d}"


class EntryKind(models.TextChoices):
    HOLD = "hold", "Hold"
    CHARGE = "charge", "Charge"
    RELEASE = "release", "Release"


class LedgerEntry(models.Model):
    """One movement of money; never edited afterwards: corrections are new entries.

    Spend = holds - releases + charges. A hold is made at submit, released when the generation
    ends, and replaced by a charge for what the provider billed."""

    # Exactly one of these: a generation, one use of the prompt enhancer, or one element
    # created on Kling (spend.services.PAID).
    generation = models.ForeignKey(
        "generations.Generation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    enhancement = models.ForeignKey(
        "generations.PromptEnhancement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    element = models.ForeignKey(
        "elements.Element",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    amount = models.DecimalField(**MONEY, help_text="Always positive; the kind gives the sign.")
    # The budget month the entry counts in: the month of the submit, in the site's time zone,
    # so a hold in one month and its charge early in the next stay in one month.
    period = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["person", "period"], name="ledger_person_period"),
            models.Index(fields=["project", "period"], name="ledger_project_period"),
            models.Index(fields=["period"], name="ledger_period"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="ledger_amount_positive"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        generation__isnull=False, enhancement__isnull=True, element__isnull=True
                    )
                    | models.Q(
                        generation__isnull=True, enhancement__isnull=False, element__isnull=True
                    )
                    | models.Q(
                        generation__isnull=True, enhancement__isnull=True, element__isnull=False
                    )
                ),
                name="ledger_one_subject",
            ),
            # One hold, one release and one charge per paid call at most.
            models.UniqueConstraint(fields=["generation", "kind"], name="one_entry_per_kind"),
            models.UniqueConstraint(
                fields=["enhancement", "kind"], name="one_enhancement_entry_per_kind"
            ),
            models.UniqueConstraint(fields=["element", "kind"], name="one_element_entry_per_kind"),
        ]

    def __str__(self) -> str:
        if self.enhancement_id:
            return f"{self.kind} ${self.amount} for prompt enhancement {self.enhancement_id}"
        if self.element_id:
            return f"{self.kind} ${self.amount} for Kling element {self.element_id}"
        return f"{self.kind} ${self.amount} for generation {self.generation_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are never edited: add a correcting entry instead.")
        super().save(*args, **kwargs)

    @property
    def description(self) -> str:
        """What the money was for, as the spend pages name it."""
        if self.element_id:
            return ELEMENT_CREATION
        return "Prompt enhancer" if self.enhancement_id else "Generation"


class Budget(models.Model):
    """A monthly hard cap for a person, a project, or (neither) the whole organisation; or the
    default personal budget: the cap of every person without one of their own (at most one
    row, set by staff). `spend.services.applicable_budgets` applies it to each such person, so
    a new account starts under it."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget",
    )
    project = models.OneToOneField(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="budget"
    )
    is_organisation = models.BooleanField(default=False)
    is_personal_default = models.BooleanField(
        default=False,
        verbose_name="default personal budget",
        help_text="The monthly cap of every person who has no personal budget of their own "
        "(new accounts included). Leave person and project empty.",
    )
    monthly_limit = models.DecimalField(**MONEY)
    # Who set the cap last, and whether staff did: a cap staff set on a project is theirs, and
    # the project's owners see it read-only (`spend.services.project_budget_set`).
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    set_by_staff = models.BooleanField(
        default=False,
        editable=False,
        verbose_name="set by staff",
        help_text="Only staff change or remove a cap staff set.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(person__isnull=False) & models.Q(project__isnull=False)),
                name="budget_one_scope",
            ),
            models.UniqueConstraint(
                fields=["is_organisation"],
                condition=models.Q(is_organisation=True),
                name="one_organisation_budget",
            ),
            models.CheckConstraint(
                condition=models.Q(is_personal_default=False)
                | models.Q(person__isnull=True, project__isnull=True, is_organisation=False),
                name="personal_default_has_no_scope",
                violation_error_message=(
                    "The default personal budget is for everyone: leave person, project and "
                    "organisation empty."
                ),
            ),
            models.UniqueConstraint(
                fields=["is_personal_default"],
                condition=models.Q(is_personal_default=True),
                name="one_personal_default_budget",
                violation_error_message="There is a default personal budget already: change it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label}: ${self.monthly_limit}/month"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.is_personal_default and self.person_id:
            raise ValueError("A default budget applied to a person is for reading, not saving.")
        super().save(*args, **kwargs)

    def applied_to(self, person_id: int) -> Budget:
        """The default personal budget as one person's cap: counted against their spend, named
        as theirs, alerting them. A copy that keeps the default's pk (its row is what a submit
        locks, and what its alerts point at); never saved."""
        assert self.is_personal_default, "only the default personal budget applies to people"
        return Budget(
            pk=self.pk,
            person_id=person_id,
            is_personal_default=True,
            monthly_limit=self.monthly_limit,
            updated_at=self.updated_at,
        )

    @property
    def scope_label(self) -> str:
        if self.is_personal_default and not self.person_id:
            return "the default personal monthly budget"
        if self.person_id:
            return f"{self.person}'s monthly budget"
        if self.project_id:
            return f"the monthly budget of {self.project}"
        return "the organisation's monthly budget"


class BudgetAlert(models.Model):
    """A warning mail sent for one threshold of one budget in one month: at most one each,
    so concurrent submits that cross it together send a single mail."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    # Only for the default personal budget, which is one row but each person's own cap.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    period = models.DateField()
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the monthly limit.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "budget_id", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period", "threshold"],
                condition=models.Q(person__isnull=True),
                name="one_alert_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["budget", "person", "period", "threshold"],
                condition=models.Q(person__isnull=False),
                name="one_default_alert_per_person_threshold",
            ),
        ]

    def __str__(self) -> str:
        budget = self.budget.applied_to(self.person_id) if self.person_id else self.budget
        return f"{self.threshold} % of {budget.scope_label} in {self.period:%Y-%m}"
