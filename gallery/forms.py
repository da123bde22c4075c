"""The gallery's filters, read from the URL (GET) so a view can be bookmarked and shared."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urlencode

from django import forms
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from config.cursors import Cursor, InvalidCursor, decode_cursor
from config.fixed_urls import fixed_reverse
from config.parsing import BoundedDateField
from generations.models import AspectRatio, Resolution
from generations.models import Status as RunStatus
from projects.models import Membership

from .selectors import Author, Filters

PERSONAL = "personal"
STATUS_CHOICES = [("kept", "Kept"), ("trash", "Trash")]
NSFW_CHOICES = [("any", "Any"), ("only", "NSFW only"), ("hide", "NSFW hidden")]
# The order of the parameters in URLs the gallery writes.
PARAMETERS = (
    "q",
    "project",
    "author",
    "from",
    "to",
    "ratio",
    "resolution",
    "status",
    "starred",
    "nsfw",
)


SELECTS = ("project", "author", "ratio", "resolution", "nsfw", "status")
OPTION = '<option value="{}"{}>{}</option>'
# A chip's text: these words, then the value (its choice's label, or a date).
CHIP_PREFIX = {
    "project": "Project: ",
    "author": "By ",
    "ratio": "Ratio ",
    "resolution": "Resolution ",
    "nsfw": "",
    "from": "From ",
    "to": "Until ",
}


ANYONE = "Anyone"


def option_tags(choices: Iterable[tuple[object, str]], current: str) -> SafeString:
    """`<option>`s, the current one selected (written here, once: a template loop over 40
    options cost a millisecond)."""
    return mark_safe(  # values and labels escaped here
        "".join(
            OPTION.format(escape(value), " selected" if str(value) == current else "", escape(text))
            for value, text in choices
        )
    )


def author_choices(authors: Iterable[Author]) -> list[tuple[str, str]]:
    return [("", ANYONE), *((a.username, a.name) for a in authors)]


@dataclass(frozen=True)
class Chip:
    """An active filter, shown above the tiles; its link shows the view without it."""

    name: str
    text: str
    remove_url: str


def _cursor(value: str, *, newest: str) -> Cursor | None:
    if not value:
        return None
    try:
        return decode_cursor(value)
    except InvalidCursor as exc:
        raise forms.ValidationError(
            f"This page link is broken or out of date: start again from the newest {newest}."
        ) from exc


class FilterForm(forms.Form):
    """The filters a gallery image and a run share (its project, author, day, ratio,
    resolution and prompt), and the page's cursor: the gallery's and the API's runs list's."""

    # What the page's cursor starts again from, in its error.
    newest = "images"

    q = forms.CharField(required=False, max_length=200, label="Search prompts")
    project = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "That project is not one of yours."},
    )
    author = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "Nobody by that name shares a project with you."},
    )
    ratio = forms.ChoiceField(
        required=False, label="Aspect ratio", choices=[("", "Any ratio"), *AspectRatio.choices]
    )
    resolution = forms.ChoiceField(
        required=False,
        label="Resolution",
        choices=[("", "Any resolution"), *Resolution.choices],
    )
    after = forms.CharField(required=False)

    def __init__(
        self,
        data: object,
        *,
        memberships: Sequence[Membership],
        authors: Callable[[], Sequence[Author]],
    ) -> None:
        super().__init__(data)
        # `from` is a Python keyword, so these two cannot be declared as class attributes.
        date = forms.DateInput(attrs={"type": "date"})
        self.fields["from"] = BoundedDateField(required=False, label="From", widget=date)
        self.fields["to"] = BoundedDateField(required=False, label="To", widget=date)
        self.projects = {str(m.project.uuid): m.project for m in memberships}
        self.fields["project"].choices = [
            ("", "All projects"),
            (PERSONAL, "Personal"),
            *((key, project.name) for key, project in self.projects.items()),
        ]
        # Read only when needed (a query): to check an `author` given, or to offer them all.
        self._authors = authors
        self.fields["author"].choices = lambda: author_choices(self.authors.values())

    @cached_property
    def authors(self) -> dict[str, Author]:
        return {a.username: a for a in self._authors()}

    @property
    def authors_read(self) -> bool:
        """Whether the people to filter by were read (to check an `author` given, or because
        they were asked for): otherwise the Filters panel fetches them when it opens."""
        return "authors" in self.__dict__

    def clean_after(self) -> Cursor | None:
        return _cursor(self.cleaned_data["after"], newest=self.newest)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        project_key = data["project"]
        return Filters(
            project=self.projects.get(project_key),
            personal=project_key == PERSONAL,
            # The username in the URL, the id in the query: no join to find the person.
            author_id=self.authors[data["author"]].pk if data["author"] else None,
            date_from=data["from"],
            date_to=data["to"],
            ratio=data["ratio"],
            resolution=data["resolution"],
            q=data["q"].strip(),
        )


IMAGE_ONLY = "A run's images may differ in this: filter the images (GET /api/v1/images)."


class RunFilterForm(FilterForm):
    """The API's list of runs: the gallery's filters that are a run's, and its status. The
    favourite and NSFW filters belong to an image, and a run's images may disagree (one
    starred, three not): they are refused, not given a meaning a client would have to guess."""

    newest = "runs"

    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), *RunStatus.choices],
        error_messages={"invalid_choice": f"One of: {', '.join(RunStatus.values)}."},
    )
    starred = forms.CharField(required=False, strip=False)
    nsfw = forms.CharField(required=False, strip=False)

    def clean_starred(self) -> str:
        if self.cleaned_data["starred"]:
            raise forms.ValidationError(IMAGE_ONLY)
        return ""

    def clean_nsfw(self) -> str:
        if self.cleaned_data["nsfw"]:
            raise forms.ValidationError(IMAGE_ONLY)
        return ""


class GalleryFilterForm(FilterForm):
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    starred = forms.ChoiceField(
        required=False, label="Favourites only", choices=[("", "All"), ("1", "Favourites")]
    )
    nsfw = forms.ChoiceField(required=False, label="NSFW", choices=NSFW_CHOICES)
    # The newest tile a page shows: asks for the tiles that arrived since (the gallery's poll).
    newer = forms.CharField(required=False)

    # As before the shared filters moved to FilterForm: the page lists errors in this order.
    field_order = [
        *("q", "project", "author", "ratio", "resolution"),
        *("status", "starred", "nsfw", "after", "newer"),
    ]

    def clean_newer(self) -> Cursor | None:
        return _cursor(self.cleaned_data["newer"], newest=self.newest)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if cleaned.get("after") and cleaned.get("newer"):
            self.add_error("newer", "A page is either older or newer than a tile, not both.")
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return replace(
            super().filters(),
            trash=data["status"] == "trash",
            starred=data["starred"] == "1",
            nsfw=data["nsfw"] or "any",
        )

    def query(self, **changes: str) -> str:
        """This view's parameters (valid ones only) with `changes`, as a query string."""
        source = self.cleaned_data if self.is_valid() else {}
        params = {}
        for name in PARAMETERS:
            value = changes.get(name, source.get(name))
            if value:
                params[name] = value.isoformat() if hasattr(value, "isoformat") else value
        params.update({k: v for k, v in changes.items() if k not in PARAMETERS and v})
        return urlencode(params)

    def options(self) -> dict[str, SafeString]:
        """The `<option>`s of each select, the current one selected."""
        html = {}
        for name in SELECTS:
            current = str(self[name].value() or "")
            if name == "author" and not self.authors_read:
                # Only "Anyone" (a query saved on every page): `author_options` when it opens.
                html[name] = option_tags([("", ANYONE)], current)
                continue
            html[name] = option_tags(self.fields[name].choices, current)
        return html

    def url(self, **changes: str) -> str:
        """The gallery's address for this view with `changes`."""
        path, query = fixed_reverse("gallery:gallery"), self.query(**changes)
        return f"{path}?{query}" if query else path

    @property
    def view(self) -> str:
        """The switcher's tab this view belongs to: trash, a project's uuid, personal,
        starred, or everything ("")."""
        if not self.is_valid():
            return ""
        data = self.cleaned_data
        if data["status"] == "trash":
            return "trash"
        if data["project"]:
            return data["project"]
        return "starred" if data["starred"] == "1" else ""

    def view_url(self) -> str:
        """The address of this view's tab alone, without the other filters."""
        view = self.view
        keep = {"trash": {"status": "trash"}, "starred": {"starred": "1"}, "": {}}.get(
            view, {"project": view}
        )
        return self.url(**{**dict.fromkeys(PARAMETERS, ""), **keep})

    def chips(self) -> list[Chip]:
        """The filters in force beyond the tab's own, each with the link that drops it."""
        if not self.is_valid():
            return []
        data, view = self.cleaned_data, self.view
        found = []
        for name in PARAMETERS:
            value = data.get(name)
            if not value or name == "status" or (name == "nsfw" and value == "any"):
                continue
            if (name == "project" and value == view) or (name == "starred" and view == "starred"):
                continue  # the tab says it
            if name == "q":
                text = f"“{value}”"
            elif name in ("from", "to"):
                text = f"{CHIP_PREFIX[name]}{date_format(value, 'j M Y')}"
            elif name == "starred":
                text = "Favourites"
            elif name == "project" and value == PERSONAL:
                text = "Personal"
            else:
                text = f"{CHIP_PREFIX[name]}{dict(self.fields[name].choices)[value]}"
            found.append(Chip(name=name, text=text, remove_url=self.url(**{name: ""})))
        return found

    @property
    def is_filtered(self) -> bool:
        """Anything narrows the view beyond the default (kept images, everything)."""
        if not self.is_valid():
            return False
        data = self.cleaned_data
        return any(data.get(name) for name in PARAMETERS if name not in ("status", "nsfw")) or (
            data.get("nsfw") not in ("", "any")
        )
