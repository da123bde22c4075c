"""The shapes the API reads and answers, as pydantic models (the OpenAPI schema comes from
them). Amounts of money are strings of US dollars (`"0.0280"`), never floats."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from uuid import UUID

from ninja import Field, Schema

from generations.models import AspectRatio, Resolution, ResultType
from references.cleaning import MAX_REFERENCES

# The choices of the models the form validates against, so the schema cannot drift from them
# (built at run time: to a type checker they are strings).
if TYPE_CHECKING:
    AspectRatioValue: TypeAlias = str
    ResolutionValue: TypeAlias = str
    ResultTypeValue: TypeAlias = str
else:
    AspectRatioValue = Literal[tuple(AspectRatio.values)]
    ResolutionValue = Literal[tuple(Resolution.values)]
    ResultTypeValue = Literal[tuple(ResultType.values)]


class ErrorDetail(Schema):
    code: str = Field(description="Stable, for programs: not_found, insufficient_scope, …")
    message: str = Field(description="For people.")
    field_errors: dict[str, list[str]] = Field(
        description="Request field → what is wrong with it (a 422, or a 409 over one field such "
        "as a name already taken; else empty)."
    )


class Error(Schema):
    error: ErrorDetail


class Budget(Schema):
    kind: Literal["person", "project", "organisation"]
    name: str
    limit: str
    used: str
    left: str
    percent: int


class Quote(Schema):
    resolution: str
    num_images: int
    series: bool = Field(description="A series: the model picks 2–9 images; 9 are held.")
    price_per_image: str
    total: str = Field(description="The price of the images asked for.")
    hold: str = Field(description="What a submit holds against the budgets now.")
    budgets: list[Budget]
    refusal: str | None = Field(
        description="The budget refusal a submit would meet now, naming the cap and what is left."
    )


class Project(Schema):
    uuid: UUID
    name: str
    role: str
    can_generate: bool
    archived: bool
    created_at: datetime


class Member(Schema):
    username: str
    display_name: str
    role: str
    joined_at: datetime


class Element(Schema):
    uuid: UUID
    name: str
    project: UUID | None
    usable: bool = Field(description="Live and created on Kling: it can go into a generation.")
    created_at: datetime


class ElementIn(Schema):
    """The element library's “Add element” form: an element already made on Kling, by its id
    (making one on Kling costs money and is the studio's “Create on Kling”)."""

    name: str = Field(description="Up to 20 characters; the prompt calls the element by it.")
    kling_element_id: str = Field(description="The id Kling gave the element.")
    note: str = Field("", description="What the element is, how it is best used.")
    project: UUID | None = Field(
        None, description="A project you own or edit in; None: your personal library."
    )
    preview: str | None = Field(
        None,
        description="A JPEG, PNG or WebP picture of it, base64-encoded (line breaks allowed; "
        "kept as a small WebP without metadata). The whole request body is at most 2.5 MB.",
    )


class ReferenceFileIn(Schema):
    """A picture to keep as your reference and use in this run, as `POST /references` keeps
    one: a JPEG, PNG, WebP or HEIC of at most 20 MB, at least 300 px on the short side."""

    filename: str = Field(
        min_length=1,
        max_length=200,
        description="Its name, for your list, without the characters that are not printable "
        "(as a page's upload); a name of none of them is refused.",
    )
    content_base64: str = Field(
        description="The file's bytes in base64 (the standard alphabet; line breaks are ignored)."
    )


class GenerationIn(Schema):
    """Every parameter of the Generate form. Elements by uuid; references by uuid
    (`references`) and uploaded in the same request (`reference_uploads`): the run uses the
    ones by uuid first, then the uploads, each in the order given; together at most 10,
    counted before anything is kept: a uuid given twice counts once, every upload counts (even
    a picture given twice, which is then kept and used once)."""

    prompt: str
    prompt_original: str = Field("", description="Your own prompt, when `prompt` is enhanced.")
    project: UUID | None = Field(None, description="None: your personal gallery.")
    aspect_ratio: AspectRatioValue = AspectRatio.AUTO.value
    resolution: ResolutionValue = Resolution.R1K.value
    result_type: ResultTypeValue = ResultType.SINGLE.value
    num_images: int | None = Field(1, description="1–9; ignored for a series.")
    references: list[UUID] = Field(
        default_factory=list,
        description="Your references, or those of a generation you may see, by uuid.",
    )
    reference_uploads: list[ReferenceFileIn] = Field(
        default_factory=list,
        max_length=MAX_REFERENCES,
        description="Pictures to keep as your references and use after `references`. Each is "
        "checked before anything is kept: a refused file is a 422 naming its index "
        "(`reference_uploads.1`). Kept only once the run passes the form's checks and the "
        "budget's; a picture you kept before is that reference again. The request is at most "
        "25 MB: send larger files through `POST /references` and their uuids here.",
    )
    elements: list[UUID] = Field(default_factory=list)


class OutputImage(Schema):
    uuid: UUID
    index: int
    width: int
    height: int
    bytes: int
    content_type: str
    sha256: str
    nsfw: bool
    trashed: bool


class GenerationFailure(Schema):
    kind: str
    code: int | None
    message: str


class Generation(Schema):
    uuid: UUID
    url: str = Field(description="Its page in the studio.")
    status: str
    state: Literal["active", "done", "failed"]
    phase: str = Field(description="What is happening, in words.")
    project: UUID | None
    owner: str
    prompt: str
    prompt_original: str
    aspect_ratio: str
    resolution: str
    result_type: str
    num_images: int
    price_per_image: str
    held: str = Field(description="What was held against the budgets when it was made.")
    cost: str | None = Field(description="What it cost, once final.")
    request: dict[str, Any] = Field(description="The exact request sent to WaveSpeed.")
    references: list[UUID]
    elements: list[UUID]
    outputs: list[OutputImage]
    failure: GenerationFailure | None
    created_at: datetime
    finished_at: datetime | None


class GenerationPage(Schema):
    items: list[Generation]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None: last.")


class MonthSpendGeneration(Schema):
    uuid: UUID
    spend: str


class NamedAmount(Schema):
    name: str
    total: str


class MySpend(Schema):
    month: str
    total: str
    by_resolution: list[NamedAmount]
    by_project: list[NamedAmount]
    generations: list[MonthSpendGeneration]
    budget: Budget | None


class ProjectSpend(Schema):
    month: str
    total: str
    by_member: list[NamedAmount]
    budget: Budget | None


class DayAmount(Schema):
    day: date
    total: str


class ReviewRun(Schema):
    """A row of the review's run tables (and of its CSV of every run)."""

    uuid: UUID
    kind: Literal["generation", "prompt enhancer", "kling element"]
    prompt: str = Field(description="The prompt; an enhancer use's text; an element's name.")
    submitted_at: datetime
    person: str = Field(description="Who pays: the username.")
    project: str | None = Field(description="The project's name; None: personal.")
    resolution: str | None = Field(description="None for a per-use price.")
    images: int | None = Field(description="Images billed; None for a per-use price.")
    status: str | None
    charged: str
    spend: str


class NearCap(Schema):
    person: str
    percent: int
    used: str
    limit: str
    left: str


class SpendReview(Schema):
    """The cost review page's tables (staff)."""

    start: date
    end: date
    total: str = Field(description="Every run submitted in the range: charges and holds.")
    by_person: list[NamedAmount]
    by_project: list[NamedAmount] = Field(description="Personal work as “Personal”.")
    by_day: list[DayAmount]
    runs: list[ReviewRun] = Field(
        description="The 10 biggest generations and enhancer uses; with `runs=all`, every paid "
        "call, oldest first (the page's CSV)."
    )
    failed: list[ReviewRun] = Field(description="The failed generations, newest first.")
    near_caps: list[NearCap] = Field(description="People at 80 % or more of their cap now.")


class ImageThumbnail(Schema):
    size: int = Field(description="Longest side in pixels.")
    width: int
    height: int
    url: str


class ImageTile(Schema):
    """An image as a gallery tile shows it."""

    uuid: UUID
    created_at: datetime
    prompt: str
    author: str = Field(description="The author's username.")
    nsfw: bool
    starred: bool = Field(description="In your favourites.")
    trashed_at: datetime | None = Field(description="Set in the trash (`status=trash`) only.")
    original_url: str
    thumbnails: list[ImageThumbnail]


class ImagePage(Schema):
    items: list[ImageTile]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None: last.")


class Image(Schema):
    uuid: UUID
    url: str = Field(description="Its page in the studio.")
    generation: UUID
    project: UUID | None
    author: str
    prompt: str
    aspect_ratio: str
    resolution: str
    index: int
    width: int
    height: int
    bytes: int
    content_type: str
    sha256: str
    nsfw: bool
    starred: bool
    created_at: datetime
    trashed_at: datetime | None
    original_url: str
    thumbnails: list[ImageThumbnail]


class Starred(Schema):
    starred: bool


class MoveIn(Schema):
    project: UUID = Field(description="A project you belong to and may move the image into.")


class Reference(Schema):
    uuid: UUID
    name: str = Field(description="The file's name when it was uploaded.")
    width: int
    height: int
    bytes: int
    content_type: str
    sha256: str
    created_at: datetime


class ReferenceUpload(Schema):
    items: list[Reference] = Field(description="Kept (a picture kept before: the same one).")
    errors: list[str] = Field(description="One message per file refused, naming it.")


class ReferencePage(Schema):
    items: list[Reference]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None: last.")


def file_facts(image: Any) -> dict[str, Any]:
    """What the API tells of an output image's stored file, wherever it lists one."""
    return {
        "index": image.index,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "content_type": image.content_type,
        "sha256": image.sha256,
        "nsfw": image.nsfw,
    }
