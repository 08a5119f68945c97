"""Excel error cells and formulas saved without their value, which calamine reads as blank.

``#N/A`` in a date column would silently move a user between segments, and a formula
written by a script (no cached value) would read as an empty cell. The preflight scan
notes which worksheet parts hold formulas or error cells at all; only those parts are
read again here, to name the cells.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Excel's error values, as a cell shows them (and as a csv export writes them).
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_STRING_TYPE = re.compile(rb'\bt="(?:str|s|inlineStr)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_FORMULA = re.compile(rb"<f\b")
_MARKS = re.compile(rb'\bt="e"|<f[\s>/]')


@dataclass(frozen=True)
class FormulaCell:
    """One cell calamine would read as blank though it is not: an error value, or a formula without its value."""

    letter: str
    row: int
    error: str  # the error value (``#N/A``), or "" for a formula saved without its value

    @property
    def ref(self) -> str:
        return f"{self.letter}{self.row}"


def formula_cells(path: Path, member: str) -> list[FormulaCell]:
    """The error cells and value-less formula cells of one worksheet part.

    >>> import tempfile, xlsxwriter
    >>> path = Path(tempfile.mkdtemp()) / "f.xlsx"
    >>> book = xlsxwriter.Workbook(str(path)); sheet = book.add_worksheet()
    >>> sheet.write_formula("A1", "=NA()", None, "#N/A"); sheet.write_formula("B2", "=A1", None, ""); book.close()
    0
    0
    >>> [(c.ref, c.error) for c in formula_cells(path, "xl/worksheets/sheet1.xml")]
    [('A1', '#N/A'), ('B2', '')]
    """
    with zipfile.ZipFile(path) as archive:
        data = archive.read(member)
    found: list[FormulaCell] = []
    seen = -1
    for mark in _MARKS.finditer(data):  # only the marked cells are looked at, not every cell
        start = data.rfind(b"<c ", 0, mark.start())
        if start <= seen:
            continue
        seen = start
        cell = _one_cell(data, start)
        if cell is not None:
            found.append(cell)
    return found


def _one_cell(data: bytes, start: int) -> FormulaCell | None:
    close = data.find(b">", start)
    attrs = data[start:close]
    ref = _REF.search(attrs)
    if ref is None or attrs.endswith(b"/"):
        return None
    end = data.find(b"</c>", close)
    body = data[close + 1:end if end >= 0 else len(data)]
    value = _VALUE.search(body)
    if _ERROR_TYPE.search(attrs):
        error = value[1].decode("utf-8", "replace").strip() if value else ""
        return FormulaCell(ref[1].decode(), int(ref[2]), error or "#N/A")
    if _FORMULA.search(body) and (value is None or not value[1].strip()) and not _STRING_TYPE.search(attrs):
        return FormulaCell(ref[1].decode(), int(ref[2]), "")
    return None


__all__ = ["EXCEL_ERRORS", "FormulaCell", "formula_cells"]
