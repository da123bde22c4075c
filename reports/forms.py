from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms

from config.parsing import BoundedDateField

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
