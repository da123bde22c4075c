"""Reading what anyone can type into a URL: ids and dates.

A value is what it should be, or it is refused with a message for the person; it never becomes
an exception and a 500. Every parse of a UUID from a query string or a posted field goes
through `parse_uuid`, and every date a person chooses through `BoundedDateField` (or the same
bounds), so the rule exists once.
"""

from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

# Dates a person may ask for. Beyond these, the moments computed from a date (its start in the
# site's time zone, in UTC; the day or month after it) fall outside what Python and the
# databases can hold: 9999-12-31 has no next day, and midnight of 0001-01-01 east of UTC is in
# year 0. Nothing in Darkroom is dated outside them.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)
DATE_RANGE_MESSAGE = f"Choose a date between {EARLIEST_DATE} and {LATEST_DATE}."


def parse_uuid(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (any text, of any length or content)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def date_in_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


class BoundedDateField(forms.DateField):
    """A date between EARLIEST_DATE and LATEST_DATE (and a date picker that offers no other)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.validators += [
            MinValueValidator(EARLIEST_DATE, message=DATE_RANGE_MESSAGE),
            MaxValueValidator(LATEST_DATE, message=DATE_RANGE_MESSAGE),
        ]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.DateInput):
            attrs.update(min=EARLIEST_DATE.isoformat(), max=LATEST_DATE.isoformat())
        return attrs
