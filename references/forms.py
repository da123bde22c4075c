from __future__ import annotations

from django import forms


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that takes several pictures at once (the reference and element forms)."""

    allow_multiple_selected = True
