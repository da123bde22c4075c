from __future__ import annotations

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from config.parsing import parse_uuid
from elements.models import Element
from projects.models import Project
from references.cleaning import ACCEPT_TYPES, MAX_REFERENCES, MAX_REFERENCES_PLUS_ELEMENTS
from references.forms import MultipleFileInput
from references.models import ReferenceImage

from .models import AspectRatio, Generation, Resolution, ResultType
from .references import references_visible_to
from .services.submission import GenerationParams

PROMPT_MAX_LENGTH = 2500
# Kling Image O3 takes at most 3 elements (docs/wavespeed.md).
MAX_ELEMENTS = 3


class ReferenceListField(forms.Field):
    """The uuids of the picked references, in order: one hidden input per reference tile."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(item) for item in value]  # type: ignore[union-attr]


class GenerateForm(forms.Form):
    project = forms.ChoiceField(
        required=False,
        label="Project",
        help_text="Where the images go: your personal gallery, or a project you can generate in.",
    )
    prompt = forms.CharField(
        max_length=PROMPT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": PROMPT_MAX_LENGTH}),
        help_text="Describe the subject, scene, style, lighting and mood. Up to 2,500 characters.",
        error_messages={"required": "Write a prompt: it is the one thing the model needs."},
    )
    # The person's own prompt, when they accepted the prompt enhancer's suggestion into `prompt`.
    prompt_original = forms.CharField(
        required=False,
        max_length=PROMPT_MAX_LENGTH,
        strip=True,
        widget=forms.HiddenInput,
        error_messages={
            "max_length": "The original prompt kept beside the enhanced one is over 2,500 "
            "characters: enhance a shorter prompt."
        },
    )
    aspect_ratio = forms.ChoiceField(
        choices=AspectRatio.choices, initial=AspectRatio.AUTO, label="Aspect ratio"
    )
    resolution = forms.ChoiceField(
        choices=Resolution.choices,
        initial=Resolution.R1K,
        widget=forms.RadioSelect,
        help_text="4k costs twice as much per image.",
    )
    result_type = forms.ChoiceField(
        choices=ResultType.choices,
        initial=ResultType.SINGLE,
        label="Result type",
        help_text="A series is a set of related images; the number of images is then the "
        "model's choice, and each image delivered is billed.",
    )
    # Not required: a series has no count to give (the Generate page disables the field then);
    # clean() asks for one for single images.
    num_images = forms.IntegerField(
        min_value=1,
        max_value=9,
        initial=1,
        required=False,
        label="Number of images",
        widget=forms.NumberInput(attrs={"min": 1, "max": 9}),
        error_messages={
            "min_value": "Ask for at least 1 image.",
            "max_value": "Kling Image O3 makes at most 9 images per run.",
        },
    )
    references = ReferenceListField(required=False)
    # The no-JS path: the view keeps each valid file as a reference before the form is bound
    # (so nothing is lost to another field's error) and passes the refusals in.
    reference_files = forms.Field(
        required=False,
        label="Reference images",
        widget=MultipleFileInput(attrs={"accept": ACCEPT_TYPES}),
        help_text="Up to 10 JPEG, PNG, WebP or HEIC images, each at least 300 px on the short "
        "side; location data and other metadata are removed before they are sent.",
    )
    elements = forms.MultipleChoiceField(
        required=False,
        label="Elements",
        widget=forms.CheckboxSelectMultiple,
        help_text="Up to 3 Kling elements; write each one's name in the prompt.",
        error_messages={"invalid_choice": "That element is not one you can use (any more)."},
    )

    def __init__(
        self,
        *args: object,
        projects: list[Project] = (),
        elements: list[Element] = (),
        user: AbstractBaseUser | None = None,
        reference_file_errors: list[str] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.reference_file_errors = list(reference_file_errors)
        # The live elements of the person's library and of the projects they may generate in.
        self.element_options = {str(element.uuid): element for element in elements}
        self.fields["elements"].choices = [(k, e.name) for k, e in self.element_options.items()]
        self.projects = {str(project.uuid): project for project in projects}
        self.fields["project"].choices = [
            ("", "Personal"),
            *((k, p.name) for k, p in self.projects.items()),
        ]

    def selected_project(self) -> Project | None:
        return self.projects.get(self.cleaned_data.get("project") or "")

    def clean_elements(self) -> list[str]:
        picked = self.cleaned_data["elements"]
        if len(picked) > MAX_ELEMENTS:
            raise forms.ValidationError("Pick at most 3 elements: Kling Image O3 takes 3.")
        # `project` is declared (so cleaned) first; only its library or the personal one counts.
        project = self.projects.get(self.cleaned_data.get("project") or "")
        for key in picked:
            element = self.element_options[key]
            if element.project_id not in (None, project.pk if project else None):
                raise forms.ValidationError(
                    f"“{element.name}” is an element of the project {element.project.name}: "
                    "use it when generating into that project."
                )
        return picked

    def selected_elements(self) -> list[Element]:
        """The picked elements in the order they came (the order `element_list` keeps)."""
        return [self.element_options[key] for key in self.cleaned_data.get("elements", [])]

    def unnamed_elements(self) -> list[Element]:
        """Picked elements whose name the prompt never writes (a warning, not an error)."""
        prompt = self.cleaned_data.get("prompt", "").casefold()
        return [e for e in self.selected_elements() if e.name.casefold() not in prompt]

    def element_choices(self) -> list[tuple[Element, bool]]:
        """Each element the picker offers, and whether it is ticked."""
        ticked = {str(value) for value in (self["elements"].value() or [])}
        return [(e, key in ticked) for key, e in self.element_options.items()]

    def clean_references(self) -> list[ReferenceImage]:
        """The picked references, in order: the person's own, and those of a generation they
        may see ("generate again" on a project member's generation)."""
        keys = list(dict.fromkeys(self.cleaned_data["references"]))  # order kept, no repeats
        if len(keys) > MAX_REFERENCES:
            raise forms.ValidationError(
                f"You picked {len(keys)} references; Kling Image O3 takes at most {MAX_REFERENCES}."
            )
        found = self._visible_references(keys)
        if len(found) != len(keys):
            raise forms.ValidationError(
                "One of the picked references is not one you may use or no longer exists: "
                "pick it again."
            )
        return [found[key] for key in keys]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        for message in self.reference_file_errors:
            self.add_error("reference_files", message)
        if cleaned.get("result_type") == ResultType.SERIES:
            # The model chooses 2–9 and each image delivered is billed (the quote holds 9):
            # whatever count was left in the form means nothing, even an out-of-range one.
            self.errors.pop("num_images", None)
            cleaned["num_images"] = 1
        elif cleaned.get("num_images") is None and "num_images" not in self.errors:
            self.add_error("num_images", "Say how many images to make, from 1 to 9.")
        references = len(cleaned.get("references") or [])
        elements = len(cleaned.get("elements") or [])
        if references and elements and references + elements > MAX_REFERENCES_PLUS_ELEMENTS:
            self.add_error(
                "references",
                f"You picked {references} references and {elements} elements; Kling Image O3 "
                f"takes at most {MAX_REFERENCES_PLUS_ELEMENTS} together.",
            )
        return cleaned

    def _visible_references(self, keys: list[str]) -> dict[str, ReferenceImage]:
        """Those of `keys` that name a reference the person may see, by key."""
        valid = [key for key in map(parse_uuid, map(str, keys)) if key is not None]
        if self.user is None or not valid:
            return {}
        rows = references_visible_to(self.user).filter(uuid__in=valid)
        return {str(row.uuid): row for row in rows}

    def chosen_references(self) -> list[ReferenceImage]:
        """The references the form holds (posted or initial) that the person may use, in order,
        for the tiles."""
        if "references" in getattr(self, "cleaned_data", {}):
            return self.cleaned_data["references"]  # already looked up by clean_references
        keys = [str(key) for key in dict.fromkeys(self["references"].value() or [])]
        found = self._visible_references(keys)
        return [found[key] for key in keys if key in found]

    def to_params(self) -> GenerationParams:
        data = self.cleaned_data
        return GenerationParams(
            prompt=data["prompt"],
            aspect_ratio=data["aspect_ratio"],
            resolution=data["resolution"],
            result_type=data["result_type"],
            num_images=data["num_images"],
            prompt_original=data.get("prompt_original") or "",
            elements=tuple(self.selected_elements()),
            references=tuple(reference.pk for reference in data["references"]),
        )

    @classmethod
    def initial_from(cls, generation: Generation) -> dict[str, object]:
        """The form's values for "generate again"."""
        return {
            "project": str(generation.project.uuid) if generation.project else "",
            "prompt": generation.prompt,
            "prompt_original": generation.prompt_original,
            "aspect_ratio": generation.aspect_ratio,
            "resolution": generation.resolution,
            "result_type": generation.result_type,
            "num_images": generation.num_images,
            # The owner's references, which another person who sees the generation may use too.
            "references": [str(link.reference.uuid) for link in generation.reference_links.all()],
            "elements": [str(link.element.uuid) for link in generation.element_links.all()],
        }


class QuoteForm(forms.Form):
    """The subset the price depends on, read leniently while the person types."""

    resolution = forms.ChoiceField(choices=Resolution.choices, required=False)
    num_images = forms.IntegerField(min_value=1, max_value=9, required=False)
    result_type = forms.ChoiceField(choices=ResultType.choices, required=False)
