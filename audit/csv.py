"""CSV that a spreadsheet cannot run: every cell starting with =, +, -, @, a tab or a carriage
return gets a leading apostrophe, so it is read as text and never as a formula.

One function, `csv_lines`: the exports call it and nothing else, so it can be swapped for the
shared writer (issue 12, finding 2) in one place.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row as one CSV line (\\r\\n), with formula-looking text made inert."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    for row in rows:
        yield writer.writerow([_inert(cell) for cell in row])


def _inert(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
