from __future__ import annotations

from typing import TypedDict

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator

from imaging.images import NotAnImage
from references.cleaning import ACCEPT_TYPES, ReferenceRejected, normalise
from references.forms import MultipleFileInput

from .creation import DESCRIPTION_MAX_LENGTH, MAX_EXTRA_VIEWS, Picture
from .models import NAME_MAX_LENGTH
from .services import preview_from_upload

NOTE_MAX_LENGTH = 500
# WaveSpeed accepts images up to 20 MB (docs/wavespeed.md); a preview needs no more.
PREVIEW_MAX_BYTES = 20 * 1024 * 1024


def _name_field() -> forms.CharField:
    return forms.CharField(
        max_length=NAME_MAX_LENGTH,
        strip=True,
        help_text="Up to 20 characters, as Kling allows. Write it in the prompt to call the "
        "element up.",
        error_messages={
            "required": "Give the element a name: the prompt calls it by its name.",
            "max_length": "Kling Elements allows at most 20 characters in a name.",
        },
    )


class ElementValues(TypedDict):
    name: str
    kling_element_id: str
    note: str
    preview: bytes | None


class ElementForm(forms.Form):
    name = _name_field()
    kling_element_id = forms.CharField(
        max_length=64,
        strip=True,
        label="Kling element id",
        help_text="The id Kling gave the element when it was created.",
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$",
                "An element id is letters, digits, “-” or “_”, without spaces.",
            )
        ],
        error_messages={"required": "Enter the element's Kling id: it is what reaches Kling."},
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH}),
        help_text="What the element is, how it is best used.",
    )
    preview = forms.FileField(
        required=False,
        label="Preview image",
        help_text="A JPEG, PNG or WebP picture of the element (kept as a small WebP, without "
        "its metadata).",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_preview(self) -> object:
        """Decode the picture now, so a bad file is refused with the rest of the form kept."""
        upload = self.cleaned_data.get("preview")
        self.preview_bytes: bytes | None = None
        if not upload:
            return upload
        if upload.size > PREVIEW_MAX_BYTES:
            raise forms.ValidationError("The picture is over 20 MB: choose a smaller one.")
        try:
            self.preview_bytes = preview_from_upload(upload)
        except NotAnImage as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload

    def values(self) -> ElementValues:
        """The keyword arguments for services.element_create / element_update."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kling_element_id": data["kling_element_id"],
            "note": data["note"],
            "preview": self.preview_bytes,
        }


class MultipleFileField(forms.FileField):
    """Several files from one input; each is cleaned as a FileField would clean it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> list[object]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class KlingElementForm(forms.Form):
    """“Create on Kling”: the inputs of `kwaivgi/kling-elements`."""

    name = _name_field()
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": DESCRIPTION_MAX_LENGTH}),
        help_text="Up to 100 characters, sent to Kling with the pictures.",
        error_messages={"max_length": "Kling Elements allows at most 100 characters here."},
    )
    front = forms.FileField(
        label="Front view",
        widget=forms.FileInput(attrs={"accept": ACCEPT_TYPES}),
        help_text="The element seen from the front: a JPEG, PNG, WebP or HEIC picture.",
        error_messages={"required": "Add a front view: Kling builds the element from it."},
    )
    views = MultipleFileField(
        label="More views",
        help_text=f"1 to {MAX_EXTRA_VIEWS} more pictures of it from other angles.",
        error_messages={"required": "Add at least one more view: Kling needs it."},
    )

    def clean_front(self) -> Picture:
        return _picture(self.cleaned_data["front"])

    def clean_views(self) -> list[Picture]:
        uploads = self.cleaned_data["views"]
        if len(uploads) > MAX_EXTRA_VIEWS:
            raise forms.ValidationError(
                f"You added {len(uploads)} more views; use at most {MAX_EXTRA_VIEWS}."
            )
        pictures, errors = [], []
        for upload in uploads:
            try:
                pictures.append(_picture(upload))
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return pictures


def _picture(upload: UploadedFile) -> Picture:
    """The picture normalised as a reference (references/cleaning.py), decoded once here and
    kept for creation; or the reason it cannot be one."""
    name = (upload.name or "unnamed file")[:100]
    try:
        return Picture(name=name, image=normalise(upload, name=name))
    except ReferenceRejected as exc:
        raise forms.ValidationError(str(exc)) from exc
