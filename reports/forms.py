from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from config.parsing import BoundedDateField
from spend.services import month_of

from .selectors import month_end

MAX_RANGE_DAYS = 366


class ProjectBudgetForm(forms.Form):
    monthly_limit = forms.DecimalField(
        label="Monthly budget (US$)",
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=3,
        help_text="Empty: no project budget (the people's and the organisation's still apply).",
    )


class DateRangeForm(forms.Form):
    start = BoundedDateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def this_month_unless(cls, data: Mapping[str, Any]) -> DateRangeForm:
        """The cost review's range (its page's and the API's): `data`'s start and end when it
        gives either, else this month, its first day to its last."""
        if data.get("start") is not None or data.get("end") is not None:
            return cls({"start": data.get("start"), "end": data.get("end")})
        this_month = month_of(timezone.now())
        return cls({"start": this_month, "end": month_end(this_month)})

    def clean(self) -> dict:
        cleaned = super().clean()
        start: date | None = cleaned.get("start")
        end: date | None = cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end comes before the start.")
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError("Choose at most a year.")
        return cleaned
