from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth import get_user_model

from config.cursors import Cursor, InvalidCursor, decode_cursor
from projects.models import Project

from .models import Action
from .selectors import TrailFilters

# Dates a person may type; far beyond any entry, and far from the calendar's ends (where "the
# day after" overflows).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9000, 12, 31)


class TrailFilterForm(forms.Form):
    """The staff trail's filters, all optional, all in the URL."""

    person = forms.CharField(required=False, max_length=150, label="Who (username)")
    project = forms.ModelChoiceField(
        queryset=Project.objects.order_by("name", "id"),
        to_field_name="uuid",
        required=False,
        empty_label="Any project",
    )
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_person(self) -> int | None:
        username = self.cleaned_data["person"].strip()
        if not username:
            return None
        pk = (
            get_user_model()
            .objects.filter(username__iexact=username)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            raise forms.ValidationError("Nobody has that username.")
        return pk

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data[name]
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(f"Choose a day between {FIRST_DAY} and {LAST_DAY}.")
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")

    def clean_after(self) -> Cursor | None:
        value = self.cleaned_data["after"]
        if not value:
            return None
        try:
            return decode_cursor(value)
        except InvalidCursor as exc:
            raise forms.ValidationError(str(exc)) from exc

    def filters(self) -> TrailFilters:
        data = self.cleaned_data
        return TrailFilters(
            actor_id=data["person"],
            project=data["project"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
