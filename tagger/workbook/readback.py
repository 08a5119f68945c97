"""Read a few columns of a big sheet of tagger's own workbook back, fast and as typed.

``tagger refresh`` needs three columns of the Users sheet (ID, 人工标签, 备注) out of
twenty-five, on up to a million rows. openpyxl parses every cell and, in a sheet of
shared formulas, re-translates each formula: minutes at 100k users. python-calamine reads
the values in Rust; what it cannot say is whether a cell held a *formula*, which
refresh carries as its formula text (never as a live formula). :func:`typed_columns`
therefore scans the sheet's XML once for formulas in just the wanted columns.

The helpers below find a table by its headings (either language) and read cells as
typed; each sheet's own ``read`` (users, reach, groups, research) sits beside its writer.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence, Set
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import python_calamine as calamine
from xlsxwriter.utility import xl_cell_to_rowcol

from tagger.campaigns import day_text
from tagger.columns import column_letter, normalize_header
from tagger.i18n import LANGUAGES
from tagger.workbook.labels import HEADINGS
from tagger.workbook.rowxml import sheet_paths
from tagger.workbook.sheetscan import scan_columns

CHUNK = 1 << 24  # bytes of sheet XML scanned at a time
_OVERLAP = 1 << 16  # a formula cell split across two chunks is still seen whole

Header = tuple[int, list[str]]  # (0-based row of a table's headings, the headings normalised)


def spellings(key: str) -> set[str]:
    """A heading of :data:`~tagger.workbook.labels.HEADINGS` in every language, normalised as read."""
    return {normalize_header(HEADINGS(key, lang)) for lang in LANGUAGES}


def cell_text(cell: Any) -> str:
    """A cell as text, exactly as typed: text stays text (``=1+1`` typed as text is ``"=1+1"``).

    A real formula is carried as its formula text, never as a formula; numbers lose
    a trailing ``.0``; dates become ``YYYY-MM-DD``.
    """
    value = getattr(cell, "value", cell)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return day_text(value)
    return str(value).strip()


def header_row(rows: list[tuple[Any, ...]], needed: Sequence[Set[str]]) -> Header | None:
    """(0-based index, normalised headings) of the first row holding every one of ``needed``."""
    for index, row in enumerate(rows):
        names = [normalize_header(getattr(c, "value", None)) for c in row]
        if all(any(n in wanted for n in names) for wanted in needed):
            return index, names
    return None


def find(names: list[str], spellings: Set[str]) -> int | None:
    return next((i for i, n in enumerate(names) if n in spellings), None)


class Prefixed(frozenset[str]):
    """Spellings a heading may also *start* with, as export headers are matched after normalising.

    Ops rename ``人工标签`` to ``人工标签（确认）``; the column is still theirs. ``in``
    is true for an exact spelling or a heading that begins with one.
    """

    def __contains__(self, name: object) -> bool:
        text = str(name or "")
        return bool(text) and any(text.startswith(spelling) for spelling in frozenset.__iter__(self))


def find_heading(names: list[str], spellings: Set[str]) -> tuple[int | None, bool]:
    """(column, matched only by prefix): an exact heading wins over one that merely starts with it."""
    exact = find(names, spellings)
    if exact is not None:
        return exact, False
    return find(names, Prefixed(spellings)), True


def typed_columns(path: Path, sheet: str, columns: Sequence[int | None], first_row: int) -> list[tuple[int, list[Any]]]:
    """``(excel_row, [value per column])`` for every row from ``first_row`` (1-based) down.

    A column given as ``None`` reads as ``None``. Formula cells in the wanted columns
    come back as their formula text with a leading ``=``, as openpyxl gives them.
    """
    wanted = [c for c in columns if c is not None]
    formulas = _formulas(path, sheet, {column_letter(c) for c in wanted}) if wanted else {}
    book = calamine.CalamineWorkbook.from_path(str(path))
    try:
        rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        book.close()
    out = []
    for index in range(first_row - 1, len(rows)):
        row = rows[index]
        values = [row[c] if c is not None and c < len(row) else None for c in columns]
        out.append((index + 1, [None if v == "" else v for v in values]))
    for (row_number, col), text in formulas.items():
        if row_number >= first_row and row_number - first_row < len(out):
            values = out[row_number - first_row][1]
            for i, c in enumerate(columns):
                if c == col:
                    values[i] = text
    return out


def keyed_rows(path: Path, sheet: str, columns: Sequence[int | None], first_row: int) -> list[tuple[int, list[Any]]]:
    """The rows of :func:`typed_columns` whose first column holds a value (the rows a sheet's IDs are on).

    Read in one pass over the sheet's XML (:func:`~tagger.workbook.sheetscan.scan_columns`)
    when every wanted cell is in a form that pass reads; otherwise by :func:`typed_columns`.
    Either way the values are the same.
    """
    scanned = scan_columns(path, sheet, columns, first_row)
    if scanned is not None:
        return scanned
    return [(row, values) for row, values in typed_columns(path, sheet, columns, first_row) if values[0] is not None]


def _formulas(path: Path, sheet: str, letters: set[str]) -> dict[tuple[int, int], str]:
    """(row, column) → ``=formula`` of the formula cells in ``letters`` of ``sheet``."""
    pattern = re.compile(rb'<c r="(' + b"|".join(re.escape(x.encode()) for x in sorted(letters)) +
                         rb')(\d+)"[^>]*?>(?:<f>([^<]*)</f>|<f [^>]*?>([^<]*)</f>)')
    found: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as package:
        member = sheet_paths(package).get(sheet)
        if member is None:
            return found
        with package.open(member) as stream:
            tail = b""
            while chunk := stream.read(CHUNK):
                data = tail + chunk
                for match in pattern.finditer(data):
                    text = (match.group(3) or match.group(4) or b"").decode("utf-8")
                    column = xl_cell_to_rowcol(match.group(1).decode() + "1")[1]
                    found[(int(match.group(2)), column)] = "=" + unescape(text, {"&quot;": '"', "&apos;": "'"})
                tail = data[-_OVERLAP:]
    return found
