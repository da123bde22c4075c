"""config.parsing: ids and dates from URLs are values or refusals, never exceptions."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django import forms

from config.parsing import BoundedDateField, parse_uuid

KNOWN = uuid.UUID("7f0c6a4e-1234-4000-8000-000000000000")


@pytest.mark.parametrize(
    "value",
    [str(KNOWN), str(KNOWN).upper(), KNOWN.hex, f"{{{KNOWN}}}", f"urn:uuid:{KNOWN}", KNOWN],
)
def test_a_uuid_written_any_usual_way_is_read(value) -> None:
    assert parse_uuid(value) == KNOWN


@pytest.mark.parametrize(
    "value",
    ["", "not-a-uuid", "0001-01-01", "-1", "\x00", "x" * 10_000, "ü✓", str(KNOWN)[:-1], None, 7],
)
def test_anything_else_is_none(value) -> None:
    assert parse_uuid(value) is None


class RangeForm(forms.Form):
    day = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}))


@pytest.mark.parametrize("value", ["1900-01-01", "2026-11-30", "9998-12-31"])
def test_a_date_in_the_range_is_kept(value: str) -> None:
    form = RangeForm({"day": value})
    assert form.is_valid()
    assert form.cleaned_data["day"] == date.fromisoformat(value)


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "9999-01-01", "9999-12-31"])
def test_a_date_outside_it_is_a_form_error_that_names_the_range(value: str) -> None:
    form = RangeForm({"day": value})
    assert not form.is_valid()
    assert form.errors["day"] == ["Choose a date between 1900-01-01 and 9998-12-31."]


def test_the_date_picker_offers_only_the_range() -> None:
    html = str(RangeForm()["day"])
    assert 'min="1900-01-01"' in html and 'max="9998-12-31"' in html
