"""The one-pass read of a few columns gives exactly what python-calamine and the formula scan give.

Every case compares :func:`scan_columns` with the rows of :func:`typed_columns` that hold an ID,
and says whether the one pass read the sheet itself or left it to python-calamine.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tagger.workbook import sheetscan
from tagger.workbook.readback import cell_text, keyed_rows, typed_columns
from tagger.workbook.sheetscan import scan_columns

SHEET = "用户明细"
COLUMNS = [0, 2, 3, None]  # ID, 人工标签, 备注, and a column that is not there
TEXTS = ["活跃用户", "  spaced  ", "a & b <c> \"d\" 'e'", "两行\n文字", "tab\there", "😀 emoji", "=1+1", ""]


class Formula(str):
    """A cell written as a live formula (a plain ``str`` is written as text, ``=1+1`` included)."""


def _expected(path: Path, columns: list[int | None] = COLUMNS) -> list[tuple[int, list[Any]]]:
    return [(row, values) for row, values in typed_columns(path, SHEET, columns, 2) if values[0] is not None]


def _write(path: Path, cells: list[tuple[int, int, Any]], *, constant_memory: bool = False) -> Path:
    """A Users-like sheet: headings, ``(row, column, value)`` cells (0-based, as xlsxwriter counts), formulas."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    ws = book.add_worksheet(SHEET)
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["用户ID", "分群", "人工标签", "备注", "本月活跃"])
    for row, column, value in sorted(cells, key=lambda cell: cell[:2]):
        if isinstance(value, Formula):
            ws.write_formula(row, column, value, None, "cached")
        elif isinstance(value, str):
            ws.write_string(row, column, value)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, column, value, date)
        else:
            ws.write(row, column, value)
    for row in range(1, 1 + max(cell[0] for cell in cells)):
        ws.write_formula(row, 4, f'=IF(B{row + 1}="","否","是")', None, "是")  # a computed column not asked for
    book.close()
    return path


def _typical(*, with_date: bool = False) -> list[tuple[int, int, Any]]:
    cells: list[tuple[int, int, Any]] = []
    for index, text in enumerate(TEXTS):
        row = index + 1
        cells += [(row, 0, f"u{row:03d}"), (row, 1, "新用户"), (row, 3, text)]
    cells += [(20, 0, 13912345678), (20, 2, 123), (20, 3, 45.5)]  # an ID and a label typed as numbers
    cells += [(21, 0, "u021"), (21, 2, "活跃用户"), (21, 3, Formula('=A22&"<x>"'))]  # a formula typed into 备注
    cells += [(22, 0, "u022"), (22, 2, True), (22, 3, -1.25e20)]
    cells += [(23, 2, "活跃用户"), (23, 3, "no ID on this row")]  # no ID: not a row of edits
    cells += [(24, 0, "   "), (25, 0, "u025"), (26, 0, ""), (26, 3, "an empty ID")]
    if with_date:
        cells.append((25, 3, dt.date(2024, 7, 1)))
    return cells


@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared strings", "inline strings"])
def test_text_numbers_booleans_and_formulas_read_in_one_pass(tmp_path: Path, constant_memory: bool) -> None:
    path = _write(tmp_path / "book.xlsx", _typical(), constant_memory=constant_memory)
    scanned = scan_columns(path, SHEET, COLUMNS, 2)
    assert scanned == _expected(path)
    by_row = dict(scanned)
    assert by_row[21] == [13912345678.0, 123.0, 45.5, None]  # a column mixing numbers and text keeps each type
    assert by_row[22][2] == '=A22&"<x>"'  # a live formula typed into 备注 is carried as its text
    assert by_row[8] == ["u007", None, "=1+1", None]  # text that looks like a formula stays that text
    assert [cell_text(v) for v in by_row[23]] == ["u022", "TRUE", "-125000000000000000000", ""]
    assert 25 in by_row and 24 not in by_row  # a blank ID is for the caller to skip


def test_a_date_typed_into_remarks_is_read_by_calamine(tmp_path: Path) -> None:
    path = _write(tmp_path / "dated.xlsx", _typical(with_date=True))
    assert scan_columns(path, SHEET, COLUMNS, 2) is None  # dates are python-calamine's to read
    rows = keyed_rows(path, SHEET, COLUMNS, 2)
    assert rows == _expected(path)
    assert cell_text(dict(rows)[26][2]) == "2024-07-01"


def test_an_escaped_character_is_read_by_calamine(tmp_path: Path) -> None:
    path = _write(tmp_path / "escaped.xlsx", [(1, 0, "u1"), (1, 3, "line\r\nbreak"), (2, 0, "u2"), (2, 3, "_x000D_")])
    assert scan_columns(path, SHEET, COLUMNS, 2) is None
    assert keyed_rows(path, SHEET, COLUMNS, 2) == _expected(path)


def test_the_columns_asked_for_in_any_order(tmp_path: Path) -> None:
    path = _write(tmp_path / "order.xlsx", _typical())
    columns: list[int | None] = [0, 3, 0, 2]
    assert scan_columns(path, SHEET, columns, 3) == [row for row in _expected(path, columns) if row[0] >= 3]


def test_a_workbook_saved_by_openpyxl(tmp_path: Path) -> None:
    source = _write(tmp_path / "source.xlsx", _typical())
    book = openpyxl.load_workbook(source)
    book[SHEET]["C4"] = "唤醒用户"  # typed after the workbook was written
    book[SHEET]["D5"] = "=LEN(A5)"  # a live formula
    book.save(tmp_path / "saved.xlsx")
    path = tmp_path / "saved.xlsx"
    scanned = scan_columns(path, SHEET, COLUMNS, 2)
    assert scanned is not None and scanned == _expected(path)
    assert dict(scanned)[5][2] == "=LEN(A5)"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice saves the workbook as another writer would")
def test_a_workbook_saved_by_libreoffice(tmp_path: Path) -> None:
    source = _write(tmp_path / "source.xlsx", _typical())
    out = tmp_path / "out"
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(source)], check=True, capture_output=True,
                   timeout=300)
    path = out / "source.xlsx"
    assert keyed_rows(path, SHEET, COLUMNS, 2) == _expected(path)


def test_cells_without_their_reference_first_are_left_to_calamine(tmp_path: Path) -> None:
    path = _write(tmp_path / "book.xlsx", _typical())
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(moved, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="A3" t="s">', b'<c t="s" r="A3">')
            target.writestr(item, data)
    assert scan_columns(moved, SHEET, COLUMNS, 2) is None
    assert keyed_rows(moved, SHEET, COLUMNS, 2) == _expected(moved)
    assert dict(keyed_rows(moved, SHEET, COLUMNS, 2))[3][0] == "u002"


def test_rows_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [(row, 0, f"u{row}") for row in range(1, 400)] + [(row, 3, f"备注{row}") for row in range(1, 400, 7)]
    path = _write(tmp_path / "long.xlsx", cells, constant_memory=True)
    monkeypatch.setattr(sheetscan, "CHUNK", 1000)  # a chunk ends mid-row again and again
    assert scan_columns(path, SHEET, COLUMNS, 2) == _expected(path)


@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared strings", "inline strings"])
def test_whitespace_and_character_references_as_calamine_reads_them(tmp_path: Path, constant_memory: bool) -> None:
    """Text outside xml:space="preserve" loses its outer XML whitespace; references are resolved first."""
    typed = [b"<t>  a  </t>", b"<t>   </t>", b'<t xml:space="preserve">  b  </t>', b"<t>&#9;c&#10;</t>",
             b"<t>\xe3\x80\x80d\xc2\xa0</t>", b"<t>e&#x20;&amp;&lt;</t>", b'<t xml:space="preserve"/>',
             b'<t>f</t><rPh sb="0" eb="1"><t>XYZ</t></rPh><phoneticPr fontId="1" type="noConversion"/>']
    cells = [(row, 0, f"u{row}") for row in range(1, len(typed) + 1)]
    path = _write(tmp_path / "plain.xlsx", cells + [(row, 3, f"PLACE{row}X") for row in range(1, len(typed) + 1)],
                  constant_memory=constant_memory)
    part = "xl/worksheets/sheet1.xml" if constant_memory else "xl/sharedStrings.xml"
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == part:
                for row, text in enumerate(typed, start=1):
                    data = data.replace(f"<t>PLACE{row}X</t>".encode(), text)
            target.writestr(item, data)
    scanned = scan_columns(edited, SHEET, COLUMNS, 2)
    assert scanned == _expected(edited)
    texts = ["a", None, "  b  ", "c", "\u3000d\xa0", "e &<", None, "f"]
    assert [values[2] for _, values in scanned] == texts


def test_a_workbook_saved_by_libreoffice_is_read_in_one_pass(tmp_path: Path) -> None:
    """LibreOffice's own forms (shared strings, its attribute order) need no second reader."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice saves the workbook as another writer would")
    source = _write(tmp_path / "source.xlsx", _typical())
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(source)], check=True,
                   capture_output=True, timeout=300)
    path = tmp_path / "out" / "source.xlsx"
    assert scan_columns(path, SHEET, COLUMNS, 2) == _expected(path)
