from __future__ import annotations

from django import forms

from projects.models import Project

from .models import AspectRatio, Generation, Resolution, ResultType
from .services.submission import GenerationParams

PROMPT_MAX_LENGTH = 2500


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
    num_images = forms.IntegerField(
        min_value=1,
        max_value=9,
        initial=1,
        label="Number of images",
        widget=forms.NumberInput(attrs={"min": 1, "max": 9}),
        error_messages={
            "min_value": "Ask for at least 1 image.",
            "max_value": "Kling Image O3 makes at most 9 images per run.",
        },
    )

    def __init__(self, *args: object, projects: list[Project] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.projects = {str(project.uuid): project for project in projects}
        self.fields["project"].choices = [
            ("", "Personal"),
            *((k, p.name) for k, p in self.projects.items()),
        ]

    def selected_project(self) -> Project | None:
        return self.projects.get(self.cleaned_data.get("project") or "")

    def to_params(self) -> GenerationParams:
        data = self.cleaned_data
        return GenerationParams(
            prompt=data["prompt"],
            aspect_ratio=data["aspect_ratio"],
            resolution=data["resolution"],
            result_type=data["result_type"],
            num_images=data["num_images"],
        )

    @classmethod
    def initial_from(cls, generation: Generation) -> dict[str, object]:
        """The form's values for "generate again"."""
        return {
            "project": str(generation.project.uuid) if generation.project else "",
            "prompt": generation.prompt,
            "aspect_ratio": generation.aspect_ratio,
            "resolution": generation.resolution,
            "result_type": generation.result_type,
            "num_images": generation.num_images,
        }


class QuoteForm(forms.Form):
    """The subset the price depends on, read leniently while the person types."""

    resolution = forms.ChoiceField(choices=Resolution.choices, required=False)
    num_images = forms.IntegerField(min_value=1, max_value=9, required=False)
    result_type = forms.ChoiceField(choices=ResultType.choices, required=False)
